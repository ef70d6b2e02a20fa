"""Fixed assets: always a full read [seen: no modifiedAt filter], and only for customers whose
setup says fixed assets apply (otherwise the run asks Xledger nothing)."""

from integrations.datasets.mirroring import (
    RecordMap,
    apply_deletions,
    date,
    integer,
    page_size,
    text,
    write_page,
)
from integrations.mirror_writer import MirrorWriter
from integrations.models import FixedAsset
from integrations.xledger import queries

FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
    "date_purchased": ("datePurchased", date),
    "asset_group_db_id": ("assetGroup.dbId", integer),
    "asset_status": ("assetStatus.name", text),
}
MAPPING = RecordMap(FixedAsset, FIELDS)


def applies(connection) -> bool:
    return bool(connection.customer.fixed_assets_apply)


def sync(*, run, client, full):
    if not applies(run.connection):
        return
    writer = MirrorWriter(FixedAsset, connection_id=run.connection_id, fields=MAPPING.fields)
    live_before = writer.live_count()
    for page in client.paginate(first=page_size(), document=queries.ASSETS, path="assets"):
        write_page(
            run=run, client=client, writer=writer, mapping=MAPPING, nodes=page.nodes, track=True
        )
        del page  # one page in memory at a time: drop it before the next is read
    apply_deletions(run=run, writers=[writer], live_before=live_before)
