"""Financial dimensions: the object kinds the customer chose, and their values.

Only the kinds in `connection.selected_dimensions` (object-kind codes) are kept. Kinds are few:
one request reads them all. Values are read per chosen kind, incrementally by modifiedAt; a kind
chosen since the last run is read in full. A full run also tombstones the values of kinds that
are no longer chosen. Requests: 1 + (pages of values per chosen kind, at least one each).
"""

from integrations.datasets.mirroring import (
    RecordMap,
    apply_deletions,
    date,
    datetime,
    excluded_owner_ids,
    integer,
    newest,
    text,
    write_pages,
)
from integrations.mirror_writer import MirrorWriter
from integrations.models import ObjectKind, ObjectValue
from integrations.xledger import queries, timestamps

KIND_FIELDS = {
    "code": ("code", text),
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


def sync(*, run, client, full):
    connection = run.connection
    selected = set(connection.selected_dimensions or [])
    excluded = excluded_owner_ids(connection)
    watermark = run.schedule.watermark if run.schedule else None
    full = full or watermark is None
    known_kinds = set(
        ObjectKind.objects.filter(connection=connection, is_deleted=False).values_list(
            "db_id", flat=True
        )
    )

    kind_writer = MirrorWriter(ObjectKind, connection_id=connection.pk, fields=KIND_MAPPING.fields)
    value_writers, live_before = [], 0
    if full:
        live_before = (
            kind_writer.live_count()
            + ObjectValue.objects.filter(connection=connection, is_deleted=False).count()
        )

    chosen = []

    def chosen_kinds(page):
        kept = [node for node in page.nodes if node.get("code") in selected]
        chosen.extend(node["dbId"] for node in kept)
        return kept

    write_pages(
        run=run,
        client=client,
        writer=kind_writer,
        mapping=KIND_MAPPING,
        document=queries.OBJECT_KINDS,
        path="objectKinds",
        track=full,
        nodes=chosen_kinds,
    )

    seen_max = None
    for kind_db_id in chosen:
        writer = MirrorWriter(
            ObjectValue,
            connection_id=connection.pk,
            fields=VALUE_MAPPING.fields,
            scope={"object_kind_db_id": kind_db_id},
        )
        value_writers.append(writer)
        read_all = full or kind_db_id not in known_kinds
        variables = {"objectKindDbId": kind_db_id}
        document = queries.OBJECT_VALUES
        if not read_all:
            document = queries.OBJECT_VALUES_MODIFIED_SINCE
            variables["modifiedSince"] = timestamps.modified_since(watermark)
        seen = write_pages(
            run=run,
            client=client,
            writer=writer,
            mapping=VALUE_MAPPING,
            document=document,
            path="objectValues",
            variables=variables,
            excluded_owners=excluded,
            track=full,
        )
        seen_max = newest(seen_max, seen)

    if full:
        retired = MirrorWriter(ObjectValue, connection_id=connection.pk, fields=())
        retired.deletions.missing = list(
            ObjectValue.objects.filter(connection=connection, is_deleted=False)
            .exclude(object_kind_db_id__in=chosen)
            .values_list("db_id", flat=True)
        )
        retired.deletions.finished = True
        apply_deletions(
            run=run, writers=[kind_writer, *value_writers, retired], live_before=live_before
        )
    run.watermark = seen_max
    run.save(update_fields=["watermark"])
