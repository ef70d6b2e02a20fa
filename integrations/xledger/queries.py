"""Every GraphQL document we send to Xledger, in one place.

Field lists are constants next to their query, so a field the live schema spells differently is
one edit away. Filters are written inline with scalar variables (`filter: { modifiedAt_gte:
$modifiedSince }`), as Xledger's own samples do, so we never have to name the filter input types.
Full and incremental reads are separate documents: a null filter value means different things to
different servers, a missing one means nothing.

Names the contract marks [seen]/[ours] are the constants below; everything else is [known].
"""

# --- Schema names that are not certain -----------------------------------------------------------

OWNER_SET_TYPE = "OwnerSet"  # [seen] variable type of `ownerSet`
# [ours] variable type of `modifiedAt_gte`. Xledger's own webhooks sample declares
# `$since: DateTimeString`; our sandbox's schema says `DateTime`. Check by introspection.
DATETIME_TYPE = "DateTime"
DBID_TYPE = "Int"  # [seen] some clients use Int64String
DEFAULT_OWNER_SET = "ALL"  # [seen] syncs read everything the token can see, then filter
MAX_PAGE_SIZE = 10_000  # [known]
MAX_MUTATION_INPUTS = 500  # [known] batch mutations take up to 500 nodes

PAGE_INFO = "pageInfo { hasNextPage endCursor }"


def list_query(
    name: str,
    root: str,
    fields: str,
    *,
    filters: dict[str, tuple[str, str]] | None = None,
    owner_set: bool = True,
) -> str:
    """A paged list query declaring $first/$after (and $ownerSet), for `XledgerClient.paginate`.

    `filters` maps a filter field to (variable name, variable type), e.g.
    `{"modifiedAt_gte": ("modifiedSince", DATETIME_TYPE)}`.
    """
    filters = filters or {}
    declared = ["$first: Int", "$after: String"]
    arguments = ["first: $first", "after: $after"]
    if owner_set:
        declared.append(f"$ownerSet: {OWNER_SET_TYPE}")
        arguments.append("ownerSet: $ownerSet")
    for variable, type_ in filters.values():
        declared.append(f"${variable}: {type_}")
    if filters:
        inner = ", ".join(f"{field}: ${variable}" for field, (variable, _) in filters.items())
        arguments.append(f"filter: {{ {inner} }}")
    return (
        f"query {name}({', '.join(declared)}) {{\n"
        f"  {root}({', '.join(arguments)}) {{\n"
        f"    edges {{ cursor node {{ {fields} }} }}\n"
        f"    {PAGE_INFO}\n"
        f"  }}\n"
        f"}}\n"
    )


MODIFIED_SINCE = {"modifiedAt_gte": ("modifiedSince", DATETIME_TYPE)}

# --- Entities ------------------------------------------------------------------------------------

ENTITY_FIELDS = (
    "dbId code description company { companyNumber } "
    "owner { dbId code description } parent { dbId code }"
)
ENTITIES = list_query("entities", "entities", ENTITY_FIELDS)

# --- Suppliers -----------------------------------------------------------------------------------

SUPPLIER_FIELDS = (
    "dbId code description email bankAccount company { companyNumber } ownerDbId modifiedAt"
)
SUPPLIERS = list_query("suppliers", "suppliers", SUPPLIER_FIELDS)
SUPPLIERS_MODIFIED_SINCE = list_query(
    "suppliersModifiedSince", "suppliers", SUPPLIER_FIELDS, filters=MODIFIED_SINCE
)

# `<type>_deltas(first, after)` takes no ownerSet [known].
DELTA_FIELDS = "dbId mutationType"
SUPPLIER_DELTAS = list_query("supplierDeltas", "supplier_deltas", DELTA_FIELDS, owner_set=False)

# --- Currencies ----------------------------------------------------------------------------------

CURRENCY_FIELDS = "dbId code description"
CURRENCIES = list_query("currencies", "currencies", CURRENCY_FIELDS)

# --- Financial dimensions and VAT codes ----------------------------------------------------------

