"""Invoice actions: take an approved invoice in, send the outbox to Xledger exactly once, settle
what ended in doubt, retry and cancel.

Exactly once rests on three rules:

1. An invoice is only ever sent by the worker that holds its claim (outbox.py), and every
   state change is conditional on still holding it.
2. A send that may have reached Xledger without us seeing the answer (timeout, dropped
   connection, a worker killed mid-request) leaves the invoice `in_doubt`; it is never sent
   again before it has been looked up in Xledger by its `extIdentifier`, and what Xledger holds
   is matched to its lines by content (lookup.py): all found → `sent` with those dbIds; none →
   `pending` again; some → `pending` for the missing ones when their content tells which, else
   `rejected` for a person.
3. The mutation's answer is matched to our items by `clientId` (or, for an error, the input's
   index), never by position; an invoice is `sent` only when every one of its items has a dbId,
   and a partly stored invoice is completed with only its missing items.

And two more keep one invoice's trouble its own: invoices in doubt whose lookup fails stay in
doubt while the pending ones are sent, and an invoice Xledger refuses is rejected while the
rest of its batch is sent again at once (batch.py). A PDF is checked on the stored supplier line
after it was sent, and an invoice whose PDF did not arrive says so (`attachment_status`).

No request is made when nothing is pending or due for a lookup.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass, field

import orjson
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integrations import dispatch, issues
from integrations.datasets import Dataset
from integrations.invoices import lookup, mapping, outbox
from integrations.invoices.batch import FAILING_ATTEMPTS, BatchSend
from integrations.invoices.validation import InvoiceInvalid, validate_submission
from integrations.models import Invoice, InvoiceAttachment, InvoiceLine, Issue
from integrations.xledger.errors import XledgerError

logger = logging.getLogger("integrations.invoices")
Status = Invoice.Status


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
    transaction.on_commit(lambda: _send_soon(connection.pk))
    return invoice, True


def _send_soon(connection_id: int) -> None:
    """Queue the connection's invoices run now (see dispatch.send_soon). The invoice is stored
    whatever happens here: if this fails, the dispatcher's next tick finds it in the outbox."""
    try:
        dispatch.send_soon(connection_id=connection_id)
    except Exception:
        logger.exception("Queueing the invoices run of connection %s failed", connection_id)


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

# An Issue(kind=invoices_failing) opens when an invoice has failed FAILING_ATTEMPTS sends in a
# row (batch.py), when this many of the connection's most recently finished invoices were all
# rejected, or when the lookup of invoices in doubt has failed FAILING_LOOKUPS passes in a row.
FAILING_REJECTIONS = 10
FAILING_LOOKUPS = 3


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
    lookup_failed: int = 0
    pdf_confirmed: int = 0
    pdf_missing: list = field(default_factory=list)  # external ids
    rejections: list = field(default_factory=list)
    error: XledgerError | None = None
    lookup_error: XledgerError | None = None

    def add(self, other: BatchResult) -> None:
        for name in (
            "batches", "looked_up", "found", "requeued", "expired", "claimed", "sent", "rejected",
            "in_doubt", "released", "requests", "lookup_failed", "pdf_confirmed",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)
        self.pdf_missing.extend(other.pdf_missing)
        self.error = other.error or self.error
        self.lookup_error = other.lookup_error or self.lookup_error


def invoice_send_batch(*, connection, client, run=None, settle: bool = True) -> BatchResult:
    """One pass of the outbox: settle invoices in doubt (or held by a dead worker) by looking
    them up, then send one batch of pending invoices (and, within the pass, what of it Xledger
    did not refuse). Makes no request when there is nothing to do.

    A lookup that fails leaves its invoices in doubt, is recorded on them and on the result, and
    does not stop the pass: the pending invoices are sent all the same (`settle=False` skips the
    lookup). Errors of the send are recorded on the invoices and raised again."""
    result = BatchResult()
    before = client.request_count
    try:
        if not outbox.has_work(connection):
            return result
        result.expired = outbox.expire_claims(connection)
        if settle:
            invoice_settle_in_doubt(connection=connection, client=client, result=result)
        _send_one_batch(connection, client, result)
    finally:
        result.requests = client.request_count - before
        _note_attachments(connection, result)
        if run is not None:
            _record_on_run(run, result, client)
    return result


