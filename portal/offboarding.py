"""Offboarding: a customer who leaves SEMINE, or one of its owner entities (a company sold off).

Never a single click: a reason and a typed confirmation (the owner entity ID, or the customer's
legal name). In one transaction:

- the connection's schedules stop, its queued and running runs are released (a worker still on
  one stops at its next heartbeat and writes nothing), its token is destroyed, its Issues close
  (`portal.operations.connection_remove`);
- its invoices not yet sent end `cancelled`, with the reason, in the status feed SEMINE reads;
  one a worker is sending right now makes the offboarding wait (a clear refusal, nothing lost);
- for a whole customer: its users can no longer sign in, its pending invitations and its API keys
  stop working, and its data is due for erasure after the retention period (`erase_after`).

After the commit: on SQLite the write-ahead log is checkpointed so that the destroyed token's
ciphertext is in no file (with `secure_delete`, freed bytes are zeroed); the project manager and
the customer's users and contacts are told, in their language, with the steps to revoke the token
in Xledger too.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db import connection as db
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import ApiKey, Connection, Invoice
from portal import notifications
from portal.golive import require_permission
from portal.invitations import Invitation
from portal.models import AuditEntry, Customer
from portal.operations import REMOVE_PERMISSION, connection_remove

log = logging.getLogger(__name__)
OFFBOARD_PERMISSION = "portal.offboard_customer"
UNSENT = (
    Invoice.Status.PENDING,
    Invoice.Status.REJECTED,
    Invoice.Status.IN_DOUBT,
    Invoice.Status.SENDING,
)
MAYBE_IN_XLEDGER = (Invoice.Status.IN_DOUBT, Invoice.Status.SENDING)
# forget_freed_pages: how long one checkpoint attempt may hold the writers, and the gap after it.
CHECKPOINT_WAIT_MS = 250
CHECKPOINT_PAUSE_SECONDS = 0.1


def _same(typed: str, expected: str) -> bool:
    return " ".join(str(typed or "").split()).casefold() == " ".join(expected.split()).casefold()


def _refuse_while_sending(connections) -> None:
    busy = Invoice.objects.filter(
        connection__in=connections,
        status=Invoice.Status.SENDING,
        claimed_until__gt=timezone.now(),
    ).count()
    if busy:
        raise ValidationError(
            _(
                "%(n)d invoice is being sent to Xledger right now. Offboard when it has been "
                "sent, in a minute or two; nothing was changed."
            )
            % {"n": busy}
        )


def _cancel_unsent(connection, reason: str) -> dict:
    now = timezone.now()
    why = _("Cancelled: the connection was offboarded (%(reason)s).") % {"reason": reason}
    maybe = why + " " + _("It may have reached Xledger before; check there.")
    counts = {}
    for key, statuses, message in (
        ("cancelled_maybe_in_xledger", MAYBE_IN_XLEDGER, maybe),
        ("cancelled", (Invoice.Status.PENDING, Invoice.Status.REJECTED), why),
    ):
        counts[key] = Invoice.objects.filter(connection=connection, status__in=statuses).update(
            status=Invoice.Status.CANCELLED,
            status_changed_at=now,
            last_error=message,
            claimed_by="",
            claimed_until=None,
            updated_at=now,
        )
    return counts


def _offboard_one(*, connection, by, reason) -> dict:
    connection_remove(connection=connection, by=by, reason=reason)
    cancelled = _cancel_unsent(connection, reason)
    return {"connection": connection.pk, "owner_entity_id": connection.owner_entity_id, **cancelled}


def forget_freed_pages(*, attempts: int = 40, sleep=time.sleep) -> bool:
    """On SQLite, move the write-ahead log into the database file and empty it: the pages that
    held the token, zeroed by `secure_delete`, are then the only copies. True when the log was
    emptied (always True on other databases, which keep no such file).

    A TRUNCATE checkpoint holds the write lock while it waits for the readers of the log, so
    every writer (the workers, the dispatcher) waits with it. Each attempt therefore waits a
    quarter of a second at most and gives way between attempts; if readers never let go, the
    log is emptied by a later checkpoint and this says so in the log."""
    if db.vendor != "sqlite":
        return True
    if db.in_atomic_block:
        return False
    with db.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        (saved,) = cursor.fetchone()
        cursor.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        try:
            for attempt in range(attempts):
                try:
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    blocked = cursor.fetchone()[0]
                except OperationalError:  # another process held the lock past the wait
                    blocked = 1
                if not blocked:
                    return True
                if attempt + 1 < attempts:
                    sleep(CHECKPOINT_PAUSE_SECONDS)  # the writers that waited go first
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(saved)}")
    log.warning("Could not empty the SQLite log after destroying a token; a later checkpoint will.")
    return False


@transaction.atomic
def connection_offboard(*, connection, by, reason, confirmation) -> Connection:
    """Offboard one owner entity; the customer's other connections keep running."""
    require_permission(by, REMOVE_PERMISSION)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the connection is offboarded."))
    if connection.is_removed:
        raise ValidationError(_("This connection was already offboarded."))
    if not _same(confirmation, str(connection.owner_entity_id)):
        raise ValidationError(
            _("Type the owner entity ID, %(id)s, to confirm.") % {"id": connection.owner_entity_id}
        )
    _refuse_while_sending([connection])
    result = _offboard_one(connection=connection, by=by, reason=reason)
    connection.refresh_from_db()
    AuditEntry.record(
        actor=by,
        action="connection_offboarded",
        customer=connection.customer,
        target=f"owner entity {connection.owner_entity_id}",
        after=result,
        comment=reason,
    )
    customer = connection.customer
    transaction.on_commit(forget_freed_pages)
    transaction.on_commit(
        lambda: notifications.notify_offboarded(customer, connections=[connection], by=by)
    )
    return connection


