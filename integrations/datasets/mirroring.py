"""What every mirror dataset does with Xledger records: read the pages, map, filter, write,
count, apply deletions, move the watermark.

A dataset module holds its field mapping as one table (`FIELDS`: mirror field → (Xledger path,
converter)) and what is special about reading it; everything else is here. A dataset that is
one Xledger list is a single call of `mirror_list`; the others build on `write_pages`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime as DateTime
from decimal import Decimal, InvalidOperation

import orjson
from django.conf import settings
from django.db import connection as db
from django.db import reset_queries

from integrations.mirror_writer import MirrorWriter
from integrations.models import ClientEntity
from integrations.xledger import queries, timestamps
from integrations.xledger.dbids import db_id_of


def page_size() -> int:
    """Records asked for per request: Xledger's maximum (fewer, fuller pages cost the customer
    fewer requests). A setting only so tests can make many small pages."""
    return int(getattr(settings, "SYNC_PAGE_SIZE", queries.MAX_PAGE_SIZE))


class Rejected(ValueError):
    """This record cannot be mapped to a mirror row; the message says why."""


# --- Converters (Xledger JSON value → model value) -------------------------------------------


def text(value) -> str:
    return "" if value is None else str(value)


def integer(value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise Rejected(f"expected a number, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Rejected(f"expected a whole number, got {value!r}") from None


def decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise Rejected(f"expected a decimal number, got {value!r}") from None


def flag(value) -> str:
    """Xledger booleans kept as 'true'/'false' (the mirror's CharFields), '' when absent."""
    return "" if value is None else str(bool(value)).lower()


def date(value):
    try:
        return timestamps.parse_date(value)
    except ValueError:
        raise Rejected(f"not a date: {value!r}") from None


def datetime(value):
    try:
        return timestamps.parse_datetime(value)
    except ValueError:
        raise Rejected(f"not a date-time: {value!r}") from None


def _dig(node: dict, path: str):
    for part in path.split("."):
        if node is None:
            return None
        if not isinstance(node, dict):
            raise Rejected(f"'{path}' is not an object")
        node = node.get(part)
    return node


class RecordMap:
    """Turns an Xledger node into a mirror row dict (db_id, content_hash, fields)."""

    def __init__(self, model, fields: dict[str, tuple[str, Callable]]):
        self.model = model
        self.table = fields
        self.fields = list(fields)
        self.max_lengths = {
            name: model._meta.get_field(name).max_length
            for name in fields
            if getattr(model._meta.get_field(name), "max_length", None)
        }

    def row(self, node: dict, **extra) -> dict:
        if not isinstance(node, dict):
            raise Rejected("not an object")
        db_id = integer(node.get("dbId"))
        if db_id is None:
            raise Rejected("no dbId")
        row = {"db_id": db_id}
        for name, (path, convert) in self.table.items():
            row[name] = convert(_dig(node, path))
        row.update(extra)
        for name, limit in self.max_lengths.items():
            if isinstance(row[name], str) and len(row[name]) > limit:
                raise Rejected(f"{name} is longer than {limit} characters")
        row["content_hash"] = content_hash(row, self.fields)
        return row


def content_hash(row: dict, fields: Iterable[str]) -> str:
    payload = orjson.dumps([row[name] for name in fields], default=str)
    return hashlib.blake2b(payload, digest_size=20).hexdigest()


# --- Scope: which client entities' records are kept ------------------------------------------


def excluded_owner_ids(connection) -> frozenset[int]:
    """Client entities the customer took out of scope. The owner entity is always kept, and a
    record of an entity we do not know yet (created after the last verification) is kept.
    A worker's run reads them with the run itself (`services.run_execute`) and leaves them on
    the connection as `excluded_owner_ids`."""
    known = getattr(connection, "excluded_owner_ids", None)
    if known is not None:
        return frozenset(int(i) for i in known.split(",") if i) if known else frozenset()
    return frozenset(
        ClientEntity.objects.filter(
            connection=connection, in_scope=False, is_owner=False
        ).values_list("db_id", flat=True)
    )


# --- One page --------------------------------------------------------------------------------


def write_page(
    *,
    run,
    client,
    writer: MirrorWriter,
    mapping: RecordMap,
    nodes: list[dict],
    excluded_owners: frozenset[int] = frozenset(),
    track: bool = False,
    extra: Callable[[dict], dict] | None = None,
):
    """Map, filter and write one page; count it on the run (which beats its heartbeat).
    Returns the largest modified_at among the page's rows (for the watermark), or None."""
    rows, rejections, present = [], [], []
    for node in nodes:
        db_id = db_id_of(node.get("dbId")) if isinstance(node, dict) else None
        owner = db_id_of(node.get("ownerDbId")) if isinstance(node, dict) else None
        if owner is not None and owner in excluded_owners:
            continue  # a client entity out of scope: not stored (and tombstoned if it was)
        try:
            rows.append(mapping.row(node, **(extra(node) if extra else {})))
        except (Rejected, TypeError, ValueError, KeyError) as exc:
            rejections.append({"db_id": db_id, "code": _code(node), "reason": str(exc)})
        if db_id is not None:
            present.append(db_id)  # a rejected record still exists: never a deletion
    result = writer.write(rows)
    if track:
        writer.track(present)
    run.record_page(
        fetched=len(nodes),
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        rejected=len(rejections),
        rejections=rejections,
        requests=client.request_count,
    )
    if settings.DEBUG and not db.force_debug_cursor:
        # DEBUG keeps every statement in memory, and ours each carry a page of JSON: without
        # this a worker in development would grow by megabytes a page.
        reset_queries()
    stamps = [row["modified_at"] for row in rows if row.get("modified_at")]
    return max(stamps) if stamps else None


def _code(node) -> str:
    return str(node.get("code") or "")[:100] if isinstance(node, dict) else ""


def newest(*values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


# --- Every page of a list ---------------------------------------------------------------------


def write_pages(
    *,
    run,
    client,
    writer: MirrorWriter,
    mapping: RecordMap,
    query,
    track: bool = False,
    excluded_owners: frozenset[int] = frozenset(),
    extra: Callable[[dict], dict] | None = None,
    nodes: Callable | None = None,
    start=None,
) -> DateTime | None:
    """Read every page of one Xledger list (`queries.ListQuery`) and write it (`write_page`),
    one page in memory at a time. `nodes(page)` picks the nodes to write (default: all of them)
    and is where a dataset reads what else a page's answer holds. Returns the newest
    modified_at written, or None. `start`: the list's first page, already read
    (`client.first_pages`)."""
    seen_max = None
    for page in client.paginate(query, first=page_size(), start=start):
        seen = write_page(
            run=run,
            client=client,
            writer=writer,
            mapping=mapping,
            nodes=nodes(page) if nodes else page.nodes,
            excluded_owners=excluded_owners,
            track=track,
            extra=extra,
        )
        seen_max = newest(seen_max, seen)
        del page  # one page in memory at a time: drop it before the next is read
    return seen_max


def since_watermark(query, run):
    """The incremental form of `query` for this run (its schedule's watermark minus the overlap,
    as Xledger wants it), or None when there is no watermark yet (read everything)."""
    watermark = run.schedule.watermark if run.schedule else None
    if watermark is None:
        return None
    return query.where(modifiedAt_gte=timestamps.modified_since(watermark))


def mirror_list(
    *,
    run,
    client,
    mapping: RecordMap,
    query,
    full: bool = True,
    incremental: bool = False,
    extra: Callable[[dict], dict] | None = None,
) -> None:
    """One run of a dataset that is one Xledger list.

    With `incremental` (the list takes `modifiedAt_gte`) and a watermark, only what changed
    since the watermark is read; otherwise, or when `full`, the whole list is, and what it did
    not see is tombstoned (`apply_deletions`). Records of client entities out of scope are left
    out when the records have an owner, and the run's watermark moves to the newest modifiedAt
    written when the records have one (currencies and fixed assets do not).
    """
    writer = MirrorWriter(mapping.model, connection_id=run.connection_id, fields=mapping.fields)
    excluded = frozenset()
    if "owner_db_id" in mapping.fields:
        excluded = excluded_owner_ids(run.connection)
    changed = since_watermark(query, run) if incremental and not full else None
    full = changed is None
    live_before = writer.live_count() if full else 0
    seen_max = write_pages(
        run=run,
        client=client,
        writer=writer,
        mapping=mapping,
        query=query if full else changed,
        track=full,
        excluded_owners=excluded,
        extra=extra,
    )
    if full:
        apply_deletions(run=run, writers=[writer], live_before=live_before)
    if "modified_at" in mapping.fields:
        run.watermark = seen_max  # written with the run's end (services._finish)


# --- The end of a full sync ------------------------------------------------------------------


def apply_deletions(*, run, writers: list[MirrorWriter], live_before: int) -> None:
    """Tombstone what the full sync did not see (`deletions_guarded` decides whether to)."""
    for writer in writers:
        writer.finish_tracking()
    missing = {id(w): list(w.deletions.missing) for w in writers}
    total = sum(map(len, missing.values()))
    if not deletions_guarded(run=run, missing=total, live=live_before, full=True):
        return
    deleted = sum(w.mark_deleted(missing[id(w)]) for w in writers)
    if deleted:
        run.deleted += deleted  # written with the run's end (services._finish)


def deletions_guarded(*, run, missing: int, live: int, full: bool) -> bool:
    """The one mass-deletion guard, for full runs (what a full read did not see) and
    incremental ones (what `supplier_deltas` says was deleted) alike: True when `missing` of
    `live` records may be tombstoned now. A suspiciously large share is held for a person
    (one Issue), because an Xledger permission change must never empty SEMINE's supplier
    register; once a person confirmed it, or when the share is small, it goes ahead. Only a
    full run that goes ahead closes the question (an incremental run saw too little to)."""
    from integrations import issues

    threshold = getattr(settings, "MASS_DELETION_THRESHOLD", 0.20)
    if live and missing / live > threshold:
        if not issues.mass_deletion_confirmed(connection=run.connection, dataset=run.dataset):
            issues.mass_deletion_hold(run=run, missing=missing, live=live)
            return False
    if full:
        issues.mass_deletion_cleared(connection=run.connection, dataset=run.dataset)
    return True