def invoice_send_all(*, connection, client, run=None, max_batches: int = 1000) -> BatchResult:
    """Send batches until nothing is pending (the invoices dataset's run). Invoices in doubt are
    looked up until a lookup fails; after that, only the pending ones are sent (the others are
    looked up again by a later run)."""
    total = BatchResult()
    settle = True
    for _ in range(max_batches):
        result = invoice_send_batch(connection=connection, client=client, run=run, settle=settle)
        total.add(result)
        if result.lookup_error is not None:
            settle = False
        if result.claimed == 0 and (result.looked_up == 0 or not settle):
            break
    return total


def invoice_settle_in_doubt(*, connection, client, result: BatchResult | None = None) -> None:
    """Look up every invoice in doubt whose settle time is over, by extIdentifier, and match
    what Xledger holds to its lines by content: every item found → sent; none → pending; some →
    pending for the missing ones when their content tells which, else rejected for a person.

    A failed lookup leaves the invoices in doubt (looked up again after the settle time, its
    failure counted on them; FAILING_LOOKUPS in a row open the connection's Issue) and is
    recorded on `result.lookup_error`, not raised: invoices in doubt never hold back the others.
    Only a refused token or used-up credits are raised, as no send could succeed either."""
    result = result if result is not None else BatchResult()
    lease = outbox.claim_lease(client)
    while True:
        token = outbox.new_claim_token()
        invoices = outbox.claim_in_doubt(connection, token=token, lease=lease)
        if not invoices:
            return
        result.looked_up += len(invoices)
        refs = [mapping.ext_identifier(i.external_id) for i in invoices]
        try:
            found = lookup.look_up(client, refs)
        except XledgerError as exc:
            _lookup_failed(connection, invoices, token, exc, result)
            if exc.kind in ("auth", "credits"):
                raise
            return
        pdf_names = dict(
            InvoiceAttachment.objects.filter(invoice__in=invoices).values_list(
                "invoice_id", "file_name"
            )
        )
        for invoice in invoices:
            nodes = found.get(mapping.ext_identifier(invoice.external_id), [])
            _settle(invoice, nodes, pdf_names.get(invoice.pk), token, result)
        _issue_resolve(connection, problem="lookup")


def _lookup_failed(connection, invoices, token, exc: XledgerError, result: BatchResult) -> None:
    counted = exc.kind not in ("auth", "credits")  # not the lookup's problem
    changes = {"lookup_failures": F("lookup_failures") + 1} if counted else {}
    result.lookup_failed += outbox.finish_many(
        invoices, token=token, from_status=Status.IN_DOUBT,
        claimed_until=timezone.now() + outbox.in_doubt_settle(),
        last_error=f"Looking it up in Xledger failed (it stays in doubt): {exc}", **changes,
    )  # fmt: skip
    result.lookup_error = exc
    worst = max(invoice.lookup_failures for invoice in invoices) + 1
    if counted and worst >= FAILING_LOOKUPS:
        _issue_open(
            connection,
            problem="lookup",
            title="Invoices in doubt cannot be looked up in Xledger",
            detail=(
                f"{len(invoices)} invoice(s) whose send ended in doubt cannot be looked up: "
                f"Xledger refused the lookup {worst} times in a row. They stay in doubt and are "
                f"never sent twice; the other invoices are still sent. Xledger said: {exc}"
            ),
            data={"error_kind": exc.kind, "lookup_failures": worst},
        )


