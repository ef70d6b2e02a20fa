"""Claiming invoices safely across workers: leases, conditional updates, expired claims.

Every state change of an invoice that a worker holds is a conditional UPDATE on
`(status, claimed_by)`: a worker whose lease was taken over writes nothing, and the worker that
took over finds out what happened by looking the invoice up in Xledger. Nothing here talks to
Xledger.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.models import Invoice
from integrations.xledger import queries

Status = Invoice.Status

MAX_ITEMS_PER_BATCH = queries.MAX_MUTATION_INPUTS  # [known] 500 inputs a call
LOOKUP_CHUNK = 200  # extIdentifiers per glImportItems lookup [ours]: keeps the filter short


def setting(name: str, default):
    return getattr(settings, name, default)


def max_batch_items() -> int:
    """Import items per addGLImportItems call: Xledger's 500, or fewer if configured."""
    return max(2, min(MAX_ITEMS_PER_BATCH, int(setting("INVOICE_BATCH_MAX_ITEMS", 500))))


def max_batch_bytes() -> int:
    """PDF bytes per request: 500 items with 10 MB PDFs each would be a 2.5 GB request."""
    return int(setting("INVOICE_BATCH_MAX_BYTES", 40 * 1024 * 1024))


def in_doubt_settle() -> timedelta:
    """How long an invoice in doubt waits before it is looked up: a request Xledger received
    late must have been processed before we ask whether it was."""
    return timedelta(seconds=float(setting("INVOICE_IN_DOUBT_SETTLE_SECONDS", 60)))


def claim_lease(client=None) -> timedelta:
    """How long a claim holds. It must outlast the longest a send can take on the client side
    (every attempt timing out, with the longest wait between attempts), plus a margin for a
    request Xledger processes after we gave up on it; otherwise a live but slow worker could be
    taken over and the invoice sent twice."""
    configured = float(setting("INVOICE_CLAIM_LEASE_SECONDS", 600))
    if client is None:
        return timedelta(seconds=configured)
    worst = client.max_attempts * (client.timeout + client.max_wait)
    margin = float(setting("INVOICE_CLAIM_MARGIN_SECONDS", 60))
    return timedelta(seconds=max(configured, worst + margin))


def new_claim_token() -> str:
    """Unique per claim (host:pid:random): a worker's own earlier claims are not its to reuse."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _uses_skip_locked() -> bool:
    return db_connection.features.has_select_for_update_skip_locked


def expire_claims(connection, *, now=None) -> int:
    """Invoices whose sending worker's lease ran out are in doubt: it may have sent them."""
    now = now or timezone.now()
    return Invoice.objects.filter(
        connection=connection, status=Status.SENDING, claimed_until__lt=now
    ).update(
        status=Status.IN_DOUBT,
        status_changed_at=now,
        updated_at=now,
        claimed_by="",
        claimed_until=None,
        last_error="The worker sending this invoice stopped before recording Xledger's answer.",
    )


def work_waiting(now) -> Q:
    """Invoices a run has something to do with: pending, in doubt once settled, or sending under
    a lease that ran out. All three statuses are in the partial index `invoice_open_idx`."""
    return (
        Q(status=Status.PENDING)
        | Q(status=Status.IN_DOUBT) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        | Q(status=Status.SENDING, claimed_until__lt=now)
    )


def has_work(connection, *, now=None) -> bool:
    """Is there anything to send or look up? One indexed query; no Xledger request."""
    now = now or timezone.now()
    return Invoice.objects.filter(work_waiting(now), connection=connection).exists()


def claim_in_doubt(connection, *, token: str, lease: timedelta, limit=LOOKUP_CHUNK, now=None):
    """Claim up to `limit` invoices in doubt whose settle time is over, for a lookup."""
    now = now or timezone.now()
    due = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    _claim(
        Invoice.objects.filter(due, connection=connection, status=Status.IN_DOUBT),
        limit=limit,
        items=None,
        changes={"claimed_by": token, "claimed_until": now + lease},
    )
    return list(
        Invoice.objects.filter(claimed_by=token, status=Status.IN_DOUBT)
        .select_related("entity", "connection__customer")
        .prefetch_related("lines")
        .order_by("id")
    )