OBJECT_KIND_FIELDS = "dbId code name modifiedAt"
OBJECT_KINDS = list_query("objectKinds", "objectKinds", OBJECT_KIND_FIELDS)
OBJECT_KINDS_MODIFIED_SINCE = list_query(
    "objectKindsModifiedSince", "objectKinds", OBJECT_KIND_FIELDS, filters=MODIFIED_SINCE
)

OBJECT_VALUE_FIELDS = "dbId code description objectKindDbId ownerDbId dateFrom dateTo modifiedAt"
OF_OBJECT_KIND = {"objectKindDbId": ("objectKindDbId", DBID_TYPE)}
OBJECT_VALUES = list_query(
    "objectValues", "objectValues", OBJECT_VALUE_FIELDS, filters=OF_OBJECT_KIND
)
OBJECT_VALUES_MODIFIED_SINCE = list_query(
    "objectValuesModifiedSince",
    "objectValues",
    OBJECT_VALUE_FIELDS,
    filters={**OF_OBJECT_KIND, **MODIFIED_SINCE},
)

# VAT codes are the object values of this kind [seen]; Norwegian installations use MERVERDIAVGIFT.
TAX_RULE_OBJECT_KIND_CODES = ("TAX_RULE", "MERVERDIAVGIFT")

TAX_TABLE_SETUP_FIELDS = "dbId objectValueDbId taxPercent accountDbId"
TAX_TABLE_SETUPS = list_query("taxTableSetups", "taxTableSetups", TAX_TABLE_SETUP_FIELDS)

# --- Chart of accounts ---------------------------------------------------------------------------

ACCOUNT_FIELDS = (
    "dbId code description ownerDbId chartOfAccountDbId posting vat balanceSheet modifiedAt"
)
ACCOUNTS = list_query("accounts", "accounts", ACCOUNT_FIELDS)
ACCOUNTS_MODIFIED_SINCE = list_query(
    "accountsModifiedSince", "accounts", ACCOUNT_FIELDS, filters=MODIFIED_SINCE
)

# --- Fixed assets --------------------------------------------------------------------------------

ASSET_FIELDS = "dbId code description datePurchased assetGroup { dbId } assetStatus { name }"
ASSETS = list_query("assets", "assets", ASSET_FIELDS)

# --- Invoices ------------------------------------------------------------------------------------

# [ours] How a sender that ended in doubt finds what already arrived, by our own reference.
# [ours] `clientId` echoed on the stored item lets a partly imported invoice be completed item by
# item; without it the sender can only compare counts.
GL_IMPORT_ITEM_FIELDS = "dbId extIdentifier clientId"
GL_IMPORT_ITEMS_BY_EXT_IDENTIFIER = list_query(
    "glImportItemsByExtIdentifier",
    "glImportItems",
    GL_IMPORT_ITEM_FIELDS,
    filters={"extIdentifier_in": ("extIdentifiers", "[String!]")},
)

# [known] Up to MAX_MUTATION_INPUTS inputs `{ clientId, node }` a call. A PDF goes as a multipart
# request (see `XledgerClient.execute(files=...)`).
ADD_GL_IMPORT_ITEMS = """
mutation addGLImportItems($inputs: [AddGLImportItemsInput!]!) {
  addGLImportItems(inputs: $inputs) {
    edges { clientId node { dbId } }
  }
}
"""

GL_IMPORT_ITEM_ERROR_FIELDS = (
    "dbId message errorLevel { code name } transactionDbId createdAt"  # [seen]
)
GL_IMPORT_ITEM_ERRORS = list_query(
    "glImportItemErrors", "glImportItemErrors", GL_IMPORT_ITEM_ERROR_FIELDS
)

# --- Verifying a token ---------------------------------------------------------------------------

