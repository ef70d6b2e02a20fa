"""Overriding a dataset's interval for one customer, and what it costs in Xledger requests.

Xledger's UK price list includes 5,000 requests a month; beyond that the customer pays. Staff see
the estimate for the intervals they are about to save and must confirm an override that goes over.
The project manager is told of every change (the SEMINE process requires it).
"""

import math

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.datasets import Dataset
from integrations.models import Schedule
from integrations.models.schedules import format_interval, validate_interval
from integrations.selectors import MONTH, estimated_monthly_requests
from portal.golive import require_permission
from portal.models import AuditEntry
from portal.notifications import notify_interval_changed

OVERRIDE_PERMISSION = "integrations.override_interval"
INCLUDED_REQUESTS_PER_MONTH = 5000


def applicable_schedules(connection) -> list[Schedule]:
    """The schedules that will run for this connection (fixed assets only when they apply)."""
    schedules = list(connection.schedules.order_by("dataset"))
    if not connection.customer.fixed_assets_apply:
        schedules = [s for s in schedules if s.dataset != Dataset.FIXED_ASSETS]
    return schedules


def interval_budget(connection, overrides=None) -> dict:
    """What the intervals page shows: per-dataset intervals and the monthly request estimate."""
    overrides = overrides or {}
    rows = []
    for schedule in applicable_schedules(connection):
        interval = overrides.get(schedule.dataset, schedule.interval)
        rows.append(
            {
                "schedule": schedule,
                "interval": format_interval(interval),
                "default": format_interval(schedule.default_interval),
                "overridden": interval != schedule.default_interval,
                "runs_per_month": math.ceil(MONTH / interval),
            }
        )
    # The engine's estimate (integrations.selectors), which knows what each run costs.
    estimate = estimated_monthly_requests(connection, overrides)
    return {
        "rows": rows,
        "estimate": estimate,
        "included": INCLUDED_REQUESTS_PER_MONTH,
        "over": estimate > INCLUDED_REQUESTS_PER_MONTH,
        "percent": round(100 * estimate / INCLUDED_REQUESTS_PER_MONTH),
    }


@transaction.atomic
def schedule_override_interval(*, schedule, interval, reason, by):
    """Set (or with `interval=None`, clear) a dataset's interval override for one customer."""
    require_permission(by, OVERRIDE_PERMISSION)
    reason = (reason or "").strip()
    if interval is not None:
        validate_interval(interval)
    if not reason:
        raise ValidationError(_("Say why the interval changes; the project manager is told."))
    schedule = (
        Schedule.objects.select_for_update()
        .select_related("connection__customer")
        .get(pk=schedule.pk)
    )
    before = {
        "interval": format_interval(schedule.interval),
        "override": bool(schedule.interval_override),
        "reason": schedule.override_reason,
    }
    now = timezone.now()
    schedule.interval_override = interval
    schedule.override_reason = reason if interval is not None else ""
    schedule.override_by = by if interval is not None else None
    schedule.override_at = now if interval is not None else None
    # A shorter interval takes effect now, not after the old, longer wait.
    if schedule.enabled and schedule.next_run_at:
        schedule.next_run_at = min(schedule.next_run_at, schedule.next_due_after(now))
    schedule.save()
    after = {
        "interval": format_interval(schedule.interval),
        "override": bool(schedule.interval_override),
        "reason": schedule.override_reason,
    }
    customer = schedule.connection.customer
    AuditEntry.record(
        actor=by,
        action="interval_changed",
        customer=customer,
        target=f"{customer} · {schedule.get_dataset_display()}",
        before=before,
        after=after,
        comment=reason,
    )
    transaction.on_commit(
        lambda: notify_interval_changed(
            schedule, before=before["interval"], after=after["interval"], reason=reason, by=by
        )
    )
    return schedule
