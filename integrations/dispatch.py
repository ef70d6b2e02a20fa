"""The dispatcher: what is due, claiming it safely, handing it to the queue, and the reaper.

django-q2 runs the work; our own tables decide what is due. One django-q2 schedule (fixed name,
created idempotently) calls `tick()` every minute; `manage.py dispatcher --every N` runs the same
tick in a loop where a faster pace is wanted (tests, `make run`).

Several ticks may run at once on several machines. A schedule is claimed by moving its
`next_run_at` from the value we read to the next grid point with a conditional UPDATE (only one
claimer's UPDATE matches); on PostgreSQL the due rows are also locked with
`SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent ticks split the work instead of queueing
behind each other. The database's unique constraint on active runs is the last word: a
connection × dataset never has two queued/running runs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.models import Connection, DispatcherTick, Run, Schedule

logger = logging.getLogger("integrations.dispatch")

DISPATCHER_SCHEDULE_NAME = "semine-dispatcher"
DISPATCHER_FUNC = "integrations.tasks.dispatch_tick"
RUN_TASK = "integrations.tasks.run_sync"


# --- The django-q2 schedule -------------------------------------------------------------------


def ensure_dispatcher_schedule() -> None:
    """Create (or repair) the one django-q2 schedule that ticks the dispatcher every minute.
    Called after `migrate` and when `qcluster` starts; safe to call any number of times."""
    from django_q.models import Schedule as QSchedule

    wanted = {
        "func": DISPATCHER_FUNC,
        "schedule_type": QSchedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    }
    schedule, created = QSchedule.objects.get_or_create(
        name=DISPATCHER_SCHEDULE_NAME, defaults={**wanted, "next_run": timezone.now()}
    )
    if not created and any(getattr(schedule, k) != v for k, v in wanted.items()):
        for key, value in wanted.items():
            setattr(schedule, key, value)
        schedule.save()


# --- Handing runs to the queue -----------------------------------------------------------------


def enqueue_run(run: Run) -> None:
    enqueue_runs([run])


def enqueue_runs(runs: list[Run]) -> None:
    """Queue the runs' tasks once the transaction that created the runs has committed (a worker
    must find the row). A task gets the run's id, nothing else. The tasks of one batch go to
    the broker in one transaction (with the ORM broker, one commit instead of one per task).
    If this process dies in between, the runs stay queued without a task: the reaper abandons
    them after RUN_QUEUED_STALE_AFTER and their schedules fall due again."""
    tasks = [(run.pk, f"{run.dataset}-run-{run.pk}") for run in runs]
    if tasks:
        transaction.on_commit(lambda: _send(tasks))


def _send(tasks) -> None:
    with transaction.atomic():
        for run_id, name in tasks:
            _async_task(run_id, name)


def _async_task(run_id: int, name: str) -> None:
    from django_q.tasks import async_task

    async_task(RUN_TASK, run_id, task_name=name, group="sync")


# --- A tick -----------------------------------------------------------------------------------


@dataclass
class TickResult:
    ticked_at: object
    reaped: int = 0
    runs: list[Run] = field(default_factory=list)
    duration_ms: int = 0


def tick(now=None) -> TickResult:
    """Reap dead runs, then claim and queue every due schedule; record the tick."""
    started = time.monotonic()
    now = now or timezone.now()
    result = TickResult(ticked_at=now)
    result.reaped = reap(now)
    result.runs = claim_due(now)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    DispatcherTick.record(
        ticked_at=now,
        duration_ms=result.duration_ms,
        enqueued=len(result.runs),
        reaped=result.reaped,
    )
    if result.runs or result.reaped:
        logger.info("Dispatcher: %d queued, %d reaped", len(result.runs), result.reaped)
    return result


def due_schedules(now):
    """Enabled schedules of live, healthy connections that are due and not already running."""
    active = Run.objects.filter(
        connection_id=OuterRef("connection_id"),
        dataset=OuterRef("dataset"),
        status__in=Run.ACTIVE_STATUSES,
    )
    return (
        Schedule.objects.filter(
            enabled=True,
            next_run_at__lte=now,
            connection__live_since__isnull=False,
            connection__status=Connection.Status.OK,
        )
        .exclude(Exists(active))
        .order_by("next_run_at", "pk")
    )


# SQLite has one writer at a time: claim in short transactions of this many schedules, so a
# tick over thousands of due schedules never holds the write lock for long.
SQLITE_CLAIM_CHUNK = 100


def claim_due(now=None, *, limit: int | None = None) -> list[Run]:
    now = now or timezone.now()
    schedules = due_schedules(now).select_related("connection")
    if limit:
        schedules = schedules[:limit]
    runs = []
    if db.vendor == "postgresql":
        with transaction.atomic():
            locked = schedules.select_for_update(skip_locked=True, of=("self",))
            runs = [run for run in (_claim(s, now) for s in locked) if run]
            enqueue_runs(runs)
        return runs
    schedules = list(schedules)
    for start in range(0, len(schedules), SQLITE_CLAIM_CHUNK):
        with transaction.atomic():
            chunk = [_claim(s, now) for s in schedules[start : start + SQLITE_CLAIM_CHUNK]]
            chunk = [run for run in chunk if run]
            enqueue_runs(chunk)
        runs += chunk
    return runs


def _claim(schedule: Schedule, now) -> Run | None:
    moved = Schedule.objects.filter(
        pk=schedule.pk, enabled=True, next_run_at=schedule.next_run_at
    ).update(next_run_at=schedule.next_due_after(now))
    if not moved:
        return None  # another dispatcher claimed it a moment ago
    # None if a manual run started meanwhile: skip this slot, never queue twice.
    trigger = Run.Trigger.RETRY if schedule.failure_streak else Run.Trigger.SCHEDULED
    return Run.queue(schedule=schedule, trigger=trigger, now=now)


# --- The reaper -------------------------------------------------------------------------------


def queued_stale_after() -> timedelta:
    return getattr(settings, "RUN_QUEUED_STALE_AFTER", timedelta(minutes=30))


def reap(now=None) -> int:
    """Abandon runs whose worker died (heartbeat older than RUN_HEARTBEAT_STALE_AFTER) and runs
    that were queued but never started, and make their schedules due again. Each is taken with
    a conditional UPDATE, so a heartbeat that arrives meanwhile wins."""
    from integrations.services import usage_add

    now = now or timezone.now()
    beat_before = now - settings.RUN_HEARTBEAT_STALE_AFTER
    queued_before = now - queued_stale_after()
    stale = Run.objects.filter(
        Q(status=Run.Status.RUNNING, heartbeat_at__lt=beat_before)
        | Q(status=Run.Status.QUEUED, queued_at__lt=queued_before)
    ).values_list("pk", "status", "schedule_id", "connection_id", "requests")
    reaped = 0
    for pk, status, schedule_id, connection_id, requests in list(stale):
        condition = (
            Q(heartbeat_at__lt=beat_before)
            if status == Run.Status.RUNNING
            else Q(queued_at__lt=queued_before)
        )
        message = (
            "The worker stopped beating (killed or lost) while running this sync."
            if status == Run.Status.RUNNING
            else "Queued but never started (no worker took it)."
        )
        with transaction.atomic():
            if not Run.objects.filter(condition, pk=pk, status=status).update(
                status=Run.Status.ABANDONED,
                finished_at=now,
                error_kind="abandoned",
                error_message=message,
            ):
                continue
            if schedule_id:
                Schedule.objects.filter(pk=schedule_id, enabled=True).update(next_run_at=now)
            if requests:
                usage_add(connection_id=connection_id, requests=requests, when=now)
        reaped += 1
        logger.warning("Run %s abandoned: %s", pk, message)
    return reaped