# One request for everything readable: the token's own entity and its owner, the client entities,
# every object kind (the customer picks dimensions from them), and `first: 1` of each dataset to
# probe its read scope. The aliases are the keys `verify.py` reads; VERIFY_READ_PROBES lists them
# so that a fallback can send them one by one when the combined probe is refused as invalid.
VERIFY_READ_PROBES = {
    "me": f"entities(ownerSet: CURRENT, first: 1) {{ edges {{ node {{ {ENTITY_FIELDS} }} }} }}",
    "clients": (
        f"entities(ownerSet: LOWER, first: {MAX_PAGE_SIZE}) "
        f"{{ edges {{ node {{ {ENTITY_FIELDS} }} }} {PAGE_INFO} }}"
    ),
    "suppliers": "suppliers(first: 1) { edges { node { dbId } } }",
    "supplierDeltas": "supplier_deltas(first: 1) { edges { node { dbId } } }",
    "currencies": "currencies(first: 1) { edges { node { dbId } } }",
    "objectKinds": (
        f"objectKinds(first: {MAX_PAGE_SIZE}) {{ edges {{ node {{ dbId code name }} }} }}"
    ),
    "objectValues": "objectValues(first: 1) { edges { node { dbId } } }",
    "taxTableSetups": "taxTableSetups(first: 1) { edges { node { dbId } } }",
    "accounts": "accounts(first: 1) { edges { node { dbId } } }",
    "assets": "assets(first: 1) { edges { node { dbId } } }",
    # The invoice sender reads items back by extIdentifier before resending one in doubt.
    "glImportItems": "glImportItems(first: 1) { edges { node { dbId } } }",
}


def verify_probe(aliases=None) -> str:
    """The read probe as one query with aliased root fields (all of them by default)."""
    aliases = list(VERIFY_READ_PROBES) if aliases is None else list(aliases)
    body = "\n".join(f"  {alias}: {VERIFY_READ_PROBES[alias]}" for alias in aliases)
    return f"query verifyToken {{\n{body}\n}}\n"


VERIFY_READ_PROBE = verify_probe()

# [ours] An empty batch probes the write scope without writing anything.
VERIFY_WRITE_PROBE = """
mutation verifyWriteScope {
  addGLImportItems(inputs: []) { edges { clientId } }
}
"""

# --- Sync documents (the sync engine's; several root fields per request to save requests) --------


def edge_page(fields: str) -> str:
    return f"edges {{ cursor node {{ {fields} }} }} {PAGE_INFO}"


# An incremental supplier run asks for changed suppliers AND new supplier deltas in one request,
# so a run where nothing changed costs exactly one request. Each side is dropped with @include
# once its own pages are read.
SUPPLIER_CHANGES = f"""
query supplierChanges($first: Int, $after: String, $ownerSet: {OWNER_SET_TYPE},
    $modifiedSince: {DATETIME_TYPE}, $deltaFirst: Int, $deltaAfter: String,
    $withSuppliers: Boolean!, $withDeltas: Boolean!) {{
  suppliers(first: $first, after: $after, ownerSet: $ownerSet,
      filter: {{ modifiedAt_gte: $modifiedSince }}) @include(if: $withSuppliers) {{
    {edge_page(SUPPLIER_FIELDS)}
  }}
  supplier_deltas(first: $deltaFirst, after: $deltaAfter) @include(if: $withDeltas) {{
    {edge_page(DELTA_FIELDS)}
  }}
}}
"""

# A full supplier read; every page also brings the newest delta's cursor (`last: 1`), so the
# incremental runs after it start reading deltas from where this run began.
SUPPLIERS_FULL = f"""
query suppliersFull($first: Int, $after: String, $ownerSet: {OWNER_SET_TYPE}) {{
  suppliers(first: $first, after: $after, ownerSet: $ownerSet) {{
    {edge_page(SUPPLIER_FIELDS)}
  }}
  deltaTail: supplier_deltas(last: 1) {{ edges {{ cursor }} {PAGE_INFO} }}
}}
"""

# Object kinds and tax table setups are small: one request reads all of both (first page of each;
# the sync pages on when either says there is more).
KINDS_AND_TAX_SETUPS = f"""
query kindsAndTaxSetups($first: Int) {{
  objectKinds(first: $first) {{ {edge_page(OBJECT_KIND_FIELDS)} }}
  taxTableSetups(first: $first) {{ {edge_page(TAX_TABLE_SETUP_FIELDS)} }}
}}
"""
