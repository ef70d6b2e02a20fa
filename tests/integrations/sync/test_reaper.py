"""The reaper turns runs whose worker died into abandoned runs and makes them due again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import dispatch
from integrations.models import Run, Schedule
from integrations.models.runs import RunLost
from integrations.services import run_execute, run_release


def _run(connection, status, **fields):
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    Schedule.objects.filter(pk=schedule.pk).update(
        next_run_at=timezone.now() + timedelta(minutes=20)
    )
    return Run.objects.create(
        connection=connection, schedule=schedule, dataset="suppliers", status=status, **fields
    )


def test_it_abandons_a_run_whose_heartbeat_stopped(connection, settings, queued):
    old = timezone.now() - settings.RUN_HEARTBEAT_STALE_AFTER - timedelta(seconds=1)
    run = _run(connection, Run.Status.RUNNING, started_at=old, heartbeat_at=old, requests=3)

    result = dispatch.tick()

    run.refresh_from_db()
    assert run.status == Run.Status.ABANDONED and run.error_kind == "abandoned"
    assert result.reaped == 1
    # ... and the schedule was due again at once, so the same tick queued a new run.
    assert [r.dataset for r in result.runs] == ["suppliers"]
    assert connection.request_usage.get().requests == 3


def test_it_leaves_a_beating_run_alone(connection):
    run = _run(
        connection, Run.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    assert dispatch.reap() == 0
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING


def test_it_abandons_a_run_queued_but_never_started(connection, settings):
    settings.RUN_QUEUED_STALE_AFTER = timedelta(minutes=30)
    run = _run(connection, Run.Status.QUEUED, queued_at=timezone.now() - timedelta(minutes=31))

    assert dispatch.reap() == 1
    run.refresh_from_db()
    assert run.status == Run.Status.ABANDONED
    assert run_execute(run_id=run.pk) is None  # its task, delivered late, does nothing


def test_it_stops_a_worker_whose_run_was_taken_away(connection):
    beat = timezone.now() - timedelta(minutes=1)  # due to beat again (RUN_PROGRESS_SECONDS)
    run = _run(connection, Run.Status.RUNNING, started_at=beat, heartbeat_at=beat)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.ABANDONED)

    with pytest.raises(RunLost):
        run.record_page(fetched=10)


def test_a_page_soon_after_the_last_beat_writes_nothing_until_the_runs_end(connection):
    run = _run(
        connection, Run.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )

    run.record_page(fetched=10)

    assert run.fetched == 10 and run.pages == 1
    assert Run.objects.get(pk=run.pk).fetched == 0  # written with the run's end


def test_it_lets_a_person_release_a_stuck_run(connection, superuser):
    run = _run(
        connection, Run.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )

    assert run_release(run=run, by=superuser)

    run.refresh_from_db()
    assert run.status == Run.Status.ABANDONED and "root" in run.error_message
    assert (
        run.schedule.next_run_at <= timezone.now()
        or Schedule.objects.get(pk=run.schedule_id).next_run_at <= timezone.now()
    )
