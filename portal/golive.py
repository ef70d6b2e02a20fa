"""Approving go-live, or sending a submitted setup back for changes.

A project manager approves only a submitted customer whose Xledger connections (one per owner
entity) all verified cleanly. Approval hands each connection to the engine
(`integrations.services.connection_go_live`: enables the schedules and queues the initial full
syncs in dependency order), marks the customer live,
writes the audit entry, and tells the customer once the transaction has committed.

A connection the customer adds after go-live is approved on its own (`connection_approve_golive`)
once the customer has asked for it; the customer's other connections keep running meanwhile.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from integrations.models import Connection
from integrations.services import connection_go_live
from portal.models import AuditEntry, Customer
from portal.notifications import (
    notify_changes_requested,
    notify_connection_golive_approved,
    notify_golive_approved,
)

APPROVE_PERMISSION = "portal.approve_golive"


def require_permission(user, perm):
    if user is None or not user.is_active or not user.is_staff or not user.has_perm(perm):
        raise PermissionDenied(_("You are not allowed to do this."))


def customer_connections(customer) -> list:
    """The customer's Xledger connections in use (one per owner entity), first one first."""
    return list(Connection.objects.current().filter(customer=customer).order_by("pk"))


def customer_connection(customer):
    """The customer's first Xledger connection, or None before one is made (for the places
    that show one at a time: each connection has its own page)."""
    return Connection.objects.current().filter(customer=customer).order_by("pk").first()


def _connection_label(connection) -> str:
    return _("Owner entity %(id)s (%(environment)s)") % {
        "id": connection.owner_entity_id if connection.owner_entity_id is not None else "?",
        "environment": connection.get_environment_display(),
    }


def connection_blockers(connection) -> list[str]:
    """Why this connection cannot go live yet (its token, check and scope); empty when it can."""
    blockers = []
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


def golive_blockers(customer) -> list[str]:
    """Why this customer cannot go live yet; empty when it can. Every connection must be ready:
    the customer goes live with all its owner entities at once."""
    blockers = []
    if customer.onboarding_status != Customer.Status.SUBMITTED:
        blockers.append(
            _("The customer has not submitted the setup (status: %(status)s).")
            % {"status": customer.get_onboarding_status_display()}
        )
    connections = customer_connections(customer)
    if not connections:
        blockers.append(_("There is no Xledger connection."))
        return blockers
    several = len(connections) > 1
    for connection in connections:
        for blocker in connection_blockers(connection):
            blockers.append(f"{_connection_label(connection)}: {blocker}" if several else blocker)
    return blockers


@transaction.atomic
def customer_approve_golive(*, customer, by):
    """Take a submitted customer live with every connection verified cleanly. Returns the runs
    queued for them."""
    require_permission(by, APPROVE_PERMISSION)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    blockers = golive_blockers(customer)
    if blockers:
        raise ValidationError(blockers)
    runs = []
    connections = customer_connections(customer)
    for connection in connections:
        runs += connection_go_live(connection=connection, by=by)
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
            "connections": [c.pk for c in connections],
            "initial_syncs": [run.dataset for run in runs],
        },
    )
    transaction.on_commit(lambda: notify_golive_approved(customer, by=by))
    return runs


def connection_golive_blockers(connection, *, asked: bool = True) -> list[str]:
    """Why a connection added after go-live cannot be approved on its own yet. With
    `asked=False`, whether the customer has asked for it is left out (may they ask now?)."""
    blockers = []
    if connection.is_removed:
        return [_("The connection was removed.")]
    if connection.customer.onboarding_status != Customer.Status.LIVE:
        blockers.append(_("The customer is not live yet: approve the customer's go-live instead."))
    elif asked and connection.approval_requested_at is None and not connection.is_live:
        blockers.append(_("The customer has not asked for this owner entity to go live."))
    blockers += connection_blockers(connection)
    if not connection.is_live and not connection.entities.filter(in_scope=True).exists():
        blockers.append(_("No entity is in scope yet."))
    return blockers


@transaction.atomic
def connection_approve_golive(*, connection, by):
    """Take one connection of a live customer live on its own; the others keep running."""
    require_permission(by, APPROVE_PERMISSION)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    blockers = connection_golive_blockers(connection)
    if blockers:
        raise ValidationError(blockers)
    runs = connection_go_live(connection=connection, by=by)
    AuditEntry.record(
        actor=by,
        action="connection_golive_approved",
        customer=connection.customer,
        target=f"connection {connection.pk}",
        after={
            "owner_entity_id": connection.owner_entity_id,
            "environment": connection.environment,
            "initial_syncs": [run.dataset for run in runs],
        },
    )
    transaction.on_commit(lambda: notify_connection_golive_approved(connection, by=by))
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
