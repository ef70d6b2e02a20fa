"""VAT codes: the object values of the tax-rule object kind, with their rates and accounts from
taxTableSetups [seen: no public taxRules/vatCodes query]. Always a full read (small).

The tax-rule kind is found from the data, not by a name or code we would have to guess: tax table
setups point at VAT codes (`objectValueDbId`), so the kinds of the values they point at are the
tax-rule kinds. Object values are read whole (no dbId argument is ever sent, see queries.py) and
the VAT codes kept. A code can have several setups over time [seen]: the rate in force is the
one with the latest `dateFrom` not after today; the whole dated schedule is mirrored as well.

Requests: the first page of the setups and of the object values in one request, then any further
pages of each (usually none: one request a run).
"""

from datetime import datetime as DateTime

from integrations.datasets.mirroring import (
    RecordMap,
    apply_deletions,
    date,
    datetime,
    decimal,
    excluded_owner_ids,
    integer,
    page_size,
    text,
    write_pages,
)
from integrations.mirror_writer import MirrorWriter
from integrations.models import VatCode
from integrations.xledger import queries, timestamps
from integrations.xledger.dbids import db_id_of

FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
    "owner_db_id": ("ownerDbId", integer),
    "modified_at": ("modifiedAt", datetime),
    # joined in from taxTableSetups by `in_force`:
    "tax_percent": ("taxPercent", decimal),
    "account_db_id": ("accountDbId", integer),
    "rate_from": ("rateFrom", date),
    "rates": ("rates", lambda value: value),
}
MAPPING = RecordMap(VatCode, FIELDS)


def sync(*, run, client, full):
    # The first page of the setups and of the object values in one request (usually all of it).
    setups, values = client.first_pages(
        "vatCodes", [queries.TAX_TABLE_SETUPS, queries.OBJECT_VALUES], first=page_size()
    )
    schedules = _rate_schedules(client, setups)
    del setups
    run.record_page(requests=client.request_count)
    today = DateTime.now(timestamps.XLEDGER_TZ).date()
    tax_kinds: set[int] = set()

    def vat_codes(page):
        for node in page.nodes:
            if db_id_of(node.get("dbId")) in schedules:
                tax_kinds.add(db_id_of(node.get("objectKindDbId")))
        return [
            node
            for node in page.nodes
            if db_id_of(node.get("dbId")) in schedules
            or db_id_of(node.get("objectKindDbId")) in tax_kinds
        ]

    def rate(node):
        return in_force(schedules.get(db_id_of(node.get("dbId")), []), today)

    writer = MirrorWriter(VatCode, connection_id=run.connection_id, fields=MAPPING.fields)
    live_before = writer.live_count()
    write_pages(
        run=run,
        client=client,
        writer=writer,
        mapping=MAPPING,
        query=queries.OBJECT_VALUES,
        track=True,
        excluded_owners=excluded_owner_ids(run.connection),
        extra=rate,
        nodes=vat_codes,
        start=values,
    )
    apply_deletions(run=run, writers=[writer], live_before=live_before)


def _rate_schedules(client, start) -> dict[int, list[dict]]:
    """objectValueDbId → its setups as {dateFrom, taxPercent, accountDbId}, oldest first."""
    schedules: dict[int, list[dict]] = {}
    for page in client.paginate(queries.TAX_TABLE_SETUPS, first=page_size(), start=start):
        for node in page.nodes:
            value = db_id_of(node.get("objectValueDbId"))
            if value is None:
                continue
            when = date(node.get("dateFrom"))
            percent = decimal(node.get("taxPercent"))
            schedules.setdefault(value, []).append(
                {
                    "dateFrom": when.isoformat() if when else None,
                    "taxPercent": str(percent) if percent is not None else None,
                    "accountDbId": integer(node.get("accountDbId")),
                    "_setup": db_id_of(node.get("dbId")) or 0,
                }
            )
    for rates in schedules.values():
        rates.sort(key=lambda r: (r["dateFrom"] or "", r["_setup"]))
        for r in rates:
            del r["_setup"]
    return schedules


def in_force(rates: list[dict], today) -> dict:
    """The mirror fields of the setup in force on `today`: the latest dateFrom not after it (a
    setup without dateFrom has always applied). Before the first setup starts: no rate."""
    current = None
    for r in rates:
        if r["dateFrom"] is None or r["dateFrom"] <= today.isoformat():
            current = r
    return {
        "tax_percent": decimal(current["taxPercent"]) if current else None,
        "account_db_id": current["accountDbId"] if current else None,
        "rate_from": date(current["dateFrom"]) if current else None,
        "rates": rates,
    }
