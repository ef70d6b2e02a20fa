"""Run history retention: quiet runs are rolled up, successes are kept for
RUN_RETENTION_SUCCESS_DAYS (default 30), failures for RUN_RETENTION_FAILURE_DAYS (default 180)
because they are what support digs into later.

Most runs find nothing new. Once such a quiet run is RUN_QUIET_KEEP_HOURS old (default 24), it is
folded into the day's `RunDay` of its connection × dataset (how many, the requests, the records
read, the durations' percentiles) and deleted: at 10,000 customers that is most of the ~600,000
runs a day. Failures, partial runs, runs that changed data and runs a person or go-live started
keep their detail until the retention above.

Never deleted: queued or running runs, and each connection × dataset's latest successful run (the
"last successful sync" the admin links to; its time is also kept on `Schedule.last_success_at`).
The roll-ups themselves are kept as long as failures. Works in batches so no statement holds
locks for long. Scheduled daily by a django-q2 schedule created idempotently under a fixed name.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from integrations.models import Run, RunDay

SCHEDULE_NAME = "semine: prune run history"
TASK = "integrations.retention.prune_runs"
BATCH = 5000

SUCCESS = [Run.Status.SUCCEEDED]
FAILURE = [Run.Status.PARTIAL, Run.Status.FAILED, Run.Status.ABANDONED]
# Runs a person (or go-live) started are looked for by that person: they keep their detail.
QUIET_TRIGGERS = [Run.Trigger.SCHEDULED, Run.Trigger.RETRY]


def retention_days():
    return (
        getattr(settings, "RUN_RETENTION_SUCCESS_DAYS", 30),
        getattr(settings, "RUN_RETENTION_FAILURE_DAYS", 180),
    )


def quiet_keep() -> timedelta:
    """How long a quiet run keeps its detail before it is rolled up."""
    return timedelta(hours=getattr(settings, "RUN_QUIET_KEEP_HOURS", 24))


# A quiet run: a scheduled (or retry) success that changed and rejected nothing.
QUIET = Q(
    status=Run.Status.SUCCEEDED,
    trigger__in=QUIET_TRIGGERS,
    created=0,
    updated=0,
    deleted=0,
    rejected=0,
    error_kind="",
)


def quiet_runs(*, finished_before):
    """Successful scheduled (or retry) runs that changed and rejected nothing, finished before
    `finished_before`, and are not their connection × dataset's latest success: a later
    successful run of the same connection and dataset exists."""
    later_success = Run.objects.filter(
        connection_id=OuterRef("connection_id"),
        dataset=OuterRef("dataset"),
        status=Run.Status.SUCCEEDED,
        finished_at__gt=OuterRef("finished_at"),
    )
    return Run.objects.filter(QUIET, finished_at__lt=finished_before).filter(Exists(later_success))


def _percentile(ordered: list[int], percent: int) -> int:
    """Nearest-rank percentile of an ascending list (p50 of 1..100 is 50, p95 is 95)."""
    return ordered[max(math.ceil(percent * len(ordered) / 100) - 1, 0)]


@dataclass
class _Day:
    """The quiet runs of one connection × dataset × day read so far."""

    ids: list[int] = field(default_factory=list)
    durations_ms: list[int] = field(default_factory=list)
    requests: int = 0
    fetched: int = 0

    def add(self, pk, started_at, finished_at, requests, fetched):
        self.ids.append(pk)
        if started_at and finished_at:
            ms = round((finished_at - started_at).total_seconds() * 1000)
        else:
            ms = 0
        self.durations_ms.append(max(ms, 0))
        self.requests += requests
        self.fetched += fetched

    def run_day(self, connection_id: int, dataset: str, day: date) -> RunDay:
        ordered = sorted(self.durations_ms)
        return RunDay(
            connection_id=connection_id,
            dataset=dataset,
            day=day,
            runs=len(ordered),
            requests=self.requests,
            fetched=self.fetched,
            duration_p50_ms=_percentile(ordered, 50),
            duration_p95_ms=_percentile(ordered, 95),
            duration_max_ms=ordered[-1],
        )


def _merged(old: RunDay, new: RunDay) -> RunDay:
    """`new` with `old` (the same connection × dataset × day, folded by an earlier call) added.

    Counts, requests and records add up exactly and the maximum is exact. The percentiles of the
    two parts are combined weighted by their runs: an approximation (the exact value would need
    every duration, which is what is being thrown away). It happens when a day is folded in two
    goes, e.g. its first hours one night and the rest the next.
    """
    runs = old.runs + new.runs

    def weighted(name):
        return round((getattr(old, name) * old.runs + getattr(new, name) * new.runs) / runs)

    return RunDay(
        connection_id=new.connection_id,
        dataset=new.dataset,
        day=new.day,
        runs=runs,
        requests=old.requests + new.requests,
        fetched=old.fetched + new.fetched,
        duration_p50_ms=weighted("duration_p50_ms"),
        duration_p95_ms=weighted("duration_p95_ms"),
        duration_max_ms=max(old.duration_max_ms, new.duration_max_ms),
    )


ROLLED_UP_FIELDS = [
    "runs",
    "requests",
    "fetched",
    "duration_p50_ms",
    "duration_p95_ms",
    "duration_max_ms",
]


def _fold(days: dict[tuple[int, str, date], _Day]) -> int:
    """Write the days' roll-ups (added to any already there) and delete their runs, in one
    transaction: after a crash either both happened or neither did."""
    with transaction.atomic():
        existing = {
            (row.connection_id, row.dataset, row.day): row
            for row in RunDay.objects.select_for_update().filter(
                connection_id__in={key[0] for key in days},
                day__in={key[2] for key in days},
            )
        }
        rows = []
        for key, day in days.items():
            row = day.run_day(*key)
            if key in existing:
                row = _merged(existing[key], row)
            rows.append(row)
        RunDay.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["connection", "dataset", "day"],
            update_fields=ROLLED_UP_FIELDS,
        )
        ids = [pk for day in days.values() for pk in day.ids]
        deleted = 0
        for start in range(0, len(ids), 1000):  # well under every database's parameter limit
            _, per_model = Run.objects.filter(pk__in=ids[start : start + 1000]).delete()
            deleted += per_model.get(Run._meta.label, 0)
    return deleted


def rollup_quiet_runs(*, now=None, keep=None, batch=BATCH) -> int:
    """Fold quiet runs (see `quiet_runs`) finished more than `keep` (a timedelta, default
    RUN_QUIET_KEEP_HOURS) before `now` into `RunDay` rows per connection × dataset × UTC day of
    their queueing; returns how many runs were folded.

    One streamed query, ordered so each day's runs come together; every `batch` runs (at the end
    of a day, so a day is never split between batches) the roll-ups are written and the runs
    deleted in one transaction. Resumable and idempotent: a run is either folded and gone or
    untouched, so calling again after a crash folds the rest, and a second call finds nothing.
    """
    now = now or timezone.now()
    keep = quiet_keep() if keep is None else keep
    # Writing while the query streams is safe: PostgreSQL reads through a server-side cursor
    # declared WITH HOLD (a snapshot); SQLite allows deleting the rows a statement already
    # returned. Only runs already read are deleted, and never a run's later success.
    rows = (
        quiet_runs(finished_before=now - keep)
        .order_by("connection_id", "dataset", "queued_at")
        .values_list(
            "pk",
            "connection_id",
            "dataset",
            "queued_at",
            "started_at",
            "finished_at",
            "requests",
            "fetched",
        )
        .iterator(chunk_size=batch)
    )
    folded = 0
    days: dict[tuple[int, str, date], _Day] = {}
    pending = 0
    for pk, connection_id, dataset, queued_at, started_at, finished_at, requests, fetched in rows:
        key = (connection_id, dataset, queued_at.astimezone(UTC).date())
        if pending >= batch and key not in days:
            folded += _fold(days)
            days, pending = {}, 0
        days.setdefault(key, _Day()).add(pk, started_at, finished_at, requests, fetched)
        pending += 1
    if days:
        folded += _fold(days)
    return folded


def _delete_in_batches(queryset, keep_ids, batch=BATCH) -> int:
    deleted = 0
    while True:
        ids = list(queryset.exclude(pk__in=keep_ids).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        _, per_model = Run.objects.filter(pk__in=ids).delete()
        deleted += per_model.get(Run._meta.label, 0)


def _delete_old_run_days(before: date, batch=BATCH) -> int:
    deleted = 0
    while True:
        ids = list(RunDay.objects.filter(day__lt=before).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += RunDay.objects.filter(pk__in=ids).delete()[0]


def prune_runs(*, now=None, success_days=None, failure_days=None, batch=BATCH) -> dict:
    """Roll up quiet runs, then delete old runs and roll-ups; returns {"rolled_up": n,
    "succeeded": n, "failed": n, "run_days": n} (runs folded, runs and roll-ups deleted)."""
    now = now or timezone.now()
    rolled_up = rollup_quiet_runs(now=now, batch=batch)
    default_success, default_failure = retention_days()
    success_days = default_success if success_days is None else success_days
    failure_days = default_failure if failure_days is None else failure_days
    keep_ids = set(
        Run.objects.filter(status=Run.Status.SUCCEEDED)
        .values("connection", "dataset")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    old_successes = Run.objects.filter(
        status__in=SUCCESS, queued_at__lt=now - timedelta(days=success_days)
    ).order_by("pk")
    old_failures = Run.objects.filter(
        status__in=FAILURE, queued_at__lt=now - timedelta(days=failure_days)
    ).order_by("pk")
    return {
        "rolled_up": rolled_up,
        "succeeded": _delete_in_batches(old_successes, keep_ids, batch),
        "failed": _delete_in_batches(old_failures, keep_ids, batch),
        "run_days": _delete_old_run_days(now.astimezone(UTC).date() - timedelta(days=failure_days)),
    }


def ensure_prune_schedule():
    """Create (or leave) the daily django-q2 schedule that prunes run history."""
    from integrations.tasks import ensure_daily_schedule

    return ensure_daily_schedule(name=SCHEDULE_NAME, func=TASK, hour=3, minute=17)
