"""Reads about the sync engine, for the admin, the portal and the health endpoint."""

from __future__ import annotations

import math
from datetime import timedelta

from django.db.models import Max

from integrations.datasets import Dataset
from integrations.models import (
    Account,
    Currency,
    FixedAsset,
    Issue,
    ObjectValue,
    Run,
    Schedule,
    Supplier,
    VatCode,
)
from integrations.models.schedules import ALWAYS_FULL, FULL_SYNC_EVERY, NEVER_FULL
from integrations.xledger.queries import MAX_PAGE_SIZE

DONE = (Run.Status.SUCCEEDED, Run.Status.PARTIAL)
MONTH = timedelta(days=30)


def last_success_by_dataset(connection) -> dict[str, Run]:
    """{dataset: its latest succeeded-or-partial run}; datasets never synced are absent."""
    latest = (
        Run.objects.filter(connection=connection, status__in=DONE)
        .values("dataset")
        .annotate(last=Max("finished_at"))
    )
    result = {}
    for row in latest:
        run = (
            Run.objects.filter(
                connection=connection,
                dataset=row["dataset"],
                status__in=DONE,
                finished_at=row["last"],
            )
            .order_by("-pk")
            .first()
        )
        if run:
            result[row["dataset"]] = run
    return result


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
    ask for changes and deltas in that one request). Full: ceil(size / 10,000) pages. Dimensions
    add one request for the kinds and count one page per chosen kind; VAT codes add one for the
    kinds and tax setups. Invoices: 0, their requests depend on invoice volume, not on time."""
    if dataset == Dataset.INVOICES:
        return 0
    if dataset == Dataset.FIXED_ASSETS and not connection.customer.fixed_assets_apply:
        return 0
    pages = max(1, math.ceil(_size(connection, dataset) / MAX_PAGE_SIZE)) if full else 1
    if dataset == Dataset.DIMENSIONS:
        return 1 + max(1, len(connection.selected_dimensions or [])) * pages
    if dataset == Dataset.VAT_CODES:
        return 1 + pages
    return pages


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
