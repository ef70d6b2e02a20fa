"""A query Xledger's schema does not accept: never retried, one Issue for staff, the dataset's
scheduled runs stop spending requests until a resync succeeds."""

from datetime import timedelta

from django.utils import timezone

from integrations import dispatch
from integrations.models import Issue, Run, Schedule
from integrations.services import resync, run_execute
from integrations.xledger import queries

from .conftest import sync_now


def test_it_stops_the_dataset_and_asks_staff_once(connection, sandbox, monkeypatch, queued):
    wrong = queries.CURRENCIES.__class__(
        "currencies", "currencies", "dbId code description exchangeRateGuess"
    )
    before = sandbox.request_count
    with monkeypatch.context() as patched:
        patched.setattr(queries, "CURRENCIES", wrong)
        run = sync_now(connection, "currencies")

    assert run.status == Run.Status.FAILED and run.error_kind == "schema"
    assert run.requests == 1 == sandbox.request_count - before  # never retried
    issue = Issue.objects.get(connection=connection, kind=Issue.Kind.SCHEMA_MISMATCH)
    assert issue.dataset == "currencies" and "exchangeRateGuess" in issue.detail
    assert "currencies" in issue.detail  # the query's name
    schedule = Schedule.objects.get(connection=connection, dataset="currencies")
    assert schedule.next_run_at is None  # the dispatcher will not pick it again
    dispatch.tick(now=timezone.now() + timedelta(days=3))
    assert not Run.objects.filter(
        connection=connection, dataset="currencies", status=Run.Status.QUEUED
    ).exists()

    # Fixed (here: the real query again), a person resyncs: the schedule is back on its grid.
    (again,) = resync(connection=connection, dataset="currencies")
    run_execute(run_id=again.pk)
    again.refresh_from_db()
    assert again.status == Run.Status.SUCCEEDED, again.error_message
    schedule.refresh_from_db()
    assert schedule.next_run_at is not None and schedule.failure_streak == 0
    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED
