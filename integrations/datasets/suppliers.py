"""The supplier register: incremental by modifiedAt, deletions from supplier_deltas.

An incremental run sends ONE document holding both the changed suppliers and the new deltas
(`queries.supplier_changes`), so a run where nothing changed costs exactly one request. A full
run reads every supplier, tombstones the ones it did not see, and remembers the newest delta's
cursor, from which the next incremental run reads.
"""

from integrations.datasets.mirroring import (
    RecordMap,
    apply_deletions,
    datetime,
    deletions_guarded,
    excluded_owner_ids,
    integer,
    newest,
    page_size,
    text,
    write_page,
)
from integrations.mirror_writer import MirrorWriter
from integrations.models import Supplier
from integrations.xledger import queries, timestamps
from integrations.xledger.client import page_of
from integrations.xledger.dbids import db_id_of
from integrations.xledger.errors import QueryError

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
    if full or not (run.schedule and run.schedule.watermark):
        _full(run, client, writer, excluded)
    else:
        _incremental(run, client, writer, excluded)


def _full(run, client, writer, excluded):
    live_before = writer.live_count()
    first, after, tail, watermark = page_size(), None, None, None
    while True:
        data, first = client.read_shrinking(
            lambda size, after=after: queries.suppliers_full(first=size, after=after), first=first
        )
        if after is None:
            # The delta cursor as this run began: the next incremental run reads from there.
            tail = _last_cursor(data.get("deltaTail"))
        page = page_of(data, "suppliers")
        seen = write_page(
            run=run,
            client=client,
            writer=writer,
            mapping=MAPPING,
            nodes=page.nodes,
            excluded_owners=excluded,
            track=True,
        )
        watermark = newest(watermark, seen)
        if not page.has_next_page:
            break
        after = _next_cursor(page, after)
        data = page = None  # one page in memory at a time
    apply_deletions(run=run, writers=[writer], live_before=live_before)
    run.watermark = watermark
    run.delta_cursor = tail or (run.schedule.delta_cursor if run.schedule else "")


def _incremental(run, client, writer, excluded):
    """Changed suppliers and new deltas, one request per page of either side. Deltas are read in
    the order Xledger lists them and only each dbId's LAST delta counts: a supplier deleted and
    added again is not deleted, and re-reading deltas already applied changes nothing."""
    schedule = run.schedule
    state = {
        "since": timestamps.modified_since(schedule.watermark),
        "after": None,
        "delta_after": schedule.delta_cursor or None,
        "with_suppliers": True,
        "with_deltas": True,
    }
    first, watermark, last_delta = page_size(), None, {}
    while state["with_suppliers"] or state["with_deltas"]:
        data, first = client.read_shrinking(
            lambda size: queries.supplier_changes(first=size, **state), first=first
        )
        nodes = []
        if state["with_suppliers"]:
            page = page_of(data, "suppliers")
            nodes = page.nodes
            state["with_suppliers"] = page.has_next_page
            if page.has_next_page:
                state["after"] = _next_cursor(page, state["after"])
        if state["with_deltas"]:
            deltas = page_of(data, "supplier_deltas")
            for node in deltas.nodes:
                db_id = db_id_of(node.get("dbId"))
                if db_id is not None:
                    last_delta[db_id] = node.get("mutationType")
            state["delta_after"] = deltas.end_cursor or state["delta_after"]
            state["with_deltas"] = deltas.has_next_page
        seen = write_page(
            run=run,
            client=client,
            writer=writer,
            mapping=MAPPING,
            nodes=nodes,
            excluded_owners=excluded,
        )
        watermark = newest(watermark, seen)
        data = nodes = None  # one page in memory at a time
    deleted = [db_id for db_id, kind in last_delta.items() if kind == DELETED]
    live = [db_id for db_id, (_, gone) in writer.existing(deleted).items() if not gone]
    if live and deletions_guarded(run=run, missing=len(live), live=writer.live_count(), full=False):
        run.deleted += writer.mark_deleted(live)
    run.watermark = watermark
    run.delta_cursor = state["delta_after"] or ""


def _next_cursor(page, after):
    if page.end_cursor is None or page.end_cursor == after:
        raise QueryError("Xledger said there is a next page of 'suppliers' but gave no new cursor.")
    return page.end_cursor


def _last_cursor(connection) -> str | None:
    """The last edge's cursor of a list answer (no `endCursor` is asked for)."""
    edges = (connection or {}).get("edges") or ()
    return edges[-1].get("cursor") if edges else None
