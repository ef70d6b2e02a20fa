"""Invoice intake: SEMINE posts approved invoices here; they are sent to Xledger within minutes.

    POST /api/connections/{connection_id}/invoices               submit one invoice
    GET  /api/connections/{connection_id}/invoices/{external_id}  where it is
    GET  /api/connections/{connection_id}/invoices               what changed (status feed)

An invoice goes to one connection (one Xledger owner entity); the same three under
/api/customers/{customer_id}/ address a customer's only connection (a 422 when it has several).
Submitting is idempotent by `externalId` within the connection: the same body again answers 200
with the invoice as it is now (201 the first time); a different body under a used `externalId` is
a 409. Everything Xledger would refuse and the connection's mirror can tell (supplier, accounts,
VAT codes, dimension values, currency, client entity; lines plus VAT must make the total) is a 422
with one error per field, `loc` pointing into the body.

Amounts are decimals with at most 2 decimal places. Send them as strings ("1234.50"); JSON
numbers are accepted too, but one whose float value is not exactly a 2-decimal number is refused.
The PDF travels inside the JSON, base64-encoded (`pdf: {fileName, content}`); it must start with
`%PDF-` and be at most `INVOICE_PDF_MAX_BYTES` (10 MB by default). Such a body is larger than
Django's default upload limit, so this operation reads it with its own limit (413 above it).

Statuses: pending → sending → sent (with Xledger's dbIds per import item) | rejected (with
Xledger's message) | in_doubt (a send whose answer was lost; it is looked up in Xledger before
anything is sent again) | cancelled. An invoice with a PDF also has an `attachmentStatus`:
confirmed (seen on the stored supplier line), missing (Xledger stored the invoice without it:
the invoice is sent, and stays so) or unchecked (not yet read back); empty without a PDF or
before it is sent.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Annotated

from django.http import Http404, JsonResponse
from ninja import Field, Path, Query, Schema, Status
from ninja.errors import ValidationError
from pydantic import BeforeValidator, StrictInt, WithJsonSchema

from api.connections import ConnectionRoutes
from api.cursors import keyset_page
from api.errors import ErrorOut, responses
from api.params import MAX_DB_ID, Cursor, Text, UpdatedSince
from integrations.invoices.services import InvoiceConflict, invoice_submit
from integrations.invoices.validation import MAX_LINES, InvoiceInvalid, pdf_max_bytes
from integrations.models import Invoice

routes = ConnectionRoutes(tags=["invoices"])

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$"
AMOUNT_PATTERN = r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _amount(value):
    """A string must look like an amount; a JSON number is taken at its shortest float repr."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError('Must be a decimal number, preferably as a string such as "1234.50".')
    if isinstance(value, str) and not re.fullmatch(AMOUNT_PATTERN, value):
        raise ValueError("Must look like 1234.50: digits, at most 2 decimal places.")
    return value


