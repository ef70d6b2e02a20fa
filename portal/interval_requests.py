"""A customer asking for another interval, and the project manager's answer.

SEMINE's process says intervals can be changed on request and the project manager must be told.
The customer asks per connection × dataset, with a reason; the project manager decides on the
connection's intervals page with the request estimate in view. Accepting sets the override through
`portal.intervals.schedule_override_interval` — the same path as a staff override, so the audit
entry and the "interval changed" e-mail are the usual ones. Every step leaves an AuditEntry, and the
e-mails go out after the commit.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import IntervalRequest, Schedule
from integrations.models.schedules import format_interval, validate_interval
from portal import intervals, notifications, selectors
from portal.golive import require_permission
from portal.models import AuditEntry

REASON_MAX = 500


@transaction.atomic
def interval_request_create(*, connection, dataset, interval: timedelta, reason, by):
    """Ask for `interval` on one dataset of `connection`; withdraws its pending request."""
    customer = connection.customer
    if selectors.customer_for_user(by) != customer:
        raise PermissionDenied("Only the customer's own users may ask for another interval.")
    schedules = {s.dataset: s for s in intervals.applicable_schedules(connection)}
    if dataset not in schedules:
        raise ValidationError(_("Choose one of the kinds of data that are synchronised."))
    validate_interval(interval)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why you need another interval."))
    if len(reason) > REASON_MAX:
        raise ValidationError(_("Keep the reason under 500 characters."))
    schedule = schedules[dataset]
    if interval == schedule.interval:
        raise ValidationError(
            _("That is already the interval in force (%(interval)s).")
            % {"interval": format_interval(interval)}
        )
    replaced = list(
        IntervalRequest.objects.select_for_update().filter(
            connection=connection, dataset=dataset, status=IntervalRequest.Status.PENDING
        )
    )
    now = timezone.now()
    for old in replaced:
        old.status = IntervalRequest.Status.WITHDRAWN
        old.decided_at = now
        old.save(update_fields=["status", "decided_at"])
    request = IntervalRequest.objects.create(
        connection=connection, dataset=dataset, interval=interval, reason=reason, requested_by=by
    )
    AuditEntry.record(
        actor=by,
        action="interval_requested",
        customer=customer,
        target=f"{customer} · {request.get_dataset_display()}",
        before={
            "interval": format_interval(schedule.interval),
            "replaced": [format_interval(old.interval) for old in replaced],
        },
        after={"interval": request.interval_text, "request": request.pk},
        comment=reason,
    )
    transaction.on_commit(lambda: notifications.notify_interval_requested(request, schedule))
    return request


@transaction.atomic
def interval_request_decide(*, request, accept: bool, answer, by):
    """Accept (the override is set) or decline (nothing changes) a pending request; the customer
    is told either way, in their language."""
    require_permission(by, intervals.OVERRIDE_PERMISSION)
    answer = (answer or "").strip()
    request = (
        IntervalRequest.objects.select_for_update()
        .select_related("connection__customer")
        .get(pk=request.pk)
    )
    if not request.is_pending:
        raise ValidationError(_("This request has already been answered or replaced."))
    if not accept and not answer:
        raise ValidationError(_("Tell the customer why the request is declined."))
    if accept:
        schedule = Schedule.objects.get(connection=request.connection, dataset=request.dataset)
        interval = None if request.interval == schedule.default_interval else request.interval
        intervals.schedule_override_interval(
            schedule=schedule,
            interval=interval,
            reason=f"Customer request: {request.reason}",
            by=by,
        )
    request.status = IntervalRequest.Status.ACCEPTED if accept else IntervalRequest.Status.DECLINED
    request.decided_by = by
    request.decided_at = timezone.now()
    request.answer = answer
    request.save(update_fields=["status", "decided_by", "decided_at", "answer"])
    customer = request.connection.customer
    AuditEntry.record(
        actor=by,
        action="interval_request_accepted" if accept else "interval_request_declined",
        customer=customer,
        target=f"{customer} · {request.get_dataset_display()}",
        after={"interval": request.interval_text, "request": request.pk, "status": request.status},
        comment=answer,
    )
    transaction.on_commit(lambda: notifications.notify_interval_request_answered(request))
    return request
