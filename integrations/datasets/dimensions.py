"""Financial dimensions: the object kinds the customer chose, and their values.

An object kind is known by its dbId: no public client shows a `code` on object kinds [seen], so
our key for a kind (the mirror's `code`, `connection.selected_dimensions`, the invoice API's
dimension names) is its dbId written as text, and its `name` is the description.

Only the kinds in `connection.selected_dimensions` are kept. Kinds are few: one request reads them
all. Values are read for all kinds at once (no dbId argument is ever sent, see queries.py) and
those of the chosen kinds kept; incrementally by modifiedAt once there is a watermark, in full when
a kind was chosen since the last run. A full run also tombstones the values of kinds that are no
longer chosen. Requests: usually 1 a run. A full run reads the first page of the kinds and of the
values in one request, then any further pages; an incremental run reads the changed values only
(the kinds come with the daily full run, or at once when a kind was chosen since).
"""

from integrations.datasets.mirroring import (
    RecordMap,
    apply_deletions,
    date,
    datetime,
    excluded_owner_ids,
    integer,
    newest,
    page_size,
    since_watermark,
    text,
    write_pages,
)
from integrations.mirror_writer import MirrorWriter
from integrations.models import ObjectKind, ObjectValue
from integrations.xledger import queries
from integrations.xledger.dbids import db_id_of

KIND_FIELDS = {
    "code": ("dbId", text),  # our key for a kind: its dbId as text
    "description": ("name", text),
    "modified_at": ("modifiedAt", datetime),
}
VALUE_FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
    "object_kind_db_id": ("objectKindDbId", integer),
    "owner_db_id": ("ownerDbId", integer),
    "date_from": ("dateFrom", date),
    "date_to": ("dateTo", date),
    "modified_at": ("modifiedAt", datetime),
}
KIND_MAPPING = RecordMap(ObjectKind, KIND_FIELDS)
VALUE_MAPPING = RecordMap(ObjectValue, VALUE_FIELDS)


def kind_key(db_id) -> str:
    """Our key for an object kind (see the module's docstring)."""
    return str(db_id_of(db_id))


def sync(*, run, client, full):
    connection = run.connection
    selected = {str(key) for key in connection.selected_dimensions or []}
    excluded = excluded_owner_ids(connection)
    changed_values = None if full else since_watermark(queries.OBJECT_VALUES, run)
    known_kinds = set(
        ObjectKind.objects.filter(connection=connection, is_deleted=False).values_list(
            "db_id", flat=True
        )
    )
    kind_writer = MirrorWriter(ObjectKind, connection_id=connection.pk, fields=KIND_MAPPING.fields)
    chosen: set[int] = set()

    def chosen_kinds(page):
        kept = [node for node in page.nodes if kind_key(node.get("dbId")) in selected]
        chosen.update(db_id_of(node.get("dbId")) for node in kept)
        return kept

    full = full or changed_values is None
    live_before = 0
    if full:
        live_before = (
            kind_writer.live_count()
            + ObjectValue.objects.filter(connection=connection, is_deleted=False).count()
        )
    known_keys = {kind_key(db_id) for db_id in known_kinds}
    # A kind chosen since the last run has no values here yet: read them all this time.
    read_all = full or not selected <= known_keys
    values_query = queries.OBJECT_VALUES if read_all else changed_values
    first_values = None
    if read_all:
        # The first page of the kinds and of the values in one request (usually all of both).
        kinds, first_values = client.first_pages(
            "dimensions", [queries.OBJECT_KINDS, values_query], first=page_size()
        )
        write_pages(
            run=run,
            client=client,
            writer=kind_writer,
            mapping=KIND_MAPPING,
            query=queries.OBJECT_KINDS,
            track=full,
            nodes=chosen_kinds,
            start=kinds,
        )
        del kinds
    else:
        # Every chosen kind is in the mirror: an incremental run reads the changed values only
        # (one request). The kinds themselves (their names) come with the daily full run.
        chosen.update(db_id_of(key) for key in selected)

    value_writer = MirrorWriter(
        ObjectValue, connection_id=connection.pk, fields=VALUE_MAPPING.fields
    )
    seen_max = write_pages(
        run=run,
        client=client,
        writer=value_writer,
        mapping=VALUE_MAPPING,
        start=first_values,
        query=values_query,
        excluded_owners=excluded,
        track=full,
        nodes=lambda page: [n for n in page.nodes if db_id_of(n.get("objectKindDbId")) in chosen],
    )
    if full:
        # Values of kinds no longer chosen are not in any page kept: tombstoned with the rest.
        apply_deletions(run=run, writers=[kind_writer, value_writer], live_before=live_before)
    run.watermark = newest(seen_max)  # written with the run's end (services._finish)
