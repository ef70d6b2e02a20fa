"""The record shapes the sandbox keeps, one slotted class per kind of Xledger data.

Attribute names are the GraphQL field names, so graphql-core's default resolver reads them
directly. Nested objects (``owner``, ``company``, ...) are stored flat (``ownerDbId``,
``companyNumber``) and expanded on the way out by the rules in ``NESTED_FIELDS``; that keeps
200,000 suppliers small and quick to build.
"""

from dataclasses import dataclass


@dataclass(slots=True)
class Entity:
    dbId: int
    code: str
    description: str
    companyNumber: str | None
    ownerDbId: int  # the owner (domain) entity; an owner entity points at itself
    parentDbId: int | None


@dataclass(slots=True)
class Supplier:
    dbId: int
    code: str
    description: str
    email: str | None
    bankAccount: str | None
    companyNumber: str | None
    ownerDbId: int
    modifiedAt: str
    modifiedTs: float


@dataclass(slots=True)
class Currency:
    dbId: int
    code: str
    description: str
    ownerDbId: int


@dataclass(slots=True)
class ObjectKind:
    dbId: int
    code: str
    name: str
    ownerDbId: int
    modifiedAt: str
    modifiedTs: float


@dataclass(slots=True)
class ObjectValue:
    dbId: int
    code: str
    description: str
    objectKindDbId: int
    ownerDbId: int
    dateFrom: str | None
    dateTo: str | None
    modifiedAt: str
    modifiedTs: float


@dataclass(slots=True)
class TaxTableSetup:
    dbId: int
    objectValueDbId: int
    taxPercent: float
    accountDbId: int | None
    ownerDbId: int
    dateFrom: str | None = None  # a rule's rate changes over time: the latest not after today


@dataclass(slots=True)
class Account:
    dbId: int
    code: str
    description: str
    ownerDbId: int
    chartOfAccountDbId: int
    posting: bool
    vat: bool
    balanceSheet: bool
    modifiedAt: str
    modifiedTs: float


@dataclass(slots=True)
class Asset:
    dbId: int
    code: str
    description: str
    datePurchased: str | None
    assetGroupDbId: int | None
    assetStatusName: str | None
    ownerDbId: int


@dataclass(slots=True)
class GLImportItem:
    """One stored import item; nested references are kept as the API answers them."""

    dbId: int
    clientId: str | None
    extIdentifier: str
    invoiceNumber: str
    transactionSource: dict | None
    postedDate: str | None
    invoiceDate: str | None
    dueDate: str | None
    text: str | None
    amount: object  # Decimal
    invoiceAmount: object
    taxAmount: object
    currency: dict | None
    account: dict | None
    taxRule: dict | None
    subledger: dict | None
    glObject1: dict | None
    glObject2: dict | None
    glObject3: dict | None
    glObject4: dict | None
    glObject5: dict | None
    ownerDbId: int
    invoiceFile: str | None
    invoiceFileSize: int | None
    createdAt: str


@dataclass(slots=True)
class GLImportItemError:
    dbId: int
    message: str
    errorLevelCode: str
    errorLevelName: str
    transactionDbId: int | None
    createdAt: str
    ownerDbId: int


@dataclass(slots=True)
class SupplierDelta:
    dbId: int  # the sequence number, which is also the cursor
    supplierDbId: int
    mutationType: str
    ts: float
    ownerDbId: int


# kind (root field name) -> (record class, GraphQL node type)
KINDS = {
    "entities": (Entity, "Entity"),
    "suppliers": (Supplier, "Supplier"),
    "currencies": (Currency, "Currency"),
    "objectKinds": (ObjectKind, "ObjectKind"),
    "objectValues": (ObjectValue, "ObjectValue"),
    "taxTableSetups": (TaxTableSetup, "TaxTableSetup"),
    "accounts": (Account, "Account"),
    "assets": (Asset, "Asset"),
    "glImportItems": (GLImportItem, "GLImportItem"),
    "glImportItemErrors": (GLImportItemError, "GLImportItemError"),
}

# Kinds the control surface may add, change and delete.
EDITABLE_KINDS = (
    "suppliers",
    "currencies",
    "objectKinds",
    "objectValues",
    "taxTableSetups",
    "accounts",
    "assets",
    "glImportItemErrors",
)

# Kinds whose ``modifiedAt`` moves when they change.
TIMESTAMPED_KINDS = {"suppliers", "objectKinds", "objectValues", "accounts"}


def _company(value, store):
    return None if value is None else {"companyNumber": value}


def _entity_ref(value, store):
    return None if value is None else store.entity_ref(value)


def _parent_ref(value, store):
    return None if value is None else store.parent_ref(value)


def _db_id_ref(value, store):
    return None if value is None else {"dbId": value}


def _asset_status(value, store):
    return None if value is None else {"name": value}


def _error_level(record, store):
    return {"code": record.errorLevelCode, "name": record.errorLevelName}


# (GraphQL type, field) -> (attribute holding the flat value, function making the nested object).
# An attribute of None hands the whole record to the function.
NESTED_FIELDS = {
    ("Entity", "company"): ("companyNumber", _company),
    ("Entity", "owner"): ("ownerDbId", _entity_ref),
    ("Entity", "parent"): ("parentDbId", _parent_ref),
    ("Supplier", "company"): ("companyNumber", _company),
    ("Supplier", "owner"): ("ownerDbId", _entity_ref),
    ("ObjectValue", "owner"): ("ownerDbId", _entity_ref),
    ("Account", "owner"): ("ownerDbId", _entity_ref),
    ("Asset", "assetGroup"): ("assetGroupDbId", _db_id_ref),
    ("Asset", "assetStatus"): ("assetStatusName", _asset_status),
    ("Asset", "owner"): ("ownerDbId", _entity_ref),
    ("GLImportItem", "owner"): ("ownerDbId", _entity_ref),
    ("GLImportItemError", "errorLevel"): (None, _error_level),
    ("SupplierDelta", "dbId"): ("supplierDbId", None),
}


# Nested objects that merely wrap one flat value: make -> the field holding that value.
# The fast path writes these inline instead of calling ``make`` per record.
NESTED_WRAPS = {_company: "companyNumber", _db_id_ref: "dbId", _asset_status: "name"}


def nested_value(type_name: str, field: str, record, store):
    """The API value of a nested field, as a plain dict (or a renamed scalar)."""
    attr, make = NESTED_FIELDS[(type_name, field)]
    value = record if attr is None else getattr(record, attr)
    return value if make is None else make(value, store)