def claim_pending(connection, *, token: str, lease: timedelta, now=None) -> list[Invoice]:
    """Claim the oldest pending invoices that fit one batch: at most max_batch_items() import
    items (an invoice's items are never split) and max_batch_bytes() of PDFs; always at least
    one invoice. Claimed invoices are `sending`, their attempt counted."""
    now = now or timezone.now()
    claimed = _claim(
        Invoice.objects.filter(connection=connection, status=Status.PENDING),
        limit=max_batch_items(),
        items=max_batch_items(),
        changes={
            "status": Status.SENDING,
            "status_changed_at": now,
            "updated_at": now,
            "claimed_by": token,
            "claimed_until": now + lease,
            "attempts": F("attempts") + 1,
        },
    )
    if not claimed:
        return []
    return list(
        Invoice.objects.filter(claimed_by=token, status=Status.SENDING)
        .select_related("entity", "connection__customer", "attachment")
        .prefetch_related("lines")
        .order_by("id")
    )


def _claim(queryset, *, limit: int, items: int | None, changes: dict) -> int:
    """Pick the oldest rows of `queryset` and UPDATE them with `changes`, in one transaction.

    On PostgreSQL the picked rows are locked with SKIP LOCKED, so concurrent workers take
    disjoint invoices instead of queueing on the same ones. On SQLite the transaction is
    IMMEDIATE (one writer at a time). Either way the UPDATE repeats the queryset's conditions,
    so a row another worker changed in between is simply not claimed.
    """
    fields = ("id", "item_count", "attachment_size", "xledger_db_ids")
    with transaction.atomic():
        picking = queryset.order_by("id")
        if _uses_skip_locked():
            picking = picking.select_for_update(skip_locked=True)
        ids = _fit(list(picking.values_list(*fields)[:limit]), items)
        if not ids:
            return 0
        return queryset.filter(pk__in=ids).update(**changes)


def _fit(rows, items: int | None) -> list[int]:
    if items is None:
        return [row[0] for row in rows]
    ids, used_items, used_bytes = [], 0, 0
    budget = max_batch_bytes()
    for pk, item_count, size, stored in rows:
        need = max(1, item_count - len(stored or {}))
        if ids and (used_items + need > items or used_bytes + size > budget):
            break
        ids.append(pk)
        used_items += need
        used_bytes += size
    return ids


def renew(invoices, *, token: str, lease: timedelta, now=None) -> list:
    """Extend this worker's claim on the invoices it is still sending, before another request
    for them (a pass that sends the rest of a refused batch, or halves of it, makes several);
    returns those it still holds. One whose lease another worker took over is not sent again
    from here: that worker looks it up first."""
    now = now or timezone.now()
    ids = [invoice.pk for invoice in invoices]
    held = Invoice.objects.filter(pk__in=ids, status=Status.SENDING, claimed_by=token)
    if held.update(claimed_until=now + lease) == len(ids):
        return list(invoices)
    still = set(held.values_list("pk", flat=True))
    return [invoice for invoice in invoices if invoice.pk in still]


def finish(invoice: Invoice, *, token: str, from_status: str, **changes) -> bool:
    """Write a held invoice's new state, only if this worker still holds it."""
    return finish_many([invoice], token=token, from_status=from_status, **changes) == 1


def finish_many(invoices, *, token: str, from_status: str, **changes) -> int:
    """Write the same new state to the held invoices, in one UPDATE of those this worker still
    holds; returns how many it still held."""
    now = timezone.now()
    changes["updated_at"] = now  # QuerySet.update() leaves auto_now alone; the API's feed needs it
    changes.setdefault("claimed_by", "")
    changes.setdefault("claimed_until", None)
    if "status" in changes and changes["status"] != from_status:
        changes["status_changed_at"] = now
    return Invoice.objects.filter(
        pk__in=[invoice.pk for invoice in invoices], status=from_status, claimed_by=token
    ).update(**changes)
