"""A run that finds nothing is the fleet's most common run: it costs one Xledger request and at
most six SQL statements end to end (the worker's side; the dispatcher's claim is counted per
batch in test_dispatch_in_bulk.py)."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from integrations.models import Issue, Run, Schedule
from integrations.services import run_create, run_execute
from tests.integrations.sync.conftest import sync_now

INCREMENTAL = ["suppliers", "accounts"]


def _quiet_run(connection, dataset):
    sync_now(connection, dataset, full=True)
    schedule = Schedule.objects.get(connection=connection, dataset=dataset)
    run = run_create(schedule=schedule, trigger=Run.Trigger.SCHEDULED)
    assert not run.full
    with CaptureQueriesContext(db) as queries:
        run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run, queries


@pytest.mark.parametrize("dataset", INCREMENTAL)
def test_a_quiet_incremental_run_costs_one_request_and_at_most_six_statements(connection, dataset):
    run, queries = _quiet_run(connection, dataset)

    assert run.status == Run.Status.SUCCEEDED
    assert (run.created, run.updated, run.deleted) == (0, 0, 0)
    assert run.requests == 1
    # The test's own transaction turns the worker's atomic block into a savepoint; in a worker
    # it is the outermost transaction and sends no statement of its own.
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 6, "\n".join(statements)


def test_a_quiet_run_still_moves_the_schedule_on(connection):
    run, _ = _quiet_run(connection, "suppliers")

    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    assert schedule.last_success_at == run.finished_at
    assert schedule.failure_streak == 0


def test_a_success_after_failures_still_resolves_the_dataset_issue(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    Schedule.objects.filter(pk=schedule.pk).update(failure_streak=3)
    Issue.objects.create(
        connection=connection, kind=Issue.Kind.DATASET_FAILING, dataset="suppliers", title="x"
    )

    run = sync_now(connection, "suppliers")

    assert run.status == Run.Status.SUCCEEDED
    assert not Issue.objects.exclude(status=Issue.Status.RESOLVED).exists()
    schedule.refresh_from_db()
    assert schedule.failure_streak == 0
