"""Fixed assets: always a full read [seen: no modifiedAt filter], and only for customers whose
setup says fixed assets apply (otherwise the run asks Xledger nothing). Assets belong to an
entity (`ownerDbId`, most to client entities) and are scope-filtered like every other dataset."""

from integrations.datasets.mirroring import RecordMap, date, integer, mirror_list, text
from integrations.models import FixedAsset
from integrations.xledger import queries

FIELDS = {
    "code": ("code", text),
    "description": ("description", text),
    "owner_db_id": ("ownerDbId", integer),
    "date_purchased": ("datePurchased", date),
    "asset_group_db_id": ("assetGroup.dbId", integer),
    "asset_status": ("assetStatus.name", text),
}
MAPPING = RecordMap(FixedAsset, FIELDS)


def applies(connection) -> bool:
    """Asked by services.dataset_applies too (go-live enables the schedule only if so)."""
    return bool(connection.customer.fixed_assets_apply)


def sync(*, run, client, full):
    if not applies(run.connection):
        return
    mirror_list(run=run, client=client, mapping=MAPPING, query=queries.ASSETS)
