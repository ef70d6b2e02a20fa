"""Invoice actions: take an approved invoice in, send the outbox to Xledger exactly once, settle
what ended in doubt, retry and cancel.

Exactly once rests on three rules:

1. An invoice is only ever sent by the worker that holds its claim (outbox.py), and every
   state change is conditional on still holding it.
2. A send that may have reached Xledger without us seeing the answer (timeout, dropped
   connection, a worker killed mid-request) leaves the invoice `in_doubt`; it is never sent
   again before it has been looked up in Xledger by its `extIdentifier`. Found → `sent` with
   those dbIds; not found → `pending` again.
3. Xledger's answer is matched to our items by `clientId`, never by position; an invoice is
   `sent` only when every one of its items has a dbId, and a partly stored invoice is completed
   with only its missing items.

No request is made when nothing is pending or due for a lookup.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations import issues
from integrations.datasets import Dataset
from integrations.invoices import mapping, outbox
from integrations.invoices.validation import InvoiceInvalid, validate_submission
from integrations.models import Invoice, InvoiceAttachment, InvoiceLine, Issue
from integrations.xledger import queries
from integrations.xledger.errors import TransientError, XledgerError

logger = logging.getLogger("integrations.invoices")
Status = Invoice.Status

# An Issue(kind=invoices_failing) opens when an invoice has failed this many sends in a row, or
# when this many of the connection's most recently finished invoices were all rejected.
FAILING_ATTEMPTS = 3
FAILING_REJECTIONS = 10


class InvoiceConflict(Exception):
    """A different submission under an external id that is already taken."""

    def __init__(self, invoice: Invoice):
        super().__init__(
            f"Invoice {invoice.external_id!r} was already submitted with different content."
        )
        self.invoice = invoice


# --- Intake ------------------------------------------------------------------------------------


def submission_hash(payload: dict, pdf: bytes | None) -> str:
    """SHA-256 of the submission in a canonical form (keys sorted, amounts normalised)."""
    canonical = dict(payload)
    canonical.pop("pdf", None)
    canonical["pdf_sha256"] = hashlib.sha256(pdf).hexdigest() if pdf else None
    return hashlib.sha256(
        orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS, default=str)
    ).hexdigest()


def invoice_submit(*, connection, payload: dict, submitted_by: str = "") -> tuple[Invoice, bool]:
    """Put an approved invoice in the outbox; returns (invoice, created).

    `payload` is the API's parsed body (amounts as Decimal, dates as date, pdf as
    {"fileName", "content"} with base64 content). The same submission again returns the
    existing invoice (created=False); a different one under the same external id raises
    InvoiceConflict; anything the mirror does not know raises InvoiceInvalid with field errors.
    """
    pdf_bytes = _decode_pdf(payload.get("pdf"))
    request_hash = submission_hash(_normalised(payload), pdf_bytes)
    existing = Invoice.objects.filter(
        connection=connection, external_id=payload["externalId"]
    ).first()
    if existing is not None:
        if existing.request_hash != request_hash:
            raise InvoiceConflict(existing)
        return existing, False

    clean = validate_submission(connection, payload, pdf_bytes)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                connection=connection,
                entity=clean.entity,
                external_id=payload["externalId"],
                request_hash=request_hash,
                supplier_code=payload["supplierCode"],
                invoice_number=payload["invoiceNumber"],
                invoice_date=payload["invoiceDate"],
                due_date=payload["dueDate"],
                posted_date=payload.get("postedDate"),
                currency=payload["currency"],
                amount=payload["amount"],
                vat_amount=payload["vatAmount"],
                text=payload.get("text") or "",
                item_count=1 + len(payload["lines"]),
                attachment_size=len(pdf_bytes or b""),
                submitted_by=submitted_by[:100],
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(
                    invoice=invoice,
                    position=position,
                    account=line["account"],
                    vat_code=line["vatCode"],
                    amount=line["amount"],
                    text=line.get("text") or "",
                    dimensions=dict(line.get("dimensions") or {}),
                    gl_objects=gl_objects,
                )
                for position, (line, gl_objects) in enumerate(
                    zip(payload["lines"], clean.gl_objects, strict=True), start=1
                )
            )
            if pdf_bytes:
                InvoiceAttachment.objects.create(
                    invoice=invoice,
                    file_name=clean.file_name,
                    content=pdf_bytes,
                    size=len(pdf_bytes),
                    sha256=hashlib.sha256(pdf_bytes).hexdigest(),
                )
    except IntegrityError:
        # Two identical submissions raced; the other one won. Answer as if we were second.
        existing = Invoice.objects.get(connection=connection, external_id=payload["externalId"])
        if existing.request_hash != request_hash:
            raise InvoiceConflict(existing) from None
        return existing, False
    return invoice, True


def _decode_pdf(pdf) -> bytes | None:
    if not pdf:
        return None
    try:
        return base64.b64decode(pdf["content"], validate=True)
    except (ValueError, TypeError):
        raise InvoiceInvalid(
            {("pdf", "content"): ["Not valid base64."]}, code="invalid_base64"
        ) from None


def _normalised(payload: dict) -> dict:
    """Amounts as 2-decimal strings, so 100, 100.0 and "100.00" are the same submission."""

    def amount(value):
        return f"{value:.2f}" if value is not None else None

    out = {k: v for k, v in payload.items() if k not in ("lines", "pdf")}
    for key in ("amount", "vatAmount"):
        out[key] = amount(payload.get(key))
    for key in ("invoiceDate", "dueDate", "postedDate"):
        if out.get(key) is not None:
            out[key] = str(out[key])
    out["lines"] = [
        {
            **{k: v for k, v in line.items() if k != "amount"},
            "amount": amount(line.get("amount")),
            "dimensions": dict(sorted((line.get("dimensions") or {}).items())),
        }
        for line in payload.get("lines") or []
    ]
    if payload.get("pdf"):
        out["pdf_file_name"] = payload["pdf"].get("fileName")
    return out


# --- Sending -----------------------------------------------------------------------------------


@dataclass
class BatchResult:
    """What one pass did, for the run record and the benchmarks."""

    batches: int = 0
    looked_up: int = 0
    found: int = 0
    requeued: int = 0
    expired: int = 0
    claimed: int = 0
    sent: int = 0
    rejected: int = 0
    in_doubt: int = 0
    released: int = 0
    requests: int = 0
    rejections: list = field(default_factory=list)
    error: XledgerError | None = None

    def add(self, other: BatchResult) -> None:
        for name in (
            "batches", "looked_up", "found", "requeued", "expired", "claimed", "sent", "rejected",
            "in_doubt", "released", "requests",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)
        self.error = other.error or self.error


def invoice_send_batch(*, connection, client, run=None) -> BatchResult:
    """One pass of the outbox: settle invoices in doubt (or held by a dead worker) by looking
    them up, then send at most one batch of pending invoices. Makes no request when there is
    nothing to do. Xledger errors are recorded on the invoices and raised again."""
    result = BatchResult()
    before = client.request_count
    try:
        if not outbox.has_work(connection):
            return result
        result.expired = outbox.expire_claims(connection)
        invoice_settle_in_doubt(connection=connection, client=client, result=result)
        _send_one_batch(connection, client, result)
    finally:
        result.requests = client.request_count - before
        if run is not None:
            _record_on_run(run, result, client)
    return result


def invoice_send_all(*, connection, client, run=None, max_batches: int = 1000) -> BatchResult:
    """Send batches until nothing is pending (the invoices dataset's run)."""
    total = BatchResult()
    for _ in range(max_batches):
        result = invoice_send_batch(connection=connection, client=client, run=run)
        total.add(result)
        if result.claimed == 0 and result.looked_up == 0:
            break
    return total


def invoice_settle_in_doubt(*, connection, client, result: BatchResult | None = None) -> None:
    """Look up every invoice in doubt whose settle time is over, by extIdentifier, and mark it
    sent (every item found), pending (some or none found: the rest will be sent) or, when
    Xledger's answer cannot tell which items arrived, rejected for a person to check."""
    result = result if result is not None else BatchResult()
    lease = outbox.claim_lease(client)
    while True:
        token = outbox.new_claim_token()
        invoices = outbox.claim_in_doubt(connection, token=token, lease=lease)
        if not invoices:
            return
        result.looked_up += len(invoices)
        try:
            found = _look_up(client, invoices)
        except XledgerError as exc:
            outbox.finish_many(  # let the next pass try again
                invoices, token=token, from_status=Status.IN_DOUBT,
                last_error=f"Lookup failed: {exc}",
            )  # fmt: skip
            result.error = exc
            raise
        for invoice in invoices:
            _settle(
                invoice, found.get(mapping.ext_identifier(invoice.external_id), []), token, result
            )


def _look_up(client, invoices) -> dict[str, list[dict]]:
    """extIdentifier → the import items Xledger holds for it (paged)."""
    refs = [mapping.ext_identifier(i.external_id) for i in invoices]
    found: dict[str, list[dict]] = {}
    for page in client.paginate(
        queries.GL_IMPORT_ITEMS_BY_EXT_IDENTIFIER,
        path="glImportItems",
        variables={"extIdentifiers": refs},
    ):
        for node in page.nodes:
            found.setdefault(node.get("extIdentifier"), []).append(node)
    return found


def _settle(invoice: Invoice, nodes: list[dict], token: str, result: BatchResult) -> None:
    expected = mapping.client_ids(invoice)
    stored = dict(invoice.xledger_db_ids or {})
    anonymous = []
    for node in nodes:
        cid = node.get("clientId")
        if cid in expected:
            stored[cid] = node["dbId"]
        else:
            anonymous.append(node["dbId"])
    changes = {"lookups": invoice.lookups + 1, "xledger_db_ids": stored}
    if all(cid in stored for cid in expected):
        changes.update(status=Status.SENT, sent_at=timezone.now(), last_error="")
        result.found += 1
    elif anonymous:
        # Items came back without clientIds: we cannot tell which lines arrived. Resending
        # could double them; a person must compare with Xledger.
        if len(anonymous) + len(stored) >= len(expected):
            stored.update({f"?{n}": db_id for n, db_id in enumerate(anonymous)})
            changes.update(status=Status.SENT, sent_at=timezone.now(), last_error="")
            result.found += 1
        else:
            changes.update(
                status=Status.REJECTED,
                xledger_message=(
                    f"Xledger holds {len(anonymous) + len(stored)} of this invoice's "
                    f"{len(expected)} items and did not say which; check it in Xledger, then "
                    "cancel it or complete it there."
                ),
            )
            result.rejected += 1
    else:
        changes.update(status=Status.PENDING)
        result.requeued += 1
    outbox.finish(invoice, token=token, from_status=Status.IN_DOUBT, **changes)


def _send_one_batch(connection, client, result: BatchResult) -> None:
    token = outbox.new_claim_token()
    invoices = outbox.claim_pending(connection, token=token, lease=outbox.claim_lease(client))
    if not invoices:
        return
    result.claimed += len(invoices)
    result.batches += 1
    inputs, files, owners = _build_inputs(invoices)
    try:
        data, errors = client.execute_partial(
            queries.ADD_GL_IMPORT_ITEMS, {"inputs": inputs}, mutation=True, files=files or None
        )
    except TransientError as exc:
        if not exc.in_doubt:  # it never reached Xledger (could not connect)
            _release(invoices, token, exc, result)
            _note_failure(connection, invoices, exc)
            raise
        result.in_doubt += outbox.finish_many(
            invoices,
            token=token,
            from_status=Status.SENDING,
            status=Status.IN_DOUBT,
            claimed_until=timezone.now() + outbox.in_doubt_settle(),
            last_error=str(exc),
        )
        result.error = exc
        _note_failure(connection, invoices, exc)
        raise
    except XledgerError as exc:
        # Refused as a whole (auth, rate limit beyond our wait, credits, an invalid document):
        # nothing was stored, so the invoices are simply pending again.
        _release(invoices, token, exc, result)
        _note_failure(connection, invoices, exc)
        raise

    edges = ((data or {}).get("addGLImportItems") or {}).get("edges") or []
    stored = {edge.get("clientId"): edge["node"]["dbId"] for edge in edges if edge.get("node")}
    general = [e for e in errors if e.extensions.get("clientId") not in owners]
    if general and not stored:
        # Refused as a whole without naming an input (a missing write scope, too many inputs):
        # a problem of the connection or of ours, not of these invoices. Nothing was stored.
        _release(invoices, token, general[0], result)
        _note_failure(connection, invoices, general[0])
        raise general[0]
    messages: dict[str, list[str]] = {}
    unattributed = []
    for error in errors:
        cid = error.extensions.get("clientId")
        if cid in owners:
            messages.setdefault(cid, []).append(error.message)
        else:
            unattributed.append(error.message)

    now = timezone.now()
    with transaction.atomic():
        for invoice in invoices:
            db_ids = dict(invoice.xledger_db_ids or {})
            expected = mapping.client_ids(invoice)
            db_ids.update({cid: stored[cid] for cid in expected if cid in stored})
            if all(cid in db_ids for cid in expected):
                if outbox.finish(
                    invoice, token=token, from_status=Status.SENDING, status=Status.SENT,
                    xledger_db_ids=db_ids, sent_at=now, last_error="", xledger_message="",
                ):  # fmt: skip
                    result.sent += 1
                continue
            reasons = [m for cid in expected for m in messages.get(cid, [])]
            missing = [cid for cid in expected if cid not in db_ids]
            message = "; ".join(reasons or unattributed) or (
                f"Xledger did not store {', '.join(missing)} and gave no reason."
            )
            if outbox.finish(
                invoice, token=token, from_status=Status.SENDING, status=Status.REJECTED,
                xledger_db_ids=db_ids, xledger_message=message, last_error="",
            ):  # fmt: skip
                result.rejected += 1
                result.rejections.append({"externalId": invoice.external_id, "message": message})
    _note_outcome(connection, result)


def _build_inputs(invoices):
    """The batch's inputs (only items not yet in Xledger), file parts, clientId → invoice."""
    inputs, files, owners = [], {}, {}
    for invoice in invoices:
        customer = invoice.connection.customer
        items = mapping.import_items(
            invoice,
            list(invoice.lines.all()),
            supplier_account=getattr(customer, "supplier_posting_account", "") or "",
        )
        done = invoice.xledger_db_ids or {}
        for n, item in enumerate(items):
            if item["clientId"] in done:
                continue
            if n == 0 and invoice.attachment_size:
                attachment = invoice.attachment
                mapping.attach_file(item)
                files[mapping.file_path(len(inputs))] = (
                    attachment.file_name,
                    bytes(attachment.content),
                    mapping.FILE_CONTENT_TYPE,
                )
            owners[item["clientId"]] = invoice
            inputs.append(item)
    return inputs, files, owners


def _release(invoices, token, exc, result: BatchResult) -> None:
    result.released += outbox.finish_many(
        invoices, token=token, from_status=Status.SENDING, status=Status.PENDING,
        last_error=str(exc),
    )  # fmt: skip
    result.error = exc


def _record_on_run(run, result: BatchResult, client) -> None:
    """Count the pass on the run (fetched = invoices handled, created = sent or found,
    updated = put back to pending after a lookup, rejected = rejected), beating its heartbeat.
    An idle pass records nothing."""
    if not (result.claimed or result.looked_up or result.expired):
        return
    counts = {
        "fetched": result.claimed + result.looked_up,
        "created": result.sent + result.found,
        "updated": result.requeued,
        "rejected": result.rejected,
    }
    rejections = [{"code": r["externalId"], "reason": r["message"]} for r in result.rejections]
    run.record_page(requests=client.request_count, rejections=rejections, **counts)


# --- Operations --------------------------------------------------------------------------------


def invoice_retry(*, invoice: Invoice, by=None) -> bool:
    """A rejected invoice goes back to pending (after its cause was fixed in Xledger or the
    mirror). Items Xledger already stored for it are not sent again."""
    updated = Invoice.objects.filter(pk=invoice.pk, status=Status.REJECTED).update(
        status=Status.PENDING, status_changed_at=timezone.now(), updated_at=timezone.now(),
        xledger_message="",
        last_error=f"Retried by {by}" if by else "",
    )  # fmt: skip
    return updated == 1


def invoice_cancel(*, invoice: Invoice, by=None) -> bool:
    """Cancel a pending or rejected invoice: it will never be sent. Invoices being sent, in
    doubt or sent cannot be cancelled here (they may be in Xledger)."""
    updated = Invoice.objects.filter(pk=invoice.pk, status__in=Invoice.CANCELLABLE_STATUSES).update(
        status=Status.CANCELLED, status_changed_at=timezone.now(), updated_at=timezone.now(),
        last_error=f"Cancelled by {by}" if by else "Cancelled",
    )  # fmt: skip
    return updated == 1


# --- Issues --------------------------------------------------------------------------------------


def _note_failure(connection, invoices, exc: XledgerError) -> None:
    """Open (or refresh) the connection's invoices_failing issue once invoices keep failing."""
    worst = max((invoice.attempts for invoice in invoices), default=0)  # as counted by the claim
    if worst >= FAILING_ATTEMPTS:
        _issue_open(
            connection,
            title="Invoices to Xledger keep failing",
            detail=f"An invoice has failed {worst} sends in a row. Last error: {exc}",
            data={"error_kind": exc.kind, "attempts": worst},
        )


def _note_outcome(connection, result: BatchResult) -> None:
    if result.sent and not result.rejected:
        _issue_resolve(connection)
        return
    if result.rejected:
        recent = list(
            Invoice.objects.filter(connection=connection, status__in=[Status.SENT, Status.REJECTED])
            .order_by("-status_changed_at", "-id")
            .values_list("status", flat=True)[:FAILING_REJECTIONS]
        )
        if len(recent) == FAILING_REJECTIONS and all(s == Status.REJECTED for s in recent):
            latest = result.rejections[-1]["message"] if result.rejections else ""
            _issue_open(
                connection,
                title="Xledger rejects every invoice",
                detail=(
                    f"The last {FAILING_REJECTIONS} invoices were all rejected. "
                    f"Latest reason: {latest}"
                ),
                data={"rejected_in_a_row": FAILING_REJECTIONS},
            )
        elif result.sent:
            _issue_resolve(connection)


def _issue_open(connection, *, title: str, detail: str, data: dict) -> None:
    """One invoices_failing issue per connection, counted again while it lasts."""
    issues.issue_open(
        connection=connection, kind=Issue.Kind.INVOICES_FAILING, dataset=Dataset.INVOICES,
        title=title, detail=detail, data=data,
    )  # fmt: skip


def _issue_resolve(connection) -> None:
    issues.issue_resolve(connection=connection, kind=Issue.Kind.INVOICES_FAILING)
