"""Checking a submitted invoice against the mirror before it enters the outbox.

Everything Xledger would refuse and the mirror can tell us is refused here, with an error per
field, so that SEMINE hears about a wrong account code at once instead of after the next
5-minute run. A client entity may use its own records and the owner entity's (records whose
owner is unknown, such as currencies, count as shared); deleted records may not be used.
Each lookup is one query per table for the whole invoice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from integrations.invoices import mapping
from integrations.models import (
    Account,
    ClientEntity,
    Currency,
    ObjectKind,
    ObjectValue,
    Supplier,
    VatCode,
)
from integrations.xledger import queries

MAX_LINES = queries.MAX_MUTATION_INPUTS - 1  # the supplier line takes one of the 500
PDF_MAGIC = b"%PDF-"
MAX_AMOUNT = Decimal("10") ** 13  # 15 significant digits with the 2 decimals: exact as JSON


def pdf_max_bytes() -> int:
    return int(getattr(settings, "INVOICE_PDF_MAX_BYTES", 10 * 1024 * 1024))


class InvoiceInvalid(Exception):
    """Field errors: {("lines", 0, "account"): ["Unknown account '9999' for entity 10002."]}."""

    def __init__(self, errors: dict[tuple, list[str]], code: str = "invalid"):
        super().__init__(
            "; ".join(f"{'.'.join(map(str, k))}: {' '.join(v)}" for k, v in errors.items())
        )
        self.errors = errors
        self.code = code


@dataclass
class CleanInvoice:
    entity: ClientEntity
    gl_objects: list[dict]  # per line: {"1": value code, ...}
    file_name: str


def visible(connection, entity_db_id: int) -> Q:
    """Records a client entity may use: its own, the owner entity's, and ownerless ones."""
    owners = {entity_db_id}
    if connection.owner_entity_id:
        owners.add(connection.owner_entity_id)
    return Q(owner_db_id__in=owners) | Q(owner_db_id__isnull=True)


def _codes(model, connection, scope: Q, codes, **filters) -> set[str]:
    return set(
        model.objects.filter(scope, connection=connection, is_deleted=False, code__in=set(codes))
        .filter(**filters)
        .values_list("code", flat=True)
    )


def _amount_problem(value) -> str | None:
    if not isinstance(value, Decimal) or not value.is_finite():
        return "Must be a decimal number."
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        return "At most 2 decimal places."
    if abs(value) >= MAX_AMOUNT:
        return "Too large."
    return None


def safe_file_name(name: str | None, fallback: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._ -]+", "_", (name or "").strip())[:150].strip(" .")
    if not name:
        name = fallback
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"


def validate_submission(connection, payload: dict, pdf: bytes | None) -> CleanInvoice:
    errors: dict[tuple, list[str]] = {}

    def add(loc: tuple, message: str) -> None:
        errors.setdefault(loc, []).append(message)

    entity = ClientEntity.objects.filter(
        connection=connection, db_id=payload["entity"], in_scope=True
    ).first()
    if entity is None:
        add(("entity",), f"Entity {payload['entity']} is not a client entity of this customer.")
        raise InvoiceInvalid(errors)
    scope = visible(connection, entity.db_id)
    lines = payload["lines"]

    if not _codes(Supplier, connection, scope, [payload["supplierCode"]]):
        add(
            ("supplierCode",),
            f"Unknown supplier {payload['supplierCode']!r} for entity {entity.db_id}.",
        )
    if not _codes(Currency, connection, scope, [payload["currency"]]):
        add(("currency",), f"Unknown currency {payload['currency']!r}.")
    if payload["dueDate"] < payload["invoiceDate"]:
        add(("dueDate",), "The due date is before the invoice date.")

    for key in ("amount", "vatAmount"):
        problem = _amount_problem(payload.get(key))
        if problem:
            add((key,), problem)
    if not 1 <= len(lines) <= MAX_LINES:
        add(("lines",), f"An invoice has 1 to {MAX_LINES} accounting lines.")
    for i, line in enumerate(lines):
        problem = _amount_problem(line.get("amount"))
        if problem:
            add(("lines", i, "amount"), problem)
    if not errors:
        total = sum((line["amount"] for line in lines), Decimal(0)) + payload["vatAmount"]
        if total != payload["amount"]:
            add(
                ("amount",),
                f"The lines ({total - payload['vatAmount']:.2f}) plus VAT "
                f"({payload['vatAmount']:.2f}) make {total:.2f}, not {payload['amount']:.2f}.",
            )

    accounts = _codes(Account, connection, scope, [line["account"] for line in lines])
    vat_codes = _codes(VatCode, connection, scope, [line["vatCode"] for line in lines])
    kind_codes = {k for line in lines for k in (line.get("dimensions") or {})}
    kinds = dict(
        ObjectKind.objects.filter(
            connection=connection, is_deleted=False, code__in=kind_codes
        ).values_list("code", "db_id")
    )
    slots = mapping.dimension_slots(connection) if kind_codes else {}
    wanted_values = {
        (kinds.get(k), v) for line in lines for k, v in (line.get("dimensions") or {}).items()
    }
    values = {
        (kind_db_id, code): (date_from, date_to)
        for kind_db_id, code, date_from, date_to in ObjectValue.objects.filter(
            scope,
            connection=connection,
            is_deleted=False,
            object_kind_db_id__in={k for k, _ in wanted_values if k is not None},
            code__in={v for _, v in wanted_values},
        ).values_list("object_kind_db_id", "code", "date_from", "date_to")
    }

    gl_objects = []
    for i, line in enumerate(lines):
        if line["account"] not in accounts:
            add(
                ("lines", i, "account"),
                f"Unknown account {line['account']!r} for entity {entity.db_id}.",
            )
        if line["vatCode"] not in vat_codes:
            add(("lines", i, "vatCode"), f"Unknown VAT code {line['vatCode']!r}.")
        placed = {}
        for kind, value in (line.get("dimensions") or {}).items():
            loc = ("lines", i, "dimensions", kind)
            if kind not in kinds:
                add(loc, f"Unknown dimension {kind!r}.")
                continue
            if kind not in slots:
                add(
                    loc, f"Dimension {kind!r} is not one of this customer's dimensions for Xledger."
                )
                continue
            period = values.get((kinds[kind], value))
            if period is None:
                add(
                    loc, f"Unknown value {value!r} of dimension {kind!r} for entity {entity.db_id}."
                )
                continue
            date_from, date_to = period
            when = payload["invoiceDate"]
            if (date_from and when < date_from) or (date_to and when > date_to):
                add(loc, f"Value {value!r} of dimension {kind!r} is not valid on {when}.")
                continue
            placed[str(slots[kind])] = value
        gl_objects.append(placed)

    file_name = ""
    if pdf is not None:
        limit = pdf_max_bytes()
        if len(pdf) > limit:
            add(("pdf", "content"), f"The PDF is {len(pdf)} bytes; at most {limit} are accepted.")
        elif not pdf.startswith(PDF_MAGIC):
            add(("pdf", "content"), "Not a PDF (it does not start with %PDF-).")
        file_name = safe_file_name(
            (payload.get("pdf") or {}).get("fileName"), f"invoice-{payload['invoiceNumber']}"
        )

    if errors:
        raise InvoiceInvalid(errors)
    return CleanInvoice(entity=entity, gl_objects=gl_objects, file_name=file_name)
