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
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.datasets import Dataset
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
    must find the row). A task gets the run's id, nothing else. If this process dies in between,
    the runs stay queued without a task: the reaper abandons them after RUN_QUEUED_STALE_AFTER
    and their schedules fall due again."""
    tasks = [(run.pk, f"{run.dataset}-run-{run.pk}") for run in runs]
    if tasks:
        transaction.on_commit(lambda: _send(tasks))


def _send(tasks) -> None:
    """Hand a batch of runs to django-q2 in one broker write (see _Batch)."""
    from django_q.conf import Conf

    if _async_task is not _default_async_task or Conf.SYNC:
        for run_id, name in tasks:  # replaced by a test, or django-q2 runs tasks inline
            _async_task(run_id, name)
        return
    _Batch(tasks).send()


def _async_task(run_id: int, name: str) -> None:
    """Hand one run to django-q2 (tests replace this to run or record the hand-over)."""
    from django_q.tasks import async_task

    async_task(RUN_TASK, run_id, task_name=name, group="sync")


_default_async_task = _async_task


class _Batch:
    """The tasks of a batch in one broker write: one multi-row INSERT into the ORM broker's
    table, or one RPUSH of every package to Redis. Each package is what `async_task` would
    have built (same fields, signed the same way), without its per-task log line."""

    def __init__(self, tasks):
        self.tasks = tasks

    def package(self, run_id: int, name: str) -> str:
        from django_q.conf import Conf
        from django_q.humanhash import uuid
        from django_q.signals import pre_enqueue
        from django_q.signing import SignedPackage

        task = {"id": uuid()[1], "name": name, "func": RUN_TASK, "args": (run_id,)}
        task["group"] = "sync"
        if Conf.CACHED:
            task["cached"] = Conf.CACHED
        if Conf.ACK_FAILURES:
            task["ack_failure"] = Conf.ACK_FAILURES
        task["kwargs"] = {}
        task["started"] = timezone.now()
        pre_enqueue.send(sender="django_q", task=task)
        return SignedPackage.dumps(task)

    def send(self) -> None:
        from django_q.brokers import get_broker
        from django_q.brokers.orm import ORM
        from django_q.conf import Conf

        broker = get_broker()
        packages = [self.package(run_id, name) for run_id, name in self.tasks]
        if isinstance(broker, ORM):
            from django_q.models import OrmQ

            key = broker.list_key or Conf.CLUSTER_NAME
            now = timezone.now()
            queue = broker.get_connection()
            if queue.db == "default" and db.vendor == "postgresql":
                table = db.ops.quote_name(OrmQ._meta.db_table)
                with db.cursor() as cursor:  # the batch as one array: one short statement
                    cursor.execute(
                        f"INSERT INTO {table} (key, payload, lock) "
                        "SELECT %s, p, %s FROM unnest(%s::text[]) AS p",
                        [key, now, packages],
                    )
            else:
                queue.bulk_create(
                    [OrmQ(key=key, payload=package, lock=now) for package in packages],
                    batch_size=1000,
                )
        elif hasattr(broker.connection, "rpush"):  # Redis takes many values in one RPUSH
            broker.connection.rpush(broker.list_key, *packages)
        else:
            for package in packages:
                broker.enqueue(package)
        logger.info("Handed %d runs to the task queue", len(packages))


# --- A tick -----------------------------------------------------------------------------------


@dataclass
class TickResult:
    ticked_at: object
    reaped: int = 0
    runs: list[Queued] = field(default_factory=list)
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
    """Enabled schedules of live, healthy connections that are due and not already running.

    The invoices dataset is due only for connections whose outbox has work (pending, settled in
    doubt, or a lapsed lease): an idle customer costs no run, no task and no request. Those
    connections are found first, by one query on the partial index of open invoices."""
    from integrations.invoices.outbox import work_waiting
    from integrations.models import Invoice

    with_work = list(
        Invoice.objects.filter(work_waiting(now)).values_list("connection_id", flat=True).distinct()
    )
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
        .filter(~Q(dataset=Dataset.INVOICES) | Q(connection_id__in=with_work))
        .exclude(Exists(active))
        .order_by("next_run_at", "pk")
    )


# Schedules claimed per batch: per batch a constant number of statements (the claim, the run
# rows, the broker write), however many schedules are due. SQLite has one writer at a time, so
# there a batch is also a short transaction that never holds the write lock for long.
CLAIM_BATCH = 1000  # PostgreSQL
SQLITE_CLAIM_CHUNK = 200


def claim_due(now=None, *, limit: int | None = None, only: Q | None = None) -> list[Queued]:
    """Claim every due schedule (or the first `limit`, or those matching `only`) and queue a run
    of each. Safe with any number of dispatchers on any number of machines: on PostgreSQL the
    due rows are locked with SKIP LOCKED (concurrent ticks split the work), and everywhere the
    claim is a conditional UPDATE that only moves a schedule still due."""
    now = now or timezone.now()
    due = due_schedules(now)
    if only is not None:
        due = due.filter(only)
    due = due.only(*CLAIM_FIELDS)
    if limit:
        due = due[:limit]
    runs: list[Queued] = []
    if db.vendor == "postgresql":
        batch = CLAIM_BATCH
        with transaction.atomic():
            locked = list(due.select_for_update(skip_locked=True, of=("self",)))
            for start in range(0, len(locked), batch):
                runs += _claim_batch(locked[start : start + batch], now)
            enqueue_runs(runs)
        return runs
    schedules = list(due)
    for start in range(0, len(schedules), SQLITE_CLAIM_CHUNK):
        with transaction.atomic():
            chunk = _claim_batch(schedules[start : start + SQLITE_CLAIM_CHUNK], now)
            enqueue_runs(chunk)
        runs += chunk
    return runs


CLAIM_FIELDS = (
    "id",
    "connection_id",
    "dataset",
    "interval_override",
    "next_run_at",
    "failure_streak",
    "last_full_sync_at",
)


class Queued(NamedTuple):
    """A run a claim queued: its row's id and what the claim wrote (no model instance: a tick
    may queue tens of thousands)."""

    pk: int
    connection_id: int
    schedule_id: int
    dataset: str
    trigger: str
    full: bool
    queued_at: datetime


def _claim_batch(schedules: list[Schedule], now) -> list[Queued]:
    """Move each schedule to its next grid point (one UPDATE ... RETURNING: only the rows still
    due come back, so a schedule another dispatcher moved meanwhile is not ours), then insert a
    run for each claimed one (one INSERT ... ON CONFLICT DO NOTHING RETURNING: a schedule whose
    dataset got an active run meanwhile, a person's resync, skips this slot, never queues
    twice)."""
    if not schedules:
        return []
    claimed = _move_next_run(schedules, now)
    rows = [
        (
            s.connection_id,
            s.pk,
            s.dataset,
            Run.Trigger.RETRY.value if s.failure_streak else Run.Trigger.SCHEDULED.value,
            s.needs_full_sync(now),
            now,
        )
        for s in schedules
        if s.pk in claimed
    ]
    return _insert_runs(rows)


# The columns a claim sets on a new run (in this order); every other column takes its
# field's default.
RUN_COLUMNS = ("connection", "schedule", "dataset", "trigger", "full", "queued_at")
PG_TYPES = {
    "connection": "bigint",
    "schedule": "bigint",
    "dataset": "text",
    "trigger": "text",
    "full": "boolean",
    "queued_at": "timestamptz",
}


def _insert_runs(rows: list[tuple]) -> list[Queued]:
    """INSERT INTO run (...) SELECT <the batch>, <defaults> ... ON CONFLICT DO NOTHING
    RETURNING id, schedule_id: one statement for the batch, the other columns' defaults given
    once. On PostgreSQL the batch is six arrays (unnest), so the statement's text is the same
    for any batch; on SQLite (3.35+) it is a VALUES list."""
    if not rows:
        return []
    pg = db.vendor == "postgresql"
    given = [Run._meta.get_field(name) for name in RUN_COLUMNS]
    rest = [f for f in Run._meta.concrete_fields if f not in given and not f.primary_key]
    defaults = [f.get_db_prep_save(f.get_default(), db) for f in rest]
    columns = [
        [f.get_db_prep_save(value, db) for value in values]
        for f, values in zip(given, zip(*rows, strict=True), strict=True)
    ]
    aliases = [f"c{n}" for n in range(len(given))]
    if pg:
        arrays = ", ".join(f"%s::{PG_TYPES[f.name]}[]" for f in given)
        source = f"unnest({arrays}) AS v({', '.join(aliases)})"
        params = [*defaults, *columns]
    else:
        row = "(" + ", ".join(["%s"] * len(given)) + ")"
        source = f"(SELECT * FROM (VALUES {', '.join([row] * len(rows))})) AS v"
        aliases = [f"column{n}" for n in range(1, len(given) + 1)]
        params = [*defaults, *(value for values in zip(*columns, strict=True) for value in values)]
    selected = [f"v.{alias}" for alias in aliases]
    selected += ["%s::jsonb" if pg and f.get_internal_type() == "JSONField" else "%s" for f in rest]
    table = db.ops.quote_name(Run._meta.db_table)
    names = ", ".join(db.ops.quote_name(f.column) for f in [*given, *rest])
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {', '.join(selected)} FROM {source} WHERE true "
        f"ON CONFLICT DO NOTHING RETURNING id, schedule_id"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, params)  # the SELECT list's defaults come before the batch
        inserted = {schedule_id: pk for pk, schedule_id in cursor.fetchall()}
    return [Queued(inserted[row[1]], *row) for row in rows if row[1] in inserted]


def _move_next_run(schedules: list[Schedule], now) -> set[int]:
    """UPDATE schedule SET next_run_at = v.next FROM <ids and next times> WHERE still due
    RETURNING id: one statement for the batch (two arrays on PostgreSQL, a VALUES list on
    SQLite 3.35+)."""
    table = db.ops.quote_name(Schedule._meta.db_table)
    moment = db.ops.adapt_datetimefield_value
    ids = [schedule.pk for schedule in schedules]
    nexts = [moment(schedule.next_due_after(now)) for schedule in schedules]
    if db.vendor == "postgresql":
        source = "unnest(%s::bigint[], %s::timestamptz[]) AS v(id, next)"
        params = [ids, nexts]
        id_, next_ = "v.id", "v.next"
    else:  # SQLite names a VALUES list's columns column1, column2
        source = f"(VALUES {', '.join(['(%s, %s)'] * len(ids))}) AS v"
        params = [value for pair in zip(ids, nexts, strict=True) for value in pair]
        id_, next_ = "v.column1", "v.column2"
    sql = (
        f"UPDATE {table} SET next_run_at = {next_} FROM {source} "
        f"WHERE {table}.id = {id_} AND {table}.enabled AND {table}.next_run_at <= %s "
        f"RETURNING {table}.id"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [*params, moment(now)])
        return {row[0] for row in cursor.fetchall()}


def send_soon(*, connection_id: int, now=None) -> Queued | None:
    """An invoice just entered the outbox: make the connection's invoices schedule due and
    claim it now, so the invoice reaches Xledger within seconds instead of at the next tick.
    Debounced per connection by the one-active-run rule: while a run is queued or running, the
    invoices arriving meanwhile are taken by that run (it reads the outbox until it is empty),
    and the schedule stays due for the next tick in case one arrives after its last read."""
    now = now or timezone.now()
    Schedule.objects.filter(
        connection_id=connection_id, dataset=Dataset.INVOICES, enabled=True, next_run_at__gt=now
    ).update(next_run_at=now)
    runs = claim_due(now, only=Q(connection_id=connection_id, dataset=Dataset.INVOICES))
    return runs[0] if runs else None


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
