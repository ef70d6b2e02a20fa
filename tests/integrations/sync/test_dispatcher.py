"""The dispatcher queues one run per due schedule of a live, healthy connection."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule as QSchedule

from integrations import dispatch
from integrations.models import Connection, DispatcherTick, Run, Schedule
from integrations.services import run_execute

from .conftest import sync_now


def _due(connection, dataset="suppliers", **fields):
    Schedule.objects.filter(connection=connection, dataset=dataset).update(
        next_run_at=timezone.now() - timedelta(seconds=5), **fields
    )
    return Schedule.objects.get(connection=connection, dataset=dataset)


def test_it_queues_a_due_schedule_once(connection, queued, django_capture_on_commit_callbacks):
    schedule = _due(connection)
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        first = dispatch.tick(now)
        second = dispatch.tick(now)

    assert [r.dataset for r in first.runs] == ["suppliers"] and second.runs == []
    run = first.runs[0]
    assert queued == [run.pk]  # the task gets the run id, nothing else
    assert run.trigger == Run.Trigger.SCHEDULED and run.full  # never fully synced yet
    schedule.refresh_from_db()
    assert schedule.next_run_at == schedule.next_due_after(now) > now


@pytest.mark.parametrize(
    "change",
    [
        {"live_since": None},
        {"status": Connection.Status.PAUSED},
        {"status": Connection.Status.NEEDS_ATTENTION},
    ],
    ids=["not live", "paused", "needs attention"],
)
def test_it_skips_connections_that_must_not_call_xledger(connection, queued, change):
    _due(connection)
    Connection.objects.filter(pk=connection.pk).update(**change)

    assert dispatch.tick().runs == [] and queued == []


def test_it_skips_disabled_schedules(connection, queued):
    _due(connection, enabled=False)
    assert dispatch.tick().runs == []


def test_it_skips_a_schedule_whose_run_is_still_going(connection, queued):
    schedule = _due(connection)
    Run.objects.create(
        connection=connection,
        schedule=schedule,
        dataset="suppliers",
        status=Run.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    assert dispatch.tick().runs == []
    schedule.refresh_from_db()
    assert schedule.next_run_at < timezone.now()  # still due: it runs once the run ends


def test_it_claims_with_a_conditional_update(connection, queued):
    schedule = _due(connection)
    now = timezone.now()

    assert len(dispatch._claim_batch([schedule], now)) == 1
    # A second dispatcher that read the same row before the first one claimed it:
    assert dispatch._claim_batch([schedule], now) == []
    assert Run.objects.filter(connection=connection, dataset="suppliers").count() == 1


def test_it_runs_incrementally_after_a_full_sync_and_retries_failures(connection, queued, sandbox):
    sync_now(connection, "suppliers", full=True)
    _due(connection)
    run = dispatch.tick().runs[0]
    assert not run.full and run.trigger == Run.Trigger.SCHEDULED

    sandbox.set_fault("http_500")
    run_execute(run_id=run.pk)
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    assert schedule.failure_streak == 1
    assert schedule.next_run_at <= timezone.now() + timedelta(minutes=1)  # sooner than 30 min

    retry = dispatch.tick(schedule.next_run_at + timedelta(seconds=1)).runs[0]
    assert retry.trigger == Run.Trigger.RETRY


def test_it_records_each_tick(connection):
    now = timezone.now()
    dispatch.tick(now)
    assert DispatcherTick.last().ticked_at == now


def test_it_keeps_one_django_q_schedule_for_the_dispatcher(db):
    dispatch.ensure_dispatcher_schedule()
    dispatch.ensure_dispatcher_schedule()

    schedule = QSchedule.objects.get(name=dispatch.DISPATCHER_SCHEDULE_NAME)
    assert schedule.func == "integrations.tasks.dispatch_tick"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        QSchedule.MINUTES,
        1,
        -1,
    )


def test_it_ticks_from_the_command_line(connection, queued, capsys):
    from django.core.management import call_command

    _due(connection)
    call_command("dispatcher")
    assert "queued 1, reaped 0" in capsys.readouterr().out


def test_it_keeps_tasks_thin(connection, queued, sandbox):
    from integrations import tasks

    _due(connection, dataset="currencies")
    assert tasks.dispatch_tick() == "1 queued, 0 reaped"
    run = Run.objects.get(connection=connection, dataset="currencies")
    assert tasks.run_sync(run.pk) == f"run {run.pk}: succeeded"
    assert tasks.run_sync(run.pk) == f"run {run.pk}: not queued"  # delivered twice: runs once


def test_a_run_queued_just_after_a_full_sync_ended_is_not_full_again(connection):
    """The dispatcher read the schedule while the go-live full sync was still running; by the
    time its run is inserted that sync has ended: the new run reads the schedule again."""
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    stale = Schedule.objects.get(pk=schedule.pk)  # as the dispatcher loaded it: no full sync yet
    assert stale.last_full_sync_at is None
    Schedule.objects.filter(pk=schedule.pk).update(last_full_sync_at=timezone.now())

    run = Run.queue(schedule=stale, trigger=Run.Trigger.SCHEDULED)

    assert not run.full
    run.refresh_from_db()
    assert not run.full
