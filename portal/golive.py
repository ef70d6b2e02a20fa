"""Approving go-live, or sending a submitted setup back for changes.

A project manager approves only a submitted customer whose Xledger connection verified cleanly.
Approval hands the connection to the engine (`integrations.services.connection_go_live`: enables
the schedules and queues the initial full syncs in dependency order), marks the customer live,
writes the audit entry, and tells the customer once the transaction has committed.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from integrations.services import connection_go_live
from portal.models import AuditEntry, Customer
from portal.notifications import notify_changes_requested, notify_golive_approved

APPROVE_PERMISSION = "portal.approve_golive"


def require_permission(user, perm):
    if user is None or not user.is_active or not user.is_staff or not user.has_perm(perm):
        raise PermissionDenied(_("You are not allowed to do this."))


def customer_connection(customer):
    """The customer's Xledger connection, or None before one is made."""
    return getattr(customer, "connection", None)


def golive_blockers(customer) -> list[str]:
    """Why this customer cannot go live yet; empty when it can."""
    blockers = []
    if customer.onboarding_status != Customer.Status.SUBMITTED:
        blockers.append(
            _("The customer has not submitted the setup (status: %(status)s).")
            % {"status": customer.get_onboarding_status_display()}
        )
    connection = customer_connection(customer)
    if connection is None:
        blockers.append(_("There is no Xledger connection."))
        return blockers
    if not connection.has_token:
        blockers.append(_("The connection has no API token."))
    if connection.status != connection.Status.OK:
        blockers.append(
            _("The connection's status is %(status)s, not OK.")
            % {"status": connection.get_status_display()}
        )
    verification = connection.verification or {}
    if not verification.get("ok"):
        failed = [
            c.get("label", c.get("key", "?"))
            for c in verification.get("checks", [])
            if not c.get("ok")
        ]
        if failed:
            blockers.append(_("Verification failed: %(checks)s.") % {"checks": ", ".join(failed)})
        else:
            blockers.append(_("The token has not been verified cleanly."))
    if connection.is_live:
        blockers.append(_("The connection is already live."))
    return blockers


@transaction.atomic
def customer_approve_golive(*, customer, by):
    """Take a submitted, cleanly verified customer live. Returns the runs queued for it."""
    require_permission(by, APPROVE_PERMISSION)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    blockers = golive_blockers(customer)
    if blockers:
        raise ValidationError(blockers)
    connection = customer.connection
    runs = connection_go_live(connection=connection, by=by)
    before = {"onboarding_status": customer.onboarding_status}
    customer.onboarding_status = Customer.Status.LIVE
    customer.save(update_fields=["onboarding_status", "updated_at"])
    AuditEntry.record(
        actor=by,
        action="golive_approved",
        customer=customer,
        target=customer,
        before=before,
        after={
            "onboarding_status": customer.onboarding_status,
            "initial_syncs": [run.dataset for run in runs],
        },
    )
    transaction.on_commit(lambda: notify_golive_approved(customer, by=by))
    return runs


@transaction.atomic
def customer_request_changes(*, customer, by, comment):
    """Send a submitted setup back to the customer for editing, with the reason."""
    require_permission(by, APPROVE_PERMISSION)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("Say what the customer must change."))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.onboarding_status != Customer.Status.SUBMITTED:
        raise ValidationError(
            _("Only a submitted setup can be sent back (status: %(status)s).")
            % {"status": customer.get_onboarding_status_display()}
        )
    before = {"onboarding_status": customer.onboarding_status}
    customer.onboarding_status = Customer.Status.CHANGES_REQUESTED
    customer.save(update_fields=["onboarding_status", "updated_at"])
    AuditEntry.record(
        actor=by,
        action="changes_requested",
        customer=customer,
        target=customer,
        before=before,
        after={"onboarding_status": customer.onboarding_status},
        comment=comment,
    )
    transaction.on_commit(lambda: notify_changes_requested(customer, comment=comment, by=by))
    return customer
