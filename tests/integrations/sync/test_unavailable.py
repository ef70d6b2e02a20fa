"""Errors Xledger does not explain (a maintenance window): retried, then deferred, never a failed
run or an Issue until it lasts; a token refused in unknown words is still recognised."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from integrations.models import Connection, Issue, Run, Schedule

from .conftest import sync_now


def test_a_maintenance_window_defers_runs_without_an_issue(connection, sandbox):
    sandbox.set_fault("maintenance")

    runs = [sync_now(connection, "currencies") for _ in range(4)]

    assert {r.status for r in runs} == {Run.Status.DEFERRED}
    assert {r.error_kind for r in runs} == {"unavailable"}
    assert runs[0].requests == 3  # the client's two attempts, then the token check once
    assert not Issue.objects.filter(connection=connection).exists()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.OK
    schedule = Schedule.objects.get(connection=connection, dataset="currencies")
    assert schedule.next_run_at is not None  # tried again later, with backoff

    sandbox.clear_faults()
    run = sync_now(connection, "currencies")
    assert run.status == Run.Status.SUCCEEDED, run.error_message


@override_settings(XLEDGER_UNAVAILABLE_GRACE_HOURS=6)
def test_it_tells_a_person_when_xledger_stays_unavailable(connection, sandbox):
    sandbox.set_fault("maintenance")
    first = sync_now(connection, "currencies")
    Run.objects.filter(pk=first.pk).update(finished_at=timezone.now() - timedelta(hours=7))

    sync_now(connection, "currencies")

    issue = Issue.objects.get(connection=connection, kind=Issue.Kind.DATASET_FAILING)
    assert issue.dataset == "currencies" and "unavailable" in issue.title


def test_a_token_refused_in_unknown_words_stops_the_connection(connection, sandbox):
    """A revoked token answered HTTP 200 with an unexplained error: the run checks the token
    once and the connection needs attention instead of being deferred for ever."""
    sandbox.set_fault("maintenance", field="currencies")
    sandbox.revoke_token(sandbox.demo_tokens["full"])

    run = sync_now(connection, "currencies")

    assert run.status == Run.Status.FAILED and run.error_kind == "auth"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_ATTENTION
