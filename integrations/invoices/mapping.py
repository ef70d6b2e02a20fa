"""Our invoice → the inputs of Xledger's `addGLImportItems`.

One supplier invoice becomes several import items that share `invoiceNumber` and `extIdentifier`:
the supplier line (the subledger, crediting the total) and one line per accounting line (the
account, the VAT code, the dimensions). Each item has a `clientId` derived from the invoice, so
Xledger's answer is matched to our lines by id, never by position, and the same item has the
same clientId on every attempt.

Every choice the contract marks [ours] or [seen] is in the block below, so that correcting it
once the live schema has been checked is one edit here.
"""

from __future__ import annotations

from decimal import Decimal

# --- Choices not confirmed by Xledger's public material -----------------------------------------

# [ours] Our reference on every item of an invoice; SEMINE's external id is unique per customer.
EXT_IDENTIFIER_PREFIX = "SEMINE:"
# [ours] clientId of an import item: the invoice's reference and the line number (0 = supplier).
CLIENT_ID_FORMAT = "{ext_identifier}#{line}"
# [ours] The transaction source Xledger files the items under (None leaves it out).
TRANSACTION_SOURCE_CODE = "SEMINE"
# [ours] Signs: the supplier line credits the total incl. VAT, accounting lines debit their net.
SUPPLIER_LINE_SIGN = Decimal(-1)
ACCOUNTING_LINE_SIGN = Decimal(1)
# [ours] Amounts travel as strings, so no float ever touches them.
AMOUNT_FORMAT = "{:.2f}"
# [known] Xledger's GL import has five dimension slots, glObject1 .. glObject5.
GL_OBJECT_SLOTS = 5
# [ours] Which object kind goes in which slot: the connection's selected dimensions in their
# order; when none are selected, the mirror's object kinds in dbId order, VAT kinds left out.
TAX_RULE_KIND_CODES = ("TAX_RULE", "MERVERDIAVGIFT")  # [seen]
# [seen] A PDF is a multipart file part mapped onto the supplier line's `invoiceFile`; the
# variables carry None in its place (the GraphQL multipart request spec).
FILE_FIELD = "invoiceFile"
FILE_CONTENT_TYPE = "application/pdf"


def ext_identifier(external_id: str) -> str:
    return f"{EXT_IDENTIFIER_PREFIX}{external_id}"


def client_id(external_id: str, line: int) -> str:
    return CLIENT_ID_FORMAT.format(ext_identifier=ext_identifier(external_id), line=line)


def client_ids(invoice) -> list[str]:
    """Every import item's clientId, supplier line first (uses `item_count`, no query)."""
    return [client_id(invoice.external_id, n) for n in range(invoice.item_count)]


def amount(value: Decimal, sign: Decimal = ACCOUNTING_LINE_SIGN) -> str:
    return AMOUNT_FORMAT.format(value * sign)


def dimension_slots(connection) -> dict[str, int]:
    """Object kind code → glObject slot (1..5) for a connection."""
    codes = [c for c in (connection.selected_dimensions or []) if c not in TAX_RULE_KIND_CODES]
    if not codes:
        from integrations.models import ObjectKind

        codes = list(
            ObjectKind.objects.filter(connection=connection, is_deleted=False)
            .exclude(code__in=TAX_RULE_KIND_CODES)
            .order_by("db_id")
            .values_list("code", flat=True)
        )
    return {code: slot for slot, code in enumerate(codes[:GL_OBJECT_SLOTS], start=1)}


def import_items(invoice, lines, *, supplier_account: str = "") -> list[dict]:
    """The `{clientId, node}` inputs of one invoice, supplier line first.

    `lines` are the invoice's InvoiceLine rows in position order; `supplier_account` is the
    customer's default posting account for suppliers (left out when empty: Xledger then uses
    the supplier's own).
    """
    common = {
        "postedDate": (invoice.posted_date or invoice.invoice_date).isoformat(),
        "invoiceDate": invoice.invoice_date.isoformat(),
        "dueDate": invoice.due_date.isoformat(),
        "invoiceNumber": invoice.invoice_number,
        "currency": {"code": invoice.currency},
        "owner": {"dbId": invoice.entity.db_id},
        "extIdentifier": ext_identifier(invoice.external_id),
    }
    if TRANSACTION_SOURCE_CODE:
        common["transactionSource"] = {"code": TRANSACTION_SOURCE_CODE}

    supplier = {
        **common,
        "text": invoice.text or invoice.invoice_number,
        "subledger": {"code": invoice.supplier_code},
        "amount": amount(invoice.amount, SUPPLIER_LINE_SIGN),
        "invoiceAmount": amount(invoice.amount),
        "taxAmount": amount(invoice.vat_amount),
    }
    if supplier_account:
        supplier["account"] = {"code": supplier_account}
    items = [{"clientId": client_id(invoice.external_id, 0), "node": supplier}]

    for line in lines:
        node = {
            **common,
            "text": line.text or invoice.text or invoice.invoice_number,
            "account": {"code": line.account},
            "taxRule": {"code": line.vat_code},
            "amount": amount(line.amount, ACCOUNTING_LINE_SIGN),
            "invoiceAmount": amount(invoice.amount),
        }
        for slot, value in sorted((line.gl_objects or {}).items()):
            node[f"glObject{int(slot)}"] = {"code": value}
        items.append({"clientId": client_id(invoice.external_id, line.position), "node": node})
    return items


def file_path(index: int) -> str:
    """Where a file part goes in the request's variables (for `XledgerClient(files=...)`)."""
    return f"variables.inputs.{index}.node.{FILE_FIELD}"


def attach_file(item: dict) -> None:
    """Mark an input as carrying the file part (the spec's placeholder is null)."""
    item["node"][FILE_FIELD] = None
