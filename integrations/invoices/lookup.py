"""Reading an invoice's items back from Xledger, and telling which of our lines they are.

Two moments need it: a send that ended in doubt (did the items arrive?) and a batch that carried
PDFs (did each PDF arrive with its supplier line?). Both ask `glImportItems` by our own
reference, `extIdentifier`, for fields the contract names on a stored item. A stored item has no
clientId (nothing public shows one), so items are matched to our lines by their content
(`mapping.input_key`): the items of one invoice are a multiset, and identical lines are
interchangeable. Nothing here writes to the database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from integrations.invoices import mapping
from integrations.xledger import queries
from integrations.xledger.dbids import db_id_of


def look_up(client, refs) -> dict[str, list[dict]]:
    """extIdentifier → the import items Xledger holds for it (every page; one request for up
    to 10,000 items)."""
    found: dict[str, list[dict]] = {}
    if not refs:
        return found
    for page in client.paginate(queries.gl_import_items_by_ext_identifier(list(refs))):
        for node in page.nodes:
            found.setdefault(node.get("extIdentifier"), []).append(node)
    return found


@dataclass
class Match:
    """How the items stored under one invoice's reference line up with its import items."""

    matched: dict[str, dict] = field(default_factory=dict)  # clientId → stored item, newly found
    missing: list[str] = field(default_factory=list)  # clientIds with no stored item
    foreign: list[dict] = field(default_factory=list)  # stored items that are none of our lines

    @property
    def db_ids(self) -> dict[str, int]:
        return {cid: db_id_of(node.get("dbId")) for cid, node in self.matched.items()}


def match_stored(invoice, items: list[dict], nodes: list[dict]) -> Match:
    """Match the stored `nodes` to the invoice's `items` (`mapping.import_items`) that have no
    dbId on record yet. Items already on record are recognised by their dbId and left alone."""
    recorded = {db_id_of(v) for v in (invoice.xledger_db_ids or {}).values()}
    result = Match()
    candidates: dict[tuple, list[dict]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: db_id_of(n.get("dbId")) or 0):
        db_id = db_id_of(node.get("dbId"))
        if db_id is not None and db_id in recorded:
            continue
        number = node.get("invoiceNumber")
        if db_id is None or (number is not None and number != invoice.invoice_number):
            result.foreign.append(node)
            continue
        candidates[mapping.stored_key(node)].append(node)
    for item in items:
        cid = item["clientId"]
        if cid in (invoice.xledger_db_ids or {}):
            continue
        found = candidates.get(mapping.input_key(item))
        if found:
            result.matched[cid] = found.pop(0)
        else:
            result.missing.append(cid)
    result.foreign.extend(node for left in candidates.values() for node in left)
    return result


def supplier_line(invoice, nodes: list[dict], db_ids: dict) -> dict | None:
    """The stored supplier line among `nodes`, by the dbId on record (or just matched)."""
    db_id = db_id_of(db_ids.get(mapping.client_id(invoice.external_id, 0)))
    if db_id is None:
        return None
    return next((n for n in nodes if db_id_of(n.get("dbId")) == db_id), None)


def attachment_arrived(node: dict, names) -> bool:
    """Did the stored supplier line keep the PDF we sent under one of `names`?"""
    return node.get(mapping.FILE_FIELD) in set(names)