def _settle(invoice: Invoice, nodes, pdf_name, token: str, result: BatchResult) -> None:
    items = mapping.import_items(
        invoice,
        list(invoice.lines.all()),
        supplier_account=getattr(invoice.connection.customer, "supplier_posting_account", "") or "",
    )
    match = lookup.match_stored(invoice, items, nodes)
    db_ids = {**(invoice.xledger_db_ids or {}), **match.db_ids}
    changes = {"lookups": invoice.lookups + 1, "lookup_failures": 0, "xledger_db_ids": db_ids}
    if pdf_name:
        line = lookup.supplier_line(invoice, nodes, db_ids)
        if line is not None:
            names = mapping.file_names(pdf_name, invoice.external_id)
            arrived = lookup.attachment_arrived(line, names)
            changes["attachment_status"] = (
                Invoice.AttachmentStatus.CONFIRMED if arrived else Invoice.AttachmentStatus.MISSING
            )
    extra = ""
    if match.foreign:
        foreign = ", ".join(str(node.get("dbId")) for node in match.foreign)
        extra = (
            f"Xledger also holds {len(match.foreign)} item(s) under this invoice's reference that "
            f"match none of its lines (dbIds {foreign})."
        )
    if not match.missing:
        changes.update(status=Status.SENT, sent_at=timezone.now(), last_error=extra)
        outcome = "found"
    elif not match.foreign:
        held = len(db_ids)
        changes.update(
            status=Status.PENDING,
            last_error=(
                f"Xledger holds {held} of its {invoice.item_count} items; the missing ones will "
                "be sent." if held else ""
            ),
        )  # fmt: skip
        outcome = "requeued"
    else:
        message = (
            f"Xledger holds {len(nodes)} item(s) under this invoice's reference, but "
            f"{len(match.missing)} of its {invoice.item_count} lines are not among them by "
            f"content and {len(match.foreign)} stored item(s) match none of its lines, so it "
            "cannot tell which lines arrived; sending them again could double them. Compare the "
            "invoice with Xledger, then complete it there and cancel it here, or retry it."
        )
        changes.update(status=Status.REJECTED, xledger_message=message, last_error="")
        outcome = "rejected"
    if not outbox.finish(invoice, token=token, from_status=Status.IN_DOUBT, **changes):
        return
    if outcome == "found":
        result.found += 1
    elif outcome == "requeued":
        result.requeued += 1
    else:
        result.rejected += 1
        result.rejections.append({"externalId": invoice.external_id, "message": message})
    status = changes.get("attachment_status")
    if status == Invoice.AttachmentStatus.CONFIRMED:
        result.pdf_confirmed += 1
    elif status == Invoice.AttachmentStatus.MISSING:
        result.pdf_missing.append(invoice.external_id)


def _send_one_batch(connection, client, result: BatchResult) -> None:
    token = outbox.new_claim_token()
    lease = outbox.claim_lease(client)
    invoices = outbox.claim_pending(connection, token=token, lease=lease)
    if not invoices:
        return
    result.claimed += len(invoices)
    result.batches += 1
    sending = BatchSend(client=client, token=token, lease=lease, result=result)
    try:
        sending.send(invoices)
    except XledgerError as exc:
        _note_failure(connection, invoices, exc)
        raise
    _check_attachments(connection, client, sending.pdfs, result)
    _note_outcome(connection, result)


def _check_attachments(connection, client, pdfs: dict, result: BatchResult) -> None:
    """Read back the supplier lines stored with a PDF in this pass (one request for all of
    them) and record whether each PDF arrived. PDFs left unchecked by an earlier pass (its check
    failed) ride along."""
    if not pdfs:
        return
    pending = dict(pdfs)
    earlier = (
        Invoice.objects.filter(
            connection=connection, attachment_status=Invoice.AttachmentStatus.UNCHECKED
        )
        .exclude(pk__in=list(pdfs))
        .select_related("attachment")
        .only("pk", "external_id", "xledger_db_ids", "attachment__file_name")
        .order_by("id")[: max(0, outbox.LOOKUP_CHUNK - len(pdfs))]
    )
    for invoice in earlier:
        pending[invoice.pk] = (
            invoice,
            mapping.file_names(invoice.attachment.file_name, invoice.external_id),
        )
    refs = [mapping.ext_identifier(invoice.external_id) for invoice, _ in pending.values()]
    try:
        found = lookup.look_up(client, refs)
    except XledgerError as exc:
        logger.warning("Could not check %d invoice PDFs in Xledger: %s", len(pending), exc)
        return
    confirmed, missing = [], []
    for invoice, names in pending.values():
        nodes = found.get(mapping.ext_identifier(invoice.external_id), [])
        line = lookup.supplier_line(invoice, nodes, invoice.xledger_db_ids or {})
        if line is None:
            continue  # not readable yet: stays unchecked
        (confirmed if lookup.attachment_arrived(line, names) else missing).append(invoice)
    now = timezone.now()
    for invoices, status in (
        (confirmed, Invoice.AttachmentStatus.CONFIRMED),
        (missing, Invoice.AttachmentStatus.MISSING),
    ):
        if invoices:
            Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(
                attachment_status=status, updated_at=now
            )
    result.pdf_confirmed += len(confirmed)
    result.pdf_missing.extend(invoice.external_id for invoice in missing)


