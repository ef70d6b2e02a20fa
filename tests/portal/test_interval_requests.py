"""A customer asks for another interval from the home page and sees the intervals in force and
the project manager's answer."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from integrations.models import IntervalRequest, Schedule
from portal.interval_requests import interval_request_create, interval_request_decide
from portal.models import AuditEntry
from tests.factories import make_connection, make_customer
from tests.portal.conftest import make_customer_user


@pytest.fixture
def connection(customer):
    return make_connection(customer)


def _ask(client, connection, headers=None, **data):
    return client.post(
        "/intervals/request/",
        {
            "connection": connection.pk,
            "dataset": "currencies",
            "amount": "12",
            "unit": "hours",
            "reason": "Our rates change at noon",
            **data,
        },
        headers=headers,
    )


def test_it_shows_the_intervals_in_force(customer_client, connection):
    Schedule.objects.filter(connection=connection, dataset="accounts").update(
        interval_override=timedelta(hours=2), override_reason="trial"
    )
    body = customer_client.get("/").content.decode()
    assert "Synchronisation intervals" in body
    assert "Supplier register</th>" in body and "every 30 min" in body
    assert "every 2 h" in body and "default: 1 d" in body
    assert 'action="/intervals/request/"' in body


def test_it_asks_and_the_pm_is_told(
    customer_client, customer_user, connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(customer_client, connection)
    assert response.status_code == 302
    request = IntervalRequest.objects.get()
    assert request.connection == connection and request.dataset == "currencies"
    assert request.interval == timedelta(hours=12) and request.requested_by == customer_user
    assert request.status == IntervalRequest.Status.PENDING
    entry = AuditEntry.objects.get(action="interval_requested")
    assert entry.actor == customer_user and entry.comment == "Our rates change at noon"
    assert entry.before["interval"] == "1 d" and entry.after["interval"] == "12 h"
    [message] = mail.outbox
    assert message.to == ["pm@semine.example"]
    assert "Our rates change at noon" in message.body and "12 h" in message.body
    assert f"/admin/integrations/connection/{connection.pk}/intervals/" in message.body
    body = customer_client.get("/").content.decode()
    assert "Waiting for the project manager" in body and "every 12 h" in body
    # Nothing changes before the project manager accepts.
    assert (
        Schedule.objects.get(connection=connection, dataset="currencies").interval_override is None
    )


@pytest.mark.parametrize(
    "data, error",
    [
        ({"amount": "2", "unit": "minutes"}, "at least 5 minutes"),
        ({"amount": "8", "unit": "days"}, "at most 7 days"),
        ({"amount": str(10**12), "unit": "days"}, "at most 7 days"),  # beyond a timedelta
        ({"reason": ""}, "This field is required"),
        ({"amount": "1", "unit": "days", "dataset": "currencies"}, "already the interval"),
    ],
)
def test_it_says_what_to_fix_and_keeps_what_was_typed(customer_client, connection, data, error):
    response = _ask(customer_client, connection, **{"reason": "Kept reason text", **data})
    assert response.status_code == 200
    body = response.content.decode()
    assert "problem to fix" in body and error in body
    if data.get("reason", "x"):
        assert "Kept reason text" in body
    assert f'value="{data["amount"]}"' in body if "amount" in data else True
    assert not IntervalRequest.objects.exists()
    assert not AuditEntry.objects.filter(action="interval_requested").exists()


def test_a_new_request_replaces_the_pending_one(customer_client, connection):
    _ask(customer_client, connection, amount="12")
    _ask(customer_client, connection, amount="6", reason="Actually every 6 hours")
    _ask(customer_client, connection, dataset="suppliers", amount="15", unit="minutes")
    statuses = dict(
        IntervalRequest.objects.filter(dataset="currencies").values_list("interval", "status")
    )
    assert statuses == {timedelta(hours=12): "withdrawn", timedelta(hours=6): "pending"}
    assert IntervalRequest.objects.filter(status="pending").count() == 2


def test_the_database_allows_one_pending_request_per_dataset(customer_user, connection):
    interval_request_create(
        connection=connection,
        dataset="suppliers",
        interval=timedelta(hours=1),
        reason="x",
        by=customer_user,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        IntervalRequest.objects.create(
            connection=connection, dataset="suppliers", interval=timedelta(hours=2), reason="y"
        )


def test_the_answer_is_shown(customer_client, customer_user, connection, pm_user):
    request = interval_request_create(
        connection=connection,
        dataset="currencies",
        interval=timedelta(hours=12),
        reason="x",
        by=customer_user,
    )
    interval_request_decide(
        request=request, accept=False, answer="Once a day is enough.", by=pm_user
    )
    body = customer_client.get("/").content.decode()
    assert "Declined" in body and "Once a day is enough." in body


def test_another_customers_user_cannot_ask_for_this_connection(client, connection):
    other = make_customer("Other AS")
    make_connection(other, owner_entity_id=20002)
    eve = make_customer_user(other, "eve@other.example")
    client.force_login(eve)
    assert _ask(client, connection).status_code == 404
    with pytest.raises(PermissionDenied):  # nor through the service
        interval_request_create(
            connection=connection,
            dataset="suppliers",
            interval=timedelta(hours=1),
            reason="x",
            by=eve,
        )
    assert not IntervalRequest.objects.exists()


def test_staff_and_strangers_cannot_ask(client, pm_user, connection):
    response = _ask(client, connection)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(pm_user)
    assert _ask(client, connection).status_code == 302  # sent to the admin, nothing stored
    assert not IntervalRequest.objects.exists()


def test_it_speaks_norwegian(customer_client, connection, compiled_catalog):
    body = customer_client.get("/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Synkroniseringsintervaller" in body and "Be om et annet intervall" in body
    response = _ask(
        customer_client, connection, amount="2", unit="minutes", headers={"accept-language": "nb"}
    )
    body = response.content.decode()
    assert "minst 5 minutter" in body


def test_the_customer_is_told_in_their_language(
    customer_client,
    customer_user,
    connection,
    pm_user,
    compiled_catalog,
    django_capture_on_commit_callbacks,
):
    customer_client.get("/", HTTP_ACCEPT_LANGUAGE="nb")  # remembered as the user's language
    request = interval_request_create(
        connection=connection,
        dataset="currencies",
        interval=timedelta(hours=12),
        reason="x",
        by=customer_user,
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        interval_request_decide(request=request, accept=True, answer="Greit.", by=pm_user)
    to_customer = [m for m in mail.outbox if customer_user.email in m.to]
    assert len(to_customer) == 1
    assert "godtatt" in to_customer[0].subject and "Greit." in to_customer[0].body
