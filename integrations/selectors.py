"""Reads about the sync engine, for the admin, the portal and the health endpoint."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from integrations.datasets import Dataset
from integrations.models import (
    Account,
    Currency,
    FixedAsset,
    Issue,
    ObjectValue,
    Run,
    RunDay,
    Schedule,
    Supplier,
    VatCode,
)
from integrations.models.schedules import ALWAYS_FULL, FULL_SYNC_EVERY, NEVER_FULL
from integrations.xledger.queries import MAX_PAGE_SIZE

DONE = (Run.Status.SUCCEEDED, Run.Status.PARTIAL)
MONTH = timedelta(days=30)


@dataclass
class LastSuccess:
    """When a dataset last completed (succeeded or partial), and that run while it is kept."""

    at: datetime
    run: Run | None  # None once the run itself is gone from the history


def last_success_by_dataset(connection) -> dict[str, LastSuccess]:
    """{dataset: its last success}; datasets never synced are absent. The time is the schedule's
    `last_success_at` (kept by the engine, so it outlives the run history); the run is the one
    that ended then, where it is still kept. Two queries, however long the history."""
    times = dict(
        Schedule.objects.filter(connection=connection, last_success_at__isnull=False).values_list(
            "dataset", "last_success_at"
        )
    )
    if not times:
        return {}
    ended_then = Q()
    for dataset, at in times.items():
        ended_then |= Q(dataset=dataset, finished_at=at)
    runs = {
        run.dataset: run  # the newest, should two have ended at the same moment
        for run in Run.objects.filter(connection=connection, status__in=DONE)
        .filter(ended_then)
        .order_by("pk")
    }
    return {dataset: LastSuccess(at, runs.get(dataset)) for dataset, at in times.items()}


@dataclass
class DayTotals:
    """The finished runs of one dataset on one day (UTC, by when they were queued)."""

    runs: int = 0
    rolled_up: int = 0  # of `runs`, the quiet ones folded into a RunDay
    requests: int = 0
    fetched: int = 0


def runs_by_day(connection, *, days=14, now=None) -> dict[tuple[str, date], DayTotals]:
    """{(dataset, UTC day): DayTotals} over the last `days` days (today included): the runs
    still kept and the roll-ups of the quiet ones together, so the figures (requests above all)
    stay the same when quiet runs are folded. Two queries."""
    now = now or timezone.now()
    first = now.astimezone(UTC).date() - timedelta(days=days - 1)
    totals: dict[tuple[str, date], DayTotals] = defaultdict(DayTotals)
    kept = (
        Run.objects.filter(
            connection=connection,
            queued_at__gte=datetime.combine(first, time.min, tzinfo=UTC),
        )
        .exclude(status__in=Run.ACTIVE_STATUSES)
        .annotate(day=TruncDate("queued_at", tzinfo=UTC))
        .order_by()
        .values_list("dataset", "day")
        .annotate(runs=Count("pk"), requests=Sum("requests"), fetched=Sum("fetched"))
    )
    for dataset, day, runs, requests, fetched in kept:
        row = totals[(dataset, day)]
        row.runs += runs
        row.requests += requests or 0
        row.fetched += fetched or 0
    for dataset, day, runs, requests, fetched in RunDay.objects.filter(
        connection=connection, day__gte=first
    ).values_list("dataset", "day", "runs", "requests", "fetched"):
        row = totals[(dataset, day)]
        row.runs += runs
        row.rolled_up += runs
        row.requests += requests
        row.fetched += fetched
    return dict(totals)


def open_issues(connection):
    return Issue.objects.filter(connection=connection).exclude(status=Issue.Status.RESOLVED)


# Mirror sizes assumed when a dataset has never been synced (a mid-sized customer).
ASSUMED_SIZES = {
    Dataset.SUPPLIERS: 5_000,
    Dataset.CURRENCIES: 20,
    Dataset.DIMENSIONS: 500,
    Dataset.VAT_CODES: 30,
    Dataset.ACCOUNTS: 500,
    Dataset.FIXED_ASSETS: 200,
}


MIRROR_MODELS = {
    Dataset.SUPPLIERS: Supplier,
    Dataset.CURRENCIES: Currency,
    Dataset.DIMENSIONS: ObjectValue,
    Dataset.VAT_CODES: VatCode,
    Dataset.ACCOUNTS: Account,
    Dataset.FIXED_ASSETS: FixedAsset,
}


def _size(connection, dataset) -> int:
    model = MIRROR_MODELS[dataset]
    count = model.objects.filter(connection=connection, is_deleted=False).count()
    return count or ASSUMED_SIZES[dataset]


def requests_per_run(connection, dataset, *, full: bool) -> int:
    """Requests one run costs. Incremental: 1 (nothing or a few changes fit one page; suppliers
    ask for changes and deltas in that one request; dimensions read the changed values only).
    Full: ceil(size / 10,000) pages; dimensions and VAT codes read the first page of their other
    list (the kinds, the tax setups) in the same request. Invoices: 0, their requests depend on
    invoice volume, not on time."""
    if dataset == Dataset.INVOICES:
        return 0
    if dataset == Dataset.FIXED_ASSETS and not connection.customer.fixed_assets_apply:
        return 0
    return max(1, math.ceil(_size(connection, dataset) / MAX_PAGE_SIZE)) if full else 1


def estimated_monthly_requests(connection, overrides=None) -> int:
    """Xledger requests a month at the schedules' intervals (30-day month).

    `overrides` maps dataset → interval (timedelta) to see what a change would cost before it is
    made. Assumptions: every run falls due (no pauses, no failures, no retries); datasets that
    are always full cost full pages every run; the others cost one incremental request per run
    plus one full sync a day (replacing that day's incremental run); sizes are today's mirror
    sizes (ASSUMED_SIZES before the first sync); invoices count 0 (idle runs make no request).
    """
    overrides = overrides or {}
    total = 0
    for schedule in Schedule.objects.filter(connection=connection):
        if connection.is_live and not schedule.enabled:
            continue
        interval = overrides.get(schedule.dataset) or schedule.interval
        runs = MONTH / interval
        dataset = schedule.dataset
        if dataset in NEVER_FULL:
            continue
        full_cost = requests_per_run(connection, dataset, full=True)
        if dataset in ALWAYS_FULL:
            total += runs * full_cost
            continue
        fulls = min(runs, MONTH / FULL_SYNC_EVERY)
        total += fulls * full_cost + (runs - fulls) * requests_per_run(
            connection, dataset, full=False
        )
    return math.ceil(total)
