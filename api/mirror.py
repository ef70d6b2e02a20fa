"""The read API: each live connection's mirror of Xledger basic data, for SEMINE.

Every list answers `{"items": [...], "next_cursor": ...}`, oldest change first, and takes
`updated_since` (only rows that changed at or after it), `cursor` (from the previous page),
`limit` and `entity` (one client entity's view: its own records, the owner entity's and shared
ones). Deleted records stay in the list as tombstones (`deleted: true`, `deletedAt`) so SEMINE
learns about deletions. To stay in step: page until `next_cursor` is null, remember the newest
`updatedAt` seen, and next time ask with `updated_since` a few minutes before it (items are
keyed by `dbId`, so seeing one twice is harmless). Each page costs a constant number of queries.

Each list is served per connection (/api/connections/{connection_id}/suppliers) and, for a
customer with one live connection, per customer (/api/customers/{customer_id}/suppliers); see
connections.py.
"""

from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q
from ninja import Field, Query, Schema
from ninja.errors import ValidationError

from api.connections import ConnectionRoutes
from api.cursors import keyset_page
from api.errors import responses
from api.params import MAX_DB_ID, Cursor, UpdatedSince
from integrations.models import (
    Account,
    Currency,
    FixedAsset,
    ObjectKind,
    ObjectValue,
    Supplier,
    VatCode,
)
from integrations.models.connections import ClientEntity

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

routes = ConnectionRoutes(tags=["mirror"])


# ---- parameters -------------------------------------------------------------------------------


class ListParams(Schema):
    updated_since: UpdatedSince = Field(
        None, description="Only rows changed at or after this time, e.g. 2026-11-25T13:00:00Z."
    )
    cursor: Cursor = Field(None, description="`next_cursor` of the previous page.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    entity: int | None = Field(
        None,
        ge=1,
        le=MAX_DB_ID,
        description="A client entity's Xledger dbId: only what that entity sees.",
    )
    include_deleted: bool = Field(True, description="Include tombstones of deleted records.")


class ObjectValueParams(ListParams):
    kind: int | None = Field(
        None, ge=1, le=MAX_DB_ID, description="Only values of this object kind (its dbId)."
    )


# ---- items ------------------------------------------------------------------------------------


class MirrorItem(Schema):
    dbId: int
    ownerDbId: int | None
    code: str
    description: str
    modifiedAt: datetime | None = Field(description="Xledger's modifiedAt.")
    updatedAt: datetime = Field(description="When this row last changed in our mirror.")
    deleted: bool
    deletedAt: datetime | None


class SupplierItem(MirrorItem):
    email: str
    bankAccount: str
    companyNumber: str


class CurrencyItem(MirrorItem):
    pass


class ObjectKindItem(MirrorItem):
    pass


class ObjectValueItem(MirrorItem):
    objectKindDbId: int
    dateFrom: date | None
    dateTo: date | None


class VatRate(Schema):
    dateFrom: date | None = Field(description="From this day on (null: always).")
    taxPercent: Decimal | None
    accountDbId: int | None


class VatCodeItem(MirrorItem):
    taxPercent: Decimal | None = Field(description="The rate in force on the day of the last sync.")
    accountDbId: int | None
    rateFrom: date | None = Field(description="Since when the rate in force applies.")
    rates: list[VatRate] = Field(
        description="Every rate of the code with the day it applies from, oldest first: a rate "
        "announced for a future day is here before that day."
    )


class AccountItem(MirrorItem):
    chartOfAccountDbId: int | None
    posting: str
    vat: str
    balanceSheet: str


class FixedAssetItem(MirrorItem):
    datePurchased: date | None
    assetGroupDbId: int | None
    assetStatus: str


BASE_FIELDS = {
    "dbId": "db_id",
    "ownerDbId": "owner_db_id",
    "code": "code",
    "description": "description",
    "modifiedAt": "modified_at",
    "updatedAt": "updated_at",
    "deleted": "is_deleted",
    "deletedAt": "deleted_at",
}


