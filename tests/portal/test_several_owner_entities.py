"""A customer with several Xledger owner entities: one connection each, onboarded side by side.

The sandbox holds two owner entities (a group's Norwegian and Swedish domains); each has its
own token. Token checks are live against it."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from integrations.models import ClientEntity, Connection, Schedule
from portal.golive import connection_approve_golive, customer_approve_golive
from portal.models import AuditEntry, Customer
from tests.factories import make_customer
from tests.portal.conftest import complete_setup, dimension_keys, token_form

pytestmark = pytest.mark.xledger


@pytest.fixture
def sandbox(settings, monkeypatch):
    from integrations.xledger.sandbox import Sandbox

    sb = Sandbox(suppliers=20, burst_limit=False, owners=2)
    settings.XLEDGER_API_URL = sb.url
    settings.XLEDGER_DEMO_API_URL = sb.url
    monkeypatch.setattr("integrations.clients.transport_factory", lambda connection: sb.transport())
    return sb


def second_owner(sb):
    return sb.owners[1]


def second_form(sb, **overrides):
    owner = second_owner(sb)
    data = {
        "environment": "production",
        "owner_entity_id": str(owner),
        "token": sb.owner_tokens[owner]["full"],
    }
    data.update(overrides)
    return data


def add_second(client, sb, **overrides):
    return client.post(reverse("xledger_connection_add"), second_form(sb, **overrides))


def choose_scope(client, connection):
    connection.refresh_from_db()
    verification = connection.verification
    data = {f"entity_{e['dbId']}_in_scope": "on" for e in verification["entities"]}
    data["dimensions"] = dimension_keys(verification, "Avdeling")
    return client.post(reverse("xledger_connection_scope", args=[connection.pk]), data)


def test_the_token_step_adds_another_owner_entity_checked_live(customer_client, customer, sandbox):
    complete_setup(customer_client, sandbox)
    page = customer_client.get(reverse("xledger_token")).content.decode()
    assert "Your owner entities" in page and "Add another owner entity" in page

    response = add_second(customer_client, sandbox)
    second = Connection.objects.get(customer=customer, owner_entity_id=second_owner(sandbox))
    assert response.status_code == 302
    assert response["Location"] == reverse("xledger_connection_token", args=[second.pk])
    assert second.verification["ok"] and second.status == Connection.Status.OK
    assert second.reveal_token() == sandbox.owner_tokens[second_owner(sandbox)]["full"]
    assert (
        Schedule.objects.filter(connection=second).count()
        == Schedule.objects.filter(
            connection__customer=customer, connection__owner_entity_id=sandbox.owner_db_id
        ).count()
    )
    # Its own checklist and entities: none of the first owner entity's.
    first = Connection.objects.get(customer=customer, owner_entity_id=sandbox.owner_db_id)
    first_ids = {e["dbId"] for e in first.verification["entities"]}
    second_ids = {e["dbId"] for e in second.verification["entities"]}
    assert second_ids and not first_ids & second_ids
    assert AuditEntry.objects.filter(action="connection_add", customer=customer).count() == 2

    # Both are listed, each with its own pages.
    page = customer_client.get(reverse("xledger_token")).content.decode()
    assert str(sandbox.owner_db_id) in page and str(second_owner(sandbox)) in page
    assert reverse("xledger_connection_token", args=[second.pk]) in page


def test_confirmation_needs_every_owner_entity_done(customer_client, customer, sandbox):
    complete_setup(customer_client, sandbox)
    add_second(customer_client, sandbox)
    second = Connection.objects.get(owner_entity_id=second_owner(sandbox))
    # Verified but no scope yet: the third task is not done, confirming is refused.
    home = customer_client.get("/").content.decode()
    assert "Confirm that the setup is done" not in home
    customer_client.post("/confirm/")
    customer.refresh_from_db()
    assert customer.onboarding_status != Customer.Status.SUBMITTED

    assert choose_scope(customer_client, second).status_code == 302
    assert ClientEntity.objects.filter(connection=second, in_scope=True).exists()
    customer_client.post("/confirm/")
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED


def test_a_failing_second_token_keeps_the_first_and_blocks_confirmation(
    customer_client, customer, sandbox
):
    complete_setup(customer_client, sandbox)
    owner = second_owner(sandbox)
    response = add_second(customer_client, sandbox, token=sandbox.owner_tokens[owner]["revoked"])
    assert response.status_code == 200
    second = Connection.objects.get(owner_entity_id=owner)
    assert not second.verification.get("ok")
    first = Connection.objects.get(owner_entity_id=sandbox.owner_db_id)
    assert first.verification["ok"]
    customer_client.post("/confirm/")
    customer.refresh_from_db()
    assert customer.onboarding_status != Customer.Status.SUBMITTED
    # Never live, so the customer may take it back.
    response = customer_client.post(reverse("xledger_connection_discard", args=[second.pk]))
    assert response.status_code == 302
    assert not Connection.objects.filter(pk=second.pk).exists()
    customer_client.post("/confirm/")
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED


def test_the_same_owner_entity_twice_on_this_customer_is_refused(
    customer_client, customer, sandbox
):
    complete_setup(customer_client, sandbox)
    response = customer_client.post(reverse("xledger_connection_add"), token_form(sandbox))
    body = response.content.decode()
    assert response.status_code == 400
    assert "You have connected this owner entity already" in body
    assert f'value="{sandbox.owner_db_id}"' in body  # what was typed is kept
    assert Connection.objects.filter(customer=customer).count() == 1


def test_an_owner_entity_of_another_customer_is_refused_and_never_stored(
    customer_client, customer, sandbox
):
    other = make_customer("Andre Kunde AS", country="NO")
    taken = Connection.objects.create(
        customer=other, owner_entity_id=second_owner(sandbox), environment="production"
    )
    complete_setup(customer_client, sandbox)
    requests = sandbox.request_count
    response = add_second(customer_client, sandbox)
    body = response.content.decode()
    assert response.status_code == 400
    assert "already connected to another SEMINE customer; contact your project manager" in body
    assert "Andre Kunde" not in body  # whose it is stays theirs
    assert Connection.objects.filter(customer=customer).count() == 1
    assert sandbox.request_count == requests  # not even checked
    # Changing the first connection's owner ID to the taken one is refused as well.
    first = Connection.objects.get(customer=customer)
    response = customer_client.post(
        reverse("xledger_connection_token", args=[first.pk]),
        token_form(sandbox, owner_entity_id=str(second_owner(sandbox)), token=""),
    )
    assert response.status_code == 400
    first.refresh_from_db()
    assert first.owner_entity_id == sandbox.owner_db_id
    # The same ID in the other environment is another owner entity: accepted.
    response = add_second(customer_client, sandbox, environment="demo")
    assert response.status_code == 302
    assert Connection.objects.filter(
        customer=customer, owner_entity_id=second_owner(sandbox), environment="demo"
    ).exists()
    taken.refresh_from_db()
    assert taken.customer_id == other.pk


def test_two_owner_entities_go_live_together(customer_client, customer, sandbox, pm_user):
    complete_setup(customer_client, sandbox)
    add_second(customer_client, sandbox)
    choose_scope(customer_client, Connection.objects.get(owner_entity_id=second_owner(sandbox)))
    customer_client.post("/confirm/")
    runs = customer_approve_golive(customer=customer, by=pm_user)
    connections = list(Connection.objects.filter(customer=customer))
    assert len(connections) == 2 and all(c.is_live for c in connections)
    assert {run.connection_id for run in runs} == {c.pk for c in connections}
    home = customer_client.get("/").content.decode()
    for connection in connections:
        assert f"Owner entity {connection.owner_entity_id}" in home


def test_an_owner_entity_added_after_go_live_is_approved_on_its_own(
    customer_client, customer, sandbox, pm_user, django_capture_on_commit_callbacks
):
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    customer_approve_golive(customer=customer, by=pm_user)
    first = Connection.objects.get(customer=customer)
    first_schedules = {
        s.dataset: (s.enabled, s.next_run_at) for s in Schedule.objects.filter(connection=first)
    }

    assert add_second(customer_client, sandbox).status_code == 302
    second = Connection.objects.get(owner_entity_id=second_owner(sandbox))
    assert not second.is_live
    # Not scoped yet: asking for approval is refused.
    customer_client.post(reverse("xledger_connection_approval", args=[second.pk]))
    second.refresh_from_db()
    assert second.approval_requested_at is None

    choose_scope(customer_client, second)
    home = customer_client.get("/").content.decode()
    assert "Ask SEMINE to take it live" in home
    mail.outbox.clear()
    response = customer_client.post(reverse("xledger_connection_approval", args=[second.pk]))
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.awaits_approval
    (message,) = mail.outbox
    assert message.to == [pm_user.email]
    assert f"owner entity {second.owner_entity_id}" in message.subject
    assert f"/admin/integrations/connection/{second.pk}/change/" in message.body
    assert sandbox.owner_tokens[second_owner(sandbox)]["full"] not in message.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        runs = connection_approve_golive(connection=second, by=pm_user)
    second.refresh_from_db()
    assert second.is_live and runs and {r.connection_id for r in runs} == {second.pk}
    # The first kept running, untouched.
    assert {
        s.dataset: (s.enabled, s.next_run_at) for s in Schedule.objects.filter(connection=first)
    } == first_schedules
    assert AuditEntry.objects.filter(action="connection_golive_approved").count() == 1
    assert any(f"owner entity {second.owner_entity_id}" in m.subject for m in mail.outbox)
    # Once live, its owner entity is fixed like the first's: the page only replaces the token.
    response = customer_client.post(
        reverse("xledger_connection_token", args=[second.pk]),
        second_form(sandbox, owner_entity_id=str(sandbox.owner_db_id)),
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.owner_entity_id == second_owner(sandbox) and second.is_live


def test_a_live_owner_entity_cannot_be_discarded_by_the_customer(
    customer_client, customer, sandbox, pm_user
):
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    customer_approve_golive(customer=customer, by=pm_user)
    first = Connection.objects.get(customer=customer)
    customer_client.post(reverse("xledger_connection_discard", args=[first.pk]))
    assert Connection.objects.filter(pk=first.pk).exists()


def test_intervals_are_asked_for_per_owner_entity(customer_client, customer, sandbox, pm_user):
    complete_setup(customer_client, sandbox)
    add_second(customer_client, sandbox)
    second = Connection.objects.get(owner_entity_id=second_owner(sandbox))
    home = customer_client.get("/").content.decode()
    assert 'name="connection"' in home and f'value="{second.pk}"' in home
    response = customer_client.post(
        reverse("interval_request"),
        {
            "connection": str(second.pk),
            "dataset": "suppliers",
            "amount": "10",
            "unit": "minutes",
            "reason": "Suppliers change often in Sweden.",
        },
    )
    assert response.status_code == 302
    assert second.interval_requests.get().dataset == "suppliers"
    first = Connection.objects.get(owner_entity_id=sandbox.owner_db_id)
    assert not first.interval_requests.exists()


def test_removed_connections_are_not_listed_to_the_customer(customer_client, customer, sandbox):
    complete_setup(customer_client, sandbox)
    add_second(customer_client, sandbox)
    second = Connection.objects.get(owner_entity_id=second_owner(sandbox))
    Connection.objects.filter(pk=second.pk).update(
        removed_at=timezone.now(), status=Connection.Status.REMOVED
    )
    page = customer_client.get(reverse("xledger_token")).content.decode()
    assert reverse("xledger_connection_token", args=[second.pk]) not in page
    assert (
        customer_client.get(reverse("xledger_connection_token", args=[second.pk])).status_code
        == 404
    )
