"""A customer replaces the API token of a live connection themselves: the new token is checked
with Xledger before it replaces the working one, a failing one changes nothing, and a good one
resumes a connection Xledger had stopped accepting — without staff and without a new go-live."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, Issue, Run, Schedule
from integrations.services import run_create, run_execute
from portal.models import AuditEntry

pytestmark = pytest.mark.xledger


def sync(connection, dataset="currencies") -> Run:
    schedule = Schedule.objects.get(connection=connection, dataset=dataset)
    run = run_create(schedule=schedule, trigger=Run.Trigger.MANUAL, full=True)
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def page(connection):
    return reverse("xledger_connection_token", args=[connection.pk])


def revoke_working_token(sandbox, connection):
    """Xledger stops accepting the token (its creator left): the next run notices."""
    sandbox.revoke_token(connection.reveal_token())
    assert sync(connection).status == Run.Status.FAILED
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_ATTENTION


def test_the_live_token_page_asks_for_a_new_token_with_the_owner_entity_fixed(
    customer_client, live
):
    body = customer_client.get(page(live)).content.decode()
    assert "Replace the API token of owner entity" in body
    assert 'name="token"' in body and "Check and replace the token" in body
    assert 'name="owner_entity_id"' in body and "disabled" in body
    assert "Ask your SEMINE project manager to re-check or replace" not in body
    # The first connection's own address serves the same page.
    assert "Check and replace the token" in customer_client.get("/xledger/token/").content.decode()


def test_a_bad_new_token_changes_nothing_and_the_connection_keeps_syncing(
    customer_client, live, sandbox
):
    before = (live.token_fingerprint, live.reveal_token(), live.verification)
    mail.outbox.clear()

    response = customer_client.post(page(live), {"token": sandbox.demo_tokens["revoked"]})

    body = response.content.decode()
    assert response.status_code == 200
    assert "The new token was not accepted" in body and "working token is unchanged" in body
    live.refresh_from_db()
    assert (live.token_fingerprint, live.reveal_token(), live.verification) == before
    assert live.status == Connection.Status.OK and live.is_live
    assert sync(live).status == Run.Status.SUCCEEDED  # still syncing with the working token
    assert not mail.outbox
    refused = AuditEntry.objects.get(action="token_replace_refused", customer=live.customer)
    assert refused.after["failed_checks"] == ["token"]


def test_a_token_of_another_owner_entitys_client_is_refused(customer_client, live, sandbox):
    before = live.token_fingerprint
    response = customer_client.post(page(live), {"token": sandbox.demo_tokens["client"]})
    assert "The new token was not accepted" in response.content.decode()
    live.refresh_from_db()
    assert live.token_fingerprint == before


def test_a_good_new_token_resumes_a_connection_xledger_stopped_accepting(
    customer_client, live, sandbox, pm_user, django_capture_on_commit_callbacks
):
    revoke_working_token(sandbox, live)
    assert (
        Issue.objects.filter(connection=live, kind=Issue.Kind.AUTH_FAILED)
        .exclude(status=Issue.Status.RESOLVED)
        .exists()
    )
    Schedule.objects.filter(connection=live).update(next_run_at=timezone.now() + timedelta(hours=5))
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    old_fingerprint = live.token_fingerprint
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(
            page(live),
            # A tampered owner ID is ignored: the owner entity of a live connection is fixed.
            {"token": new_token, "owner_entity_id": "999", "environment": "demo"},
        )

    assert response.status_code == 302 and response["Location"] == page(live)
    live.refresh_from_db()
    assert live.reveal_token() == new_token and live.token_fingerprint != old_fingerprint
    assert (live.owner_entity_id, live.environment) == (sandbox.owner_db_id, "production")
    assert live.status == Connection.Status.OK and live.is_live
    assert (
        not Issue.objects.filter(connection=live, kind=Issue.Kind.AUTH_FAILED)
        .exclude(status=Issue.Status.RESOLVED)
        .exists()
    )
    # What waited runs at the next tick: every enabled schedule is due now.
    due = Schedule.objects.filter(connection=live, enabled=True)
    assert due.exists() and all(s.next_run_at <= timezone.now() for s in due)
    assert sync(live).status == Run.Status.SUCCEEDED
    entry = AuditEntry.objects.get(action="token_replace", customer=live.customer)
    assert entry.before["status"] == "needs_attention" and entry.after["status"] == "ok"
    assert new_token not in str(entry.before) + str(entry.after) + entry.comment
    [notice] = mail.outbox
    assert notice.to == [pm_user.email] and "replaced" in notice.subject
    assert new_token not in notice.body and "resumes" in notice.body
    page_after = customer_client.get(page(live)).content.decode()
    assert "has replaced the old one" in page_after and "✓" in page_after


def test_a_connection_semine_paused_stays_paused(customer_client, live, sandbox):
    Connection.objects.filter(pk=live.pk).update(status=Connection.Status.PAUSED)
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    customer_client.post(page(live), {"token": new_token})
    live.refresh_from_db()
    assert live.reveal_token() == new_token and live.status == Connection.Status.PAUSED


def test_a_malformed_token_is_a_form_error_and_nothing_is_checked(customer_client, live, sandbox):
    before = sandbox.counters.total
    response = customer_client.post(page(live), {"token": "not a token!"})
    assert response.status_code == 400
    live.refresh_from_db()
    assert live.status == Connection.Status.OK
    assert sandbox.counters.total == before  # Xledger was not asked


def test_another_customers_user_cannot_reach_the_page(client, live, sandbox):
    from tests.factories import make_customer
    from tests.portal.conftest import make_customer_user

    other_user = make_customer_user(make_customer("Annen AS"), email="x@annen.example")
    client.force_login(other_user)
    assert client.get(page(live)).status_code == 404
    assert client.post(page(live), {"token": sandbox.add_token()}).status_code == 404
