from datetime import timedelta

from django.core.management import call_command
from django.test import override_settings
from django_q.models import Schedule as QSchedule

from integrations.models import Run
from integrations.retention import SCHEDULE_NAME
from tests.admin_builders import make_run
from tests.factories import make_connection


@override_settings(RUN_RETENTION_SUCCESS_DAYS=30, RUN_RETENTION_FAILURE_DAYS=180)
def test_it_keeps_failures_longer_than_successes(db):
    conn = make_connection()
    old_ok = make_run(conn, "suppliers", ago=timedelta(days=40))
    latest_ok = make_run(conn, "suppliers", ago=timedelta(days=35))
    recent_ok = make_run(conn, "currencies", ago=timedelta(days=5))
    old_failed = make_run(conn, "suppliers", status="failed", ago=timedelta(days=40))
    ancient_failed = make_run(conn, "suppliers", status="failed", ago=timedelta(days=200))
    stuck = make_run(conn, "accounts", status="running", ago=timedelta(days=400))
    only_ok = make_run(conn, "vat_codes", ago=timedelta(days=300))  # its dataset's last success
    call_command("prune_runs", "--schedule")
    left = set(Run.objects.values_list("pk", flat=True))
    assert old_ok.pk not in left and ancient_failed.pk not in left
    assert {latest_ok.pk, recent_ok.pk, old_failed.pk, stuck.pk, only_ok.pk} <= left
    # The daily schedule exists once, however often this runs.
    call_command("prune_runs", "--schedule")
    assert QSchedule.objects.filter(name=SCHEDULE_NAME).count() == 1


def test_migrate_creates_the_daily_prune_schedule(db):
    schedule = QSchedule.objects.get(name=SCHEDULE_NAME)
    assert schedule.func == "integrations.retention.prune_runs"
    assert schedule.schedule_type == QSchedule.DAILY
