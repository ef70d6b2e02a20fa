"""Run history retention: successes are kept for RUN_RETENTION_SUCCESS_DAYS (default 30), failures
for RUN_RETENTION_FAILURE_DAYS (default 180) because they are what support digs into later.

Never deleted: queued or running runs, and each connection × dataset's latest successful run (the
"last successful sync" the admin shows). Deletes in batches so no statement holds locks for long.
Scheduled daily by a django-q2 schedule created idempotently under a fixed name.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from integrations.models import Run

SCHEDULE_NAME = "semine: prune run history"
TASK = "integrations.retention.prune_runs"
BATCH = 5000

SUCCESS = [Run.Status.SUCCEEDED]
FAILURE = [Run.Status.PARTIAL, Run.Status.FAILED, Run.Status.ABANDONED]


def retention_days():
    return (
        getattr(settings, "RUN_RETENTION_SUCCESS_DAYS", 30),
        getattr(settings, "RUN_RETENTION_FAILURE_DAYS", 180),
    )


def _delete_in_batches(queryset, keep_ids, batch=BATCH) -> int:
    deleted = 0
    while True:
        ids = list(queryset.exclude(pk__in=keep_ids).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        _, per_model = Run.objects.filter(pk__in=ids).delete()
        deleted += per_model.get(Run._meta.label, 0)


def prune_runs(*, now=None, success_days=None, failure_days=None, batch=BATCH) -> dict:
    """Delete old runs; returns {"succeeded": n, "failed": n}."""
    now = now or timezone.now()
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
        "succeeded": _delete_in_batches(old_successes, keep_ids, batch),
        "failed": _delete_in_batches(old_failures, keep_ids, batch),
    }


def ensure_prune_schedule():
    """Create (or leave) the daily django-q2 schedule that prunes run history."""
    from django_q.models import Schedule as QSchedule

    schedule, _ = QSchedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": TASK,
            "schedule_type": QSchedule.DAILY,
            "repeats": -1,
            "next_run": timezone.now().replace(hour=3, minute=17, second=0, microsecond=0)
            + timedelta(days=1),
        },
    )
    return schedule