@transaction.atomic
def customer_offboard(*, customer, by, reason, confirmation, erasure_requested=False) -> Customer:
    """Offboard the whole customer: every connection, its users' logins, invitations and API
    keys. Its data is erased after the retention period (shorter on an erasure request)."""
    require_permission(by, OFFBOARD_PERMISSION)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the customer is offboarded."))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_offboarded:
        raise ValidationError(_("This customer was already offboarded."))
    if not _same(confirmation, customer.legal_name):
        raise ValidationError(
            _("Type the customer's legal name, %(name)s, to confirm.")
            % {"name": customer.legal_name}
        )
    connections = list(Connection.objects.current().filter(customer=customer).order_by("pk"))
    _refuse_while_sending(connections)
    offboarded = [_offboard_one(connection=c, by=by, reason=reason) for c in connections]
    now = timezone.now()
    recipients = notifications.customer_recipients(customer)  # before its users are signed out
    users = get_user_model().objects.filter(membership__customer=customer, is_active=True)
    user_ids = list(users.values_list("pk", flat=True))
    for user in users:  # each save ends that user's sessions (signin.sessions)
        user.is_active = False
        user.save(update_fields=["is_active"])
    invitations = Invitation.objects.filter(
        customer=customer, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now, revoked_by=by)
    keys = ApiKey.objects.filter(customer=customer).revoke()
    days = (
        settings.OFFBOARD_ERASURE_REQUESTED_DAYS
        if erasure_requested
        else settings.OFFBOARD_RETENTION_DAYS
    )
    customer.offboarded_at = now
    customer.offboarded_by = by
    customer.offboard_reason = reason
    customer.erasure_requested = bool(erasure_requested)
    customer.erase_after = now + timedelta(days=days)
    customer.save()
    AuditEntry.record(
        actor=by,
        action="customer_offboarded",
        customer=customer,
        target=customer.legal_name,
        after={
            "connections": offboarded,
            "users_signed_out": len(user_ids),
            "invitations_revoked": invitations,
            "api_keys_revoked": keys,
            "erasure_requested": customer.erasure_requested,
            "erase_after": customer.erase_after.isoformat(),
        },
        comment=reason,
    )
    transaction.on_commit(forget_freed_pages)
    transaction.on_commit(
        lambda: notifications.notify_offboarded(
            customer, connections=connections, by=by, whole_customer=True, recipients=recipients
        )
    )
    return customer


@transaction.atomic
def customer_reactivate(*, customer, by, reason) -> Customer:
    """Take an offboarded customer back before its data is erased. Its destroyed tokens stay
    destroyed: the customer enters each owner entity and a new token again, and the project
    manager approves go-live again. Its users can sign in again; its API keys stay revoked
    (staff issue new ones)."""
    require_permission(by, OFFBOARD_PERMISSION)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the customer is taken back."))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.is_offboarded:
        raise ValidationError(_("This customer is not offboarded."))
    if customer.erased_at is not None or customer.erasure_started_at is not None:
        raise ValidationError(
            _("This customer's data is erased (or being erased); invite it as a new customer.")
        )
    before = {
        "offboarded_at": customer.offboarded_at.isoformat(),
        "erase_after": customer.erase_after.isoformat() if customer.erase_after else None,
    }
    users = get_user_model().objects.filter(membership__customer=customer, is_active=False)
    reactivated = 0
    for user in users.exclude(username__startswith="erased-"):
        user.is_active = True
        user.save(update_fields=["is_active"])
        reactivated += 1
    customer.offboarded_at = None
    customer.offboarded_by = None
    customer.offboard_reason = ""
    customer.erasure_requested = False
    customer.erase_after = None
    customer.onboarding_status = Customer.Status.IN_PROGRESS
    customer.save()
    AuditEntry.record(
        actor=by,
        action="customer_reactivated",
        customer=customer,
        target=customer.legal_name,
        before=before,
        after={"users_reactivated": reactivated, "status": customer.onboarding_status},
        comment=reason,
    )
    return customer
