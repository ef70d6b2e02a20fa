from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from integrations.datasets import DEFAULT_INTERVALS, Dataset
from integrations.models import Schedule
from tests.factories import make_connection


def test_default_intervals_match_the_design_table():
    assert DEFAULT_INTERVALS == {
        Dataset.SUPPLIERS: timedelta(minutes=30),
        Dataset.CURRENCIES: timedelta(hours=24),
        Dataset.DIMENSIONS: timedelta(hours=6),
        Dataset.VAT_CODES: timedelta(hours=24),
        Dataset.ACCOUNTS: timedelta(hours=24),
        Dataset.FIXED_ASSETS: timedelta(hours=6),
        Dataset.INVOICES: timedelta(minutes=5),
    }


def test_it_creates_one_schedule_per_dataset_once(db):
    conn = make_connection()
    Schedule.ensure_for(conn)
    schedules = Schedule.objects.filter(connection=conn)
    assert sorted(s.dataset for s in schedules) == sorted(Dataset.values)
    assert {s.dataset: s.interval for s in schedules} == DEFAULT_INTERVALS


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (timedelta(minutes=4), "The interval must be at least 5 minutes (you entered 4 min)."),
        (timedelta(days=8), "The interval must be at most 7 days (you entered 8 d)."),
    ],
)
def test_it_rejects_bad_intervals_with_a_clear_message(db, value, message):
    schedule = make_connection().schedules.get(dataset=Dataset.SUPPLIERS)
    schedule.interval_override = value
    schedule.override_reason = "Customer asked"
    with pytest.raises(ValidationError) as info:
        schedule.full_clean()
    assert info.value.message_dict["interval_override"] == [message]


def test_it_accepts_the_bounds_and_requires_a_reason(db):
    schedule = make_connection().schedules.get(dataset=Dataset.SUPPLIERS)
    schedule.interval_override = timedelta(minutes=5)
    with pytest.raises(ValidationError) as info:
        schedule.full_clean()
    assert "override_reason" in info.value.message_dict
    schedule.override_reason = "Month-end close"
    schedule.full_clean()
    schedule.interval_override = timedelta(days=7)
    schedule.full_clean()
    assert schedule.interval == timedelta(days=7)


def test_the_admin_form_shows_the_interval_message(db, superuser, client):
    schedule = make_connection().schedules.get(dataset=Dataset.SUPPLIERS)
    client.force_login(superuser)
    # Intervals are overridden on the connection's intervals page (reason, request estimate,
    # project manager told); the schedule's own admin page is read-only.
    response = client.post(
        f"/admin/integrations/connection/{schedule.connection_id}/intervals/",
        {"dataset": "suppliers", "amount": "2", "unit": "minutes", "reason": "test"},
    )
    assert response.status_code == 200
    assert "The interval must be at least 5 minutes" in response.content.decode()
