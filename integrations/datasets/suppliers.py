"""The supplier register: incremental by modifiedAt, deletions from supplier_deltas.

An incremental run sends ONE document holding both the changed suppliers and the new deltas
(`queries.SUPPLIER_CHANGES`), so a run where nothing changed costs exactly one request. A full
run reads every supplier, tombstones the ones it did not see, and remembers the newest delta's
cursor, from which the next incremental run reads.
"""

from integrations.datasets.mirroring import (
    RecordMap,
    apply_deletions,
    datetime,
    excluded_owner_ids,
    integer,
    newest,
    page_size,
    text,
    write_page,
    write_pages,
)
from integrations.mirror_writer import MirrorWriter
from integrations.models import Supplier
from integrations.xledger import queries, timestamps

# mirror field: (Xledger path, converter)
FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
    "email": ("email", text),
    "bank_account": ("bankAccount", text),
    "company_number": ("company.companyNumber", text),
    "owner_db_id": ("ownerDbId", integer),
    "modified_at": ("modifiedAt", datetime),
}
MAPPING = RecordMap(Supplier, FIELDS)
DELETED = "DELETED"  # supplier_deltas mutationType [known]


def sync(*, run, client, full):
    writer = MirrorWriter(Supplier, connection_id=run.connection_id, fields=MAPPING.fields)
    excluded = excluded_owner_ids(run.connection)
    if full:
        _full(run, client, writer, excluded)
    else:
        _incremental(run, client, writer, excluded)


def _full(run, client, writer, excluded):
    live_before = writer.live_count()
    tails = []

    def noting_the_delta_tail(page):
        tails.append(_last_cursor(page.data.get("deltaTail")))
        return page.nodes

    watermark = write_pages(
        run=run,
        client=client,
        writer=writer,
        mapping=MAPPING,
        document=queries.SUPPLIERS_FULL,
        path="suppliers",
        excluded_owners=excluded,
        track=True,
        nodes=noting_the_delta_tail,
    )
    apply_deletions(run=run, writers=[writer], live_before=live_before)
    run.watermark = watermark
    # The newest delta as the first page saw it: the next incremental run reads from there.
    tail = tails[0] if tails else None
    run.delta_cursor = tail or (run.schedule.delta_cursor if run.schedule else "")
    run.save(update_fields=["watermark", "delta_cursor"])


def _incremental(run, client, writer, excluded):
    schedule = run.schedule
    since = schedule.watermark if schedule and schedule.watermark else None
    variables = {
        "first": page_size(),
        "after": None,
        "ownerSet": queries.DEFAULT_OWNER_SET,
        "modifiedSince": timestamps.modified_since(since) if since else "2000-01-01T00:00:00Z",
        "deltaFirst": page_size(),
        "deltaAfter": (schedule.delta_cursor if schedule else "") or None,
        "withSuppliers": True,
        "withDeltas": True,
    }
    watermark, deleted_ids = None, []
    while variables["withSuppliers"] or variables["withDeltas"]:
        data = client.execute(queries.SUPPLIER_CHANGES, variables)
        nodes = []
        if variables["withSuppliers"]:
            suppliers = data.get("suppliers") or {}
            nodes = [edge["node"] for edge in suppliers.get("edges") or ()]
            info = suppliers.get("pageInfo") or {}
            variables["after"] = info.get("endCursor") or _last_cursor(suppliers)
            variables["withSuppliers"] = bool(info.get("hasNextPage"))
        if variables["withDeltas"]:
            deltas = data.get("supplier_deltas") or {}
            for edge in deltas.get("edges") or ():
                if edge["node"].get("mutationType") == DELETED:
                    deleted_ids.append(int(edge["node"]["dbId"]))
            variables["deltaAfter"] = _last_cursor(deltas) or variables["deltaAfter"]
            variables["withDeltas"] = bool((deltas.get("pageInfo") or {}).get("hasNextPage"))
        seen = write_page(
            run=run,
            client=client,
            writer=writer,
            mapping=MAPPING,
            nodes=nodes,
            excluded_owners=excluded,
        )
        watermark = newest(watermark, seen)
        data = nodes = suppliers = None  # one page in memory at a time
    if deleted_ids:
        run.deleted += writer.mark_deleted(deleted_ids)
    run.watermark = watermark
    run.delta_cursor = variables["deltaAfter"] or ""
    run.save(update_fields=["deleted", "watermark", "delta_cursor"])


def _last_cursor(connection) -> str | None:
    """The connection's endCursor, or its last edge's cursor when pageInfo has none."""
    if not connection:
        return None
    cursor = (connection.get("pageInfo") or {}).get("endCursor")
    edges = connection.get("edges") or ()
    if cursor is None and edges:
        cursor = edges[-1].get("cursor")
    return cursor