def page_schema(item):
    return type(
        f"{item.__name__.removesuffix('Item')}Page",
        (Schema,),
        {
            "__annotations__": {"items": list[item], "next_cursor": str | None},
            "__doc__": "One page; ask again with `cursor=next_cursor` until it is null.",
        },
    )


# ---- the lists --------------------------------------------------------------------------------


def entity_filter(connection, entity_db_id: int) -> Q:
    """What one client entity sees in Xledger: its own records, the owner entity's, shared ones."""
    entities = list(
        ClientEntity.objects.filter(connection=connection)
        .filter(Q(db_id=entity_db_id) | Q(is_owner=True))
        .values_list("db_id", flat=True)
    )
    if entity_db_id not in entities and entity_db_id != connection.owner_entity_id:
        raise ValidationError(
            [
                {
                    "loc": ["query", "entity"],
                    "msg": "Not an entity of this connection.",
                    "type": "value_error",
                }
            ]
        )
    owners = {*entities, connection.owner_entity_id} - {None}
    return Q(owner_db_id__in=owners) | Q(owner_db_id__isnull=True)


def list_mirror(connection, params: ListParams, model, fields: dict, extra=None):
    queryset = model.objects.filter(connection=connection)
    if params.updated_since is not None:
        queryset = queryset.filter(updated_at__gte=params.updated_since)
    if not params.include_deleted:
        queryset = queryset.filter(is_deleted=False)
    if params.entity is not None:
        queryset = queryset.filter(entity_filter(connection, params.entity))
    if extra is not None:
        queryset = queryset.filter(extra)
    rows, next_cursor = keyset_page(
        queryset, cursor=params.cursor, limit=params.limit, fields=fields.values()
    )
    items = [{name: row[column] for name, column in fields.items()} for row in rows]
    return {"items": items, "next_cursor": next_cursor}


def register(path, model, item, summary, extra_fields=None, params=ListParams, extra_filter=None):
    fields = {**BASE_FIELDS, **(extra_fields or {})}
    name = path.strip("/").replace("/", "_").replace("-", "_")

    @routes.get(
        path, response=responses(page_schema(item)), operation_id=f"list_{name}", summary=summary
    )
    def view(request, connection, filters: Query[params]):
        extra = extra_filter(filters) if extra_filter else None
        return list_mirror(connection, filters, model, fields, extra)

    view.__name__ = f"list_{name}"
    return view


register(
    "suppliers",
    Supplier,
    SupplierItem,
    "Supplier register",
    {"email": "email", "bankAccount": "bank_account", "companyNumber": "company_number"},
)
register("currencies", Currency, CurrencyItem, "Currencies")
register("dimensions/kinds", ObjectKind, ObjectKindItem, "Financial dimensions (object kinds)")
register(
    "dimensions/values",
    ObjectValue,
    ObjectValueItem,
    "Financial dimension values (object values)",
    {"objectKindDbId": "object_kind_db_id", "dateFrom": "date_from", "dateTo": "date_to"},
    params=ObjectValueParams,
    extra_filter=lambda p: Q(object_kind_db_id=p.kind) if p.kind is not None else None,
)
register(
    "vat-codes",
    VatCode,
    VatCodeItem,
    "VAT codes",
    {
        "taxPercent": "tax_percent",
        "accountDbId": "account_db_id",
        "rateFrom": "rate_from",
        "rates": "rates",
    },
)
register(
    "accounts",
    Account,
    AccountItem,
    "Chart of accounts",
    {
        "chartOfAccountDbId": "chart_of_account_db_id",
        "posting": "posting",
        "vat": "vat",
        "balanceSheet": "balance_sheet",
    },
)
register(
    "fixed-assets",
    FixedAsset,
    FixedAssetItem,
    "Fixed assets",
    {
        "datePurchased": "date_purchased",
        "assetGroupDbId": "asset_group_db_id",
        "assetStatus": "asset_status",
    },
)
