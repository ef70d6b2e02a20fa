"""Our invoice → the inputs of Xledger's `addGLImportItems`, and stored items → our lines.

One supplier invoice becomes several import items that share `invoiceNumber` and `extIdentifier`:
the supplier line (the subledger, crediting the total) and one line per accounting line (the
account, the VAT code, the dimensions). Each item has a `clientId` derived from the invoice, so
the mutation's answer is matched to our lines by id, never by position, and the same item has
the same clientId on every attempt.

A *stored* item carries no clientId (nothing public shows one), so items read back by
`extIdentifier` are matched to our lines by their content instead (`item_key`): the supplier
line by its subledger code and amount, an accounting line by its account code and amount.

Every choice the contract marks [ours] or [seen] is in the block below, so that correcting it
once the live schema has been checked is one edit here.
"""

from __future__ import annotations

import re
from decimal import Decimal

from integrations.models.connections import DEFAULT_TRANSACTION_SOURCE

# --- Choices not confirmed by Xledger's public material -----------------------------------------

# [ours] Our reference on every item of an invoice; SEMINE's external id is unique per customer.
EXT_IDENTIFIER_PREFIX = "SEMINE:"
# [ours] clientId of an import item: the invoice's reference and the line number (0 = supplier).
CLIENT_ID_FORMAT = "{ext_identifier}#{line}"
# [ours] The transaction source Xledger files the items under (None leaves it out).
TRANSACTION_SOURCE_CODE = DEFAULT_TRANSACTION_SOURCE  # each connection may name its own
# [ours] Signs: the supplier line credits the total incl. VAT, accounting lines debit their net.
SUPPLIER_LINE_SIGN = Decimal(-1)
ACCOUNTING_LINE_SIGN = Decimal(1)
# [ours] Amounts travel as strings, so no float ever touches them.
AMOUNT_FORMAT = "{:.2f}"
# [known] Xledger's GL import has five dimension slots, glObject1 .. glObject5.
GL_OBJECT_SLOTS = 5
# [ours] Which object kind goes in which slot: the connection's selected dimensions (object kind
# keys: their dbIds as text, see datasets/dimensions.py) in their order.
# [seen] A PDF is a multipart file part named by the supplier line's `invoiceFile`: the variables
# hold the file's name (Xledger's form matches the part by its filename), and the client's spec
# `map` part puts the file there for a server that follows the GraphQL multipart request spec.
FILE_FIELD = "invoiceFile"
FILE_CONTENT_TYPE = "application/pdf"
# [known] Xledger's own sample writes dbIds as Int64String (strings of digits); [seen] other
# clients send Int. An input dbId (`owner { dbId }`) must fit the server's scalar exactly, so the
# sender tries these forms in this order and keeps the one the server accepts (services.py).
DB_ID_FORMS = ("string", "number")
# [ours] A file part's name is what a server that matches files by name looks for, so it is kept
# to characters every multipart reader decodes alike; two PDFs of one request never share one.
FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


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
    """Object kind key → glObject slot (1..5) for a connection."""
    keys = [str(key) for key in connection.selected_dimensions or []]
    return {key: slot for slot, key in enumerate(keys[:GL_OBJECT_SLOTS], start=1)}


def db_id_value(db_id: int, form: str = DB_ID_FORMS[0]) -> int | str:
    """An input dbId in one of `DB_ID_FORMS`."""
    if form not in DB_ID_FORMS:
        raise ValueError(f"unknown dbId form {form!r}")
    return str(int(db_id)) if form == "string" else int(db_id)


def transaction_source(connection) -> str:
    """The transaction source code the connection's items are filed under: the customer's
    choice on the scope page, SEMINE's default until then [ours: whether a source must exist
    first is not public; the customer confirms it before go-live]."""
    return (getattr(connection, "transaction_source_code", "") or TRANSACTION_SOURCE_CODE).strip()


def import_items(
    invoice, lines, *, supplier_account: str = "", db_id_form: str = DB_ID_FORMS[0]
) -> list[dict]:
    """The `{clientId, node}` inputs of one invoice, supplier line first.

    `lines` are the invoice's InvoiceLine rows in position order; `supplier_account` is the
    customer's default posting account for suppliers (left out when empty: Xledger then uses
    the supplier's own); `db_id_form` how the owner's dbId is written (`DB_ID_FORMS`).
    """
    common = {
        "postedDate": (invoice.posted_date or invoice.invoice_date).isoformat(),
        "invoiceDate": invoice.invoice_date.isoformat(),
        "dueDate": invoice.due_date.isoformat(),
        "invoiceNumber": invoice.invoice_number,
        "currency": {"code": invoice.currency},
        "owner": {"dbId": db_id_value(invoice.entity.db_id, db_id_form)},
        "extIdentifier": ext_identifier(invoice.external_id),
    }
    source = transaction_source(invoice.connection)
    if source:
        common["transactionSource"] = {"code": source}

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


def file_names(file_name: str, external_id: str) -> tuple[str, str]:
    """The names a PDF may travel under: its own name made safe, and the same prefixed with the
    invoice's external id for when another PDF of the same request already has that name."""
    plain = FILE_NAME_UNSAFE.sub("_", file_name or "") or "invoice.pdf"
    return plain, f"{FILE_NAME_UNSAFE.sub('_', external_id)}-{plain}"


def file_path(index: int) -> str:
    """Where a file part goes in the request's variables (for `XledgerClient(files=...)`)."""
    return f"variables.inputs.{index}.node.{FILE_FIELD}"


def attach_file(item: dict, file_name: str) -> None:
    """Name the file part on an input: the name is the part's filename (Xledger's form finds
    the file by it; a spec server replaces it with the file through the `map` part)."""
    item["node"][FILE_FIELD] = file_name


# --- Reading stored items back -------------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _code(ref) -> str:
    return str((ref or {}).get("code") or "") if isinstance(ref, dict) else ""


def input_key(item: dict) -> tuple:
    """What identifies one of our inputs among the items stored under its extIdentifier, without
    a clientId: the supplier line by subledger and amount, an accounting line by account and
    amount. Identical lines have the same key, and are interchangeable."""
    node = item["node"]
    if node.get("subledger"):
        return ("supplier", _code(node["subledger"]), _decimal(node.get("amount")))
    return ("line", _code(node.get("account")), _decimal(node.get("amount")))


def stored_key(node: dict) -> tuple:
    """The same key for an item read back from Xledger (amounts as strings or numbers)."""
    if _code(node.get("subledger")):
        return ("supplier", _code(node["subledger"]), _decimal(node.get("amount")))
    return ("line", _code(node.get("account")), _decimal(node.get("amount")))