def _date(value):
    if not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
        raise ValueError("Must be a date as YYYY-MM-DD.")
    return value


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    Field(max_digits=15, decimal_places=2, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": AMOUNT_PATTERN},
                {"type": "number", "minimum": -(10**13), "maximum": 10**13},
            ],
            "description": "A decimal amount with at most 2 decimal places; a string is safest.",
        }
    ),
]
Day = Annotated[
    date,
    BeforeValidator(_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
Code = Annotated[Text, Field(min_length=1, max_length=100)]
ExternalId = Annotated[str, Field(pattern=EXTERNAL_ID_PATTERN)]


class LineIn(Schema):
    account: Code
    vatCode: Code
    amount: Amount = Field(description="Net amount, excl. VAT.")
    text: Text = Field("", max_length=500)
    dimensions: dict[Code, Code] = Field(
        default_factory=dict,
        max_length=5,
        description=(
            "Dimension (object kind) → value code. A kind is named by its `code` in "
            '`dimensions/kinds` (its Xledger dbId as text), e.g. {"601": "20"}.'
        ),
    )


class PdfIn(Schema):
    fileName: Text = Field(min_length=1, max_length=200)
    content: Text = Field(
        min_length=1,
        max_length=4 * (pdf_max_bytes() // 3 + 1),
        description="The PDF, base64-encoded. Must start with %PDF-.",
    )


class InvoiceIn(Schema):
    externalId: ExternalId = Field(
        description="SEMINE's id: unique per connection, the idempotency key."
    )
    entity: Annotated[StrictInt, Field(ge=1, le=MAX_DB_ID)] = Field(
        description="Xledger dbId of the client entity the invoice is posted in."
    )
    supplierCode: Code
    invoiceNumber: Code
    invoiceDate: Day
    dueDate: Day
    postedDate: Day | None = Field(None, description="Defaults to the invoice date.")
    currency: Annotated[Text, Field(min_length=1, max_length=10)]
    amount: Amount = Field(description="Total incl. VAT.")
    vatAmount: Amount
    text: Text = Field("", max_length=500)
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    pdf: PdfIn | None = None


class InvoiceOut(Schema):
    customerId: int
    connectionId: int = Field(description="The connection (owner entity) it goes to.")
    externalId: str
    entity: int
    invoiceNumber: str
    supplierCode: str
    currency: str
    amount: str
    vatAmount: str
    status: str = Field(description="pending, sending, sent, rejected, in_doubt or cancelled")
    statusChangedAt: datetime
    attempts: int
    xledgerDbIds: dict[str, int] = Field(description="Import item clientId → Xledger dbId.")
    xledgerMessage: str = Field(description="Why Xledger rejected it (status rejected).")
    attachmentStatus: str = Field(
        description=(
            "Whether the PDF arrived in Xledger: confirmed (seen on the stored supplier line), "
            "missing (the invoice is in Xledger without it), unchecked (not read back yet); "
            "empty without a PDF or before it is sent."
        )
    )
    sentAt: datetime | None
    submittedAt: datetime
    updatedAt: datetime


def invoice_out(invoice: Invoice) -> dict:
    return {
        "customerId": invoice.connection.customer_id,
        "connectionId": invoice.connection_id,
        "externalId": invoice.external_id,
        "entity": invoice.entity.db_id,
        "invoiceNumber": invoice.invoice_number,
        "supplierCode": invoice.supplier_code,
        "currency": invoice.currency,
        "amount": f"{invoice.amount:.2f}",
        "vatAmount": f"{invoice.vat_amount:.2f}",
        "status": invoice.status,
        "statusChangedAt": invoice.status_changed_at,
        "attempts": invoice.attempts,
        "xledgerDbIds": {k: int(v) for k, v in (invoice.xledger_db_ids or {}).items()},
        "xledgerMessage": invoice.xledger_message,
        "attachmentStatus": invoice.attachment_status,
        "sentAt": invoice.sent_at,
        "submittedAt": invoice.created_at,
        "updatedAt": invoice.updated_at,
    }


def max_body_bytes() -> int:
    return 4 * (pdf_max_bytes() // 3 + 1) + 1024 * 1024


def read_large_body(run):
    """Read the body under our own limit (a base64 PDF of 10 MB exceeds Django's default
    DATA_UPLOAD_MAX_MEMORY_SIZE); bigger bodies get a 413 before anything else is read."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_body_bytes():
            return JsonResponse({"detail": "Request body too large."}, status=413)
        if not hasattr(request, "_body") and not getattr(request, "_read_started", False):
            body = request.read(max_body_bytes() + 1)
            if len(body) > max_body_bytes():
                return JsonResponse({"detail": "Request body too large."}, status=413)
            request._body = body
        return run(request, *args, **kwargs)

    return wrapper


@routes.post(
    "invoices",
    response=responses(
        InvoiceOut,
        201,
        {200: InvoiceOut, 400: ErrorOut, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut},
    ),
    operation_id="submit_invoice",
    summary="Submit an approved invoice for Xledger",
    description=__doc__,
    decorators=[read_large_body],
)
def submit_invoice(request, connection, invoice: InvoiceIn):
    payload = invoice.dict()
    try:
        created_invoice, created = invoice_submit(
            connection=connection, payload=payload, submitted_by=request.auth.name
        )
    except InvoiceConflict as exc:
        return Status(409, {"detail": str(exc)})
    except InvoiceInvalid as exc:
        raise ValidationError(
            [
                {"loc": ["body", "invoice", *loc], "msg": message, "type": exc.code}
                for loc, messages in exc.errors.items()
                for message in messages
            ]
        ) from None
    return Status(201 if created else 200, invoice_out(created_invoice))


@routes.get(
    "invoices/{external_id}",
    response=responses(InvoiceOut),
    operation_id="get_invoice",
    summary="Where an invoice is",
    offboarded=True,  # an offboarded connection's cancelled invoices stay readable
)
def get_invoice(request, connection, external_id: Path[ExternalId]):
    invoice = (
        Invoice.objects.select_related("entity", "connection")
        .filter(connection=connection, external_id=external_id)
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice_out(invoice)


class InvoiceListParams(Schema):
    status: Invoice.Status | None = Field(None, description="Only invoices in this status.")
    updated_since: UpdatedSince = Field(
        None, description="Only invoices whose status (or attempts) changed at or after this."
    )
    cursor: Cursor = Field(None, description="`next_cursor` of the previous page.")
    limit: int = Field(100, ge=1, le=500)


class InvoicePage(Schema):
    """One page, oldest change first; ask again with `cursor=next_cursor` until it is null."""

    items: list[InvoiceOut]
    next_cursor: str | None


@routes.get(
    "invoices",
    response=responses(InvoicePage),
    operation_id="list_invoices",
    summary="Invoices, oldest change first (a status feed)",
    offboarded=True,
    description=(
        "To follow what happens to submitted invoices: page until `next_cursor` is null, "
        "remember the newest `updatedAt`, and next time ask with `updated_since` a little "
        "before it (an invoice seen twice is harmless). Filter with `status=rejected` to find "
        "invoices that need attention."
    ),
)
def list_invoices(request, connection, params: Query[InvoiceListParams]):
    queryset = Invoice.objects.filter(connection=connection)
    if params.status is not None:
        queryset = queryset.filter(status=params.status)
    if params.updated_since is not None:
        queryset = queryset.filter(updated_at__gte=params.updated_since)
    rows, next_cursor = keyset_page(queryset, cursor=params.cursor, limit=params.limit)
    by_pk = Invoice.objects.select_related("entity", "connection").in_bulk([r["pk"] for r in rows])
    return {"items": [invoice_out(by_pk[r["pk"]]) for r in rows], "next_cursor": next_cursor}
