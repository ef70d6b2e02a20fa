"""A token Xledger refuses stops the connection: one Issue, one e-mail, until re-verified."""

from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from integrations import dispatch
from integrations.models import Connection, Issue, Run, Schedule
from integrations.services import connection_reverify
from portal.models import Contact

from .conftest import sync_now


def _people(connection):
    customer = connection.customer
    customer.project_manager = User.objects.create_user("kari", "kari@semine.example")
    customer.save()
    Contact.objects.create(customer=customer, role="project", name="P", email="p@kunde.example")
    Contact.objects.create(customer=customer, role="finance", name="F", email="f@kunde.example")
    Contact.objects.create(customer=customer, role="it_partner", name="I", email="i@it.example")


def test_it_opens_one_issue_and_sends_one_e_mail(
    connection, sandbox, django_capture_on_commit_callbacks
):
    _people(connection)
    sandbox.revoke_token(sandbox.demo_tokens["full"])

    with django_capture_on_commit_callbacks(execute=True):
        first = sync_now(connection, "suppliers")
        second = sync_now(connection, "currencies")  # queued before the first one failed
        Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.OK)
        third = sync_now(connection, "accounts")  # even if it fails again later

    assert first.status == Run.Status.FAILED and first.error_kind == "auth"
    assert second.error_kind == "connection" and second.requests == 0
    assert third.error_kind == "auth"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_ATTENTION
    issue = Issue.objects.get(connection=connection)
    assert issue.kind == Issue.Kind.AUTH_FAILED and issue.occurrences == 2
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == [
        "f@kunde.example",
        "kari@semine.example",
        "p@kunde.example",
    ]
    assert sandbox.demo_tokens["full"] not in mail.outbox[0].body


def test_it_stops_asking_xledger_for_that_connection(connection, sandbox, queued):
    sandbox.revoke_token(sandbox.demo_tokens["full"])
    sync_now(connection, "suppliers")
    Schedule.objects.filter(connection=connection).update(next_run_at=timezone.now())
    before = sandbox.request_count

    assert dispatch.tick().runs == []
    assert sandbox.request_count == before


def test_it_treats_a_missing_permission_the_same_way(connection, sandbox):
    sandbox.set_scopes(sandbox.demo_tokens["full"], {"currencies", "entities"})

    run = sync_now(connection, "suppliers")

    assert run.error_kind == "permission"
    assert Issue.objects.get(connection=connection).kind == Issue.Kind.PERMISSION_MISSING


def test_it_resumes_after_a_good_token_is_verified(connection, sandbox, queued):
    sandbox.revoke_token(sandbox.demo_tokens["full"])
    sync_now(connection, "suppliers")
    connection.refresh_from_db()
    connection.set_token(sandbox.add_token())
    connection.save()

    verification = connection_reverify(connection=connection)

    assert verification.ok, verification.to_dict()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.OK
    assert Issue.objects.get(connection=connection).status == Issue.Status.RESOLVED
    assert {r.dataset for r in dispatch.tick().runs} >= {"suppliers", "currencies"}


def test_it_keeps_the_issue_when_the_token_is_still_bad(connection, sandbox):
    sandbox.revoke_token(sandbox.demo_tokens["full"])
    sync_now(connection, "suppliers")

    verification = connection_reverify(connection=connection)

    assert not verification.ok
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_ATTENTION
    assert Issue.objects.exclude(status=Issue.Status.RESOLVED).count() == 1