def _record_on_run(run, result: BatchResult, client) -> None:
    """Count the pass on the run (fetched = invoices handled, created = sent or found,
    updated = put back to pending after a lookup, rejected = rejected), beating its heartbeat.
    A failed lookup makes the run partial, with Xledger's message. An idle pass records
    nothing."""
    if not (result.claimed or result.looked_up or result.expired):
        return
    if result.lookup_error is not None:
        run.error_kind = result.lookup_error.kind
        run.error_message = (
            "Invoices in doubt could not be looked up in Xledger (they stay in doubt; the "
            f"others were sent): {result.lookup_error}"
        )
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
# The connection has one invoices_failing Issue at a time, about one problem (`data.problem`):
# "sending" (sends keep failing, or every invoice is rejected; also the one failed runs open),
# "lookup" (invoices in doubt cannot be looked up) or "pdf" (PDFs do not arrive). Each problem
# resolves only its own Issue, so one that persists is never resolved and reopened every pass.


def _note_failure(connection, invoices, exc: XledgerError) -> None:
    """Open (or refresh) the connection's invoices_failing issue once invoices keep failing."""
    worst = max((invoice.attempts for invoice in invoices), default=0)  # as counted by the claim
    if worst >= FAILING_ATTEMPTS:
        _issue_open(
            connection,
            problem="sending",
            title="Invoices to Xledger keep failing",
            detail=f"An invoice has failed {worst} sends in a row. Last error: {exc}",
            data={"error_kind": exc.kind, "attempts": worst},
        )


# [ours] How Xledger words a refused transaction source is not public: any rejection that names
# it is taken as the connection's setup problem, not the invoice's.
TRANSACTION_SOURCE_PATTERN = re.compile(r"transaction\s*source", re.IGNORECASE)


def _note_outcome(connection, result: BatchResult) -> None:
    refused_source = next(
        (
            r["message"]
            for r in result.rejections
            if TRANSACTION_SOURCE_PATTERN.search(r["message"])
        ),
        None,
    )
    if refused_source:
        source = mapping.transaction_source(connection)
        _issue_open(
            connection,
            problem="transaction_source",
            title=f"Xledger refuses the transaction source {source}",
            detail=(
                f"Xledger rejected invoices because of their transaction source {source!r}: "
                f"{refused_source} Create the source in Xledger, or have the customer name an "
                "existing one on the scope page, then retry the rejected invoices."
            ),
            data={"transaction_source": source},
        )
        return
    if result.sent and not result.rejected:
        _issue_resolve(connection, problem="transaction_source")
        _issue_resolve(connection, problem="sending")
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
                problem="sending",
                title="Xledger rejects every invoice",
                detail=(
                    f"The last {FAILING_REJECTIONS} invoices were all rejected. "
                    f"Latest reason: {latest}"
                ),
                data={"rejected_in_a_row": FAILING_REJECTIONS},
            )
        elif result.sent:
            _issue_resolve(connection, problem="sending")


def _note_attachments(connection, result: BatchResult) -> None:
    """PDFs that did not arrive open the connection's Issue; a PDF seen arriving later (and
    none missing in the same pass) resolves it."""
    if result.pdf_missing:
        shown = ", ".join(result.pdf_missing[:5])
        more = f" and {len(result.pdf_missing) - 5} more" if len(result.pdf_missing) > 5 else ""
        _issue_open(
            connection,
            problem="pdf",
            title="Invoice PDFs do not arrive in Xledger",
            detail=(
                f"The PDFs of {len(result.pdf_missing)} invoice(s) ({shown}{more}) are not on "
                "their supplier lines in Xledger, although Xledger stored the lines. The "
                "invoices are in Xledger without their PDF (attachment status 'missing'); "
                "attach the PDFs there, and check how Xledger receives files."
            ),
            data={"missing": result.pdf_missing[:20]},
        )
    elif result.pdf_confirmed:
        _issue_resolve(connection, problem="pdf")


def _issue_open(connection, *, problem: str, title: str, detail: str, data: dict) -> None:
    """One invoices_failing issue per connection, counted again while it lasts."""
    issues.issue_open(
        connection=connection, kind=Issue.Kind.INVOICES_FAILING, dataset=Dataset.INVOICES,
        title=title, detail=detail, data={"problem": problem, **data},
    )  # fmt: skip


def _issue_resolve(connection, *, problem: str) -> None:
    """Resolve the connection's invoices_failing issue if it is about `problem`."""
    issue = (
        Issue.objects.filter(connection=connection, kind=Issue.Kind.INVOICES_FAILING)
        .exclude(status=Issue.Status.RESOLVED)
        .only("data")
        .first()
    )
    if issue is not None and (issue.data or {}).get("problem", "sending") == problem:
        issues.issue_resolve(connection=connection, kind=Issue.Kind.INVOICES_FAILING)
