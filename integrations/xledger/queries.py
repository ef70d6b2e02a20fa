"""Every GraphQL document we send to Xledger, in one place.

**One rule for every name we are not sure of: values are literals, never typed variables.**
A variable must be declared with its type (`$since: DateTime`), and the type's name is exactly
what the contract cannot promise: Xledger's own sample says `DateTimeString`, an `OwnerSet` enum
may be named otherwise, dbIds may be `Int`, `ID` or `Int64String`. A literal
(`modifiedAt_gte: "2026-12-03T04:15:00"`, `ownerSet: ALL`, `first: 10000`) declares no type, so a
name we guessed cannot break a query. Literals are written by `literal()`, which escapes strings
the JSON way (a subset of GraphQL's string escapes), so no value can change the document.

The only declared variable left is the one the contract spells out with its type, the invoice
mutation's `$inputs: [AddGLImportItemsInput!]!` (its file parts are mapped into variables).

Two more rules keep the documents inside what public clients show:

- Pages are read with `pageInfo { hasNextPage }` and `after: <the last edge's cursor>`, as
  Xledger's own sample does; `endCursor` is never asked for.
- No dbId is ever sent as an argument: whether a dbId literal must be `14` or `"14"` depends on
  the scalar (Int or Int64String), so lists are filtered by dbId on our side instead (the object
  values of the chosen kinds, the VAT kind's values).

Fields the contract marks [seen]/[ours] are the field-list constants below, one edit away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

MAX_PAGE_SIZE = 10_000  # [known]
MAX_MUTATION_INPUTS = 500  # [known] batch mutations take up to 500 nodes
DEFAULT_OWNER_SET = "ALL"  # [seen] syncs read everything the token can see, then filter

PAGE_INFO = "pageInfo { hasNextPage }"  # [known] what Xledger's own sample asks for


# --- Literals ------------------------------------------------------------------------------------


class Enum(str):
    """An enum value: written bare (`ALL`), not quoted."""


def literal(value) -> str:
    """A Python value as a GraphQL literal. Strings are JSON-escaped (ASCII only), which GraphQL
    reads the same way; datetimes must already be strings in the form Xledger wants
    (`timestamps.modified_since`)."""
    if isinstance(value, Enum):
        if not (value.isascii() and value.isidentifier()) or value in ("true", "false", "null"):
            raise ValueError(f"not an enum value: {value!r}")
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_name(k)}: {literal(v)}" for k, v in value.items())
        return f"{{ {inner} }}"
    if isinstance(value, list | tuple):
        return f"[{', '.join(literal(v) for v in value)}]"
    if isinstance(value, datetime):
        raise TypeError("write date-times with timestamps.modified_since(), not as datetime")
    raise TypeError(f"no GraphQL literal for {type(value).__name__}")


def _name(name: str) -> str:
    if not (name.isascii() and name.replace("_", "a").isalnum()) or name[0].isdigit():
        raise ValueError(f"not a GraphQL name: {name!r}")
    return name


def arguments(values: Mapping) -> str:
    """`(first: 10, after: "x")` without the arguments whose value is None."""
    parts = [f"{_name(k)}: {literal(v)}" for k, v in values.items() if v is not None]
    return f"({', '.join(parts)})" if parts else ""


# --- List reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """One paged list: `root(first, after, ownerSet, filter) { edges { cursor node { fields } }
    pageInfo { hasNextPage } }`. `document(first=, after=)` writes the page's document;
    `where(**filter)` and `owned_by(owner_set)` return a changed copy."""

    name: str
    root: str
    fields: str
    owner_set: str | None = DEFAULT_OWNER_SET
    filter: Mapping = field(default_factory=dict)

    def where(self, **filter) -> ListQuery:
        return replace(self, filter={**self.filter, **filter})

    def owned_by(self, owner_set: str | None) -> ListQuery:
        return replace(self, owner_set=owner_set)

    def selection(self, *, first: int, after: str | None = None, alias: str = "") -> str:
        args = {
            "first": first,
            "after": after,
            "ownerSet": Enum(self.owner_set) if self.owner_set else None,
            "filter": dict(self.filter) if self.filter else None,
        }
        head = f"{alias}: {self.root}" if alias else self.root
        return (
            f"{head}{arguments(args)} {{\n"
            f"    edges {{ cursor node {{ {self.fields} }} }}\n"
            f"    {PAGE_INFO}\n"
            f"  }}"
        )

    def document(self, *, first: int, after: str | None = None) -> str:
        return f"query {self.name} {{\n  {self.selection(first=first, after=after)}\n}}\n"


# --- Entities ------------------------------------------------------------------------------------

ENTITY_FIELDS = (
    "dbId code description company { companyNumber } "
    "owner { dbId code description } parent { dbId code }"
)
ENTITIES = ListQuery("entities", "entities", ENTITY_FIELDS, owner_set=None)

# --- Suppliers -----------------------------------------------------------------------------------

SUPPLIER_FIELDS = (
    "dbId code description email bankAccount company { companyNumber } ownerDbId modifiedAt"
)
SUPPLIERS = ListQuery("suppliers", "suppliers", SUPPLIER_FIELDS)

# `<type>_deltas(first, after)` takes no ownerSet [known].
DELTA_FIELDS = "dbId mutationType"
SUPPLIER_DELTAS = ListQuery("supplierDeltas", "supplier_deltas", DELTA_FIELDS, owner_set=None)

# --- Currencies ----------------------------------------------------------------------------------

CURRENCY_FIELDS = "dbId code description"
CURRENCIES = ListQuery("currencies", "currencies", CURRENCY_FIELDS)

# --- Financial dimensions and VAT codes ----------------------------------------------------------

# [seen] One public client lists exactly these; `code` is not shown by any public client.
OBJECT_KIND_FIELDS = "dbId name modifiedAt"
OBJECT_KINDS = ListQuery("objectKinds", "objectKinds", OBJECT_KIND_FIELDS)

OBJECT_VALUE_FIELDS = "dbId code description objectKindDbId ownerDbId dateFrom dateTo modifiedAt"
OBJECT_VALUES = ListQuery("objectValues", "objectValues", OBJECT_VALUE_FIELDS)

# [seen] A rule can have several setups over time; the rate in force has the latest dateFrom.
TAX_TABLE_SETUP_FIELDS = "dbId objectValueDbId taxPercent accountDbId dateFrom"
TAX_TABLE_SETUPS = ListQuery("taxTableSetups", "taxTableSetups", TAX_TABLE_SETUP_FIELDS)

# --- Chart of accounts ---------------------------------------------------------------------------

ACCOUNT_FIELDS = (
    "dbId code description ownerDbId chartOfAccountDbId posting vat balanceSheet modifiedAt"
)
ACCOUNTS = ListQuery("accounts", "accounts", ACCOUNT_FIELDS)

# --- Fixed assets --------------------------------------------------------------------------------

ASSET_FIELDS = (
    "dbId code description datePurchased assetGroup { dbId } assetStatus { name } ownerDbId"
)
ASSETS = ListQuery("assets", "assets", ASSET_FIELDS)

# --- Invoices ------------------------------------------------------------------------------------

# [ours] How a sender that ended in doubt finds what already arrived: by our own reference, and
# only fields the contract names on a stored item (the mutation's node fields, read back).
# `clientId` belongs to the mutation's inputs and edges; nothing public shows it on a stored item.
GL_IMPORT_ITEM_FIELDS = (
    "dbId extIdentifier invoiceNumber text amount account { code } subledger { code } invoiceFile"
)
GL_IMPORT_ITEMS = ListQuery(
    "glImportItemsByExtIdentifier", "glImportItems", GL_IMPORT_ITEM_FIELDS, owner_set=None
)


def gl_import_items_by_ext_identifier(refs: list[str]) -> ListQuery:
    return GL_IMPORT_ITEMS.where(extIdentifier_in=list(refs))


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
GL_IMPORT_ITEM_ERRORS = ListQuery(
    "glImportItemErrors", "glImportItemErrors", GL_IMPORT_ITEM_ERROR_FIELDS, owner_set=None
)

# --- Verifying a token ---------------------------------------------------------------------------

# One request for everything readable: the token's own entity and its owner, the client entities,
# every object kind (the customer picks dimensions from them), and `first: 1` of each dataset to
# probe its read scope. The aliases are the keys `verify.py` reads; the probe is sent one alias
# at a time when the combined one is refused or answered without data (`data: null`).
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
        f"objectKinds(first: {MAX_PAGE_SIZE}) {{ edges {{ node {{ {OBJECT_KIND_FIELDS} }} }} }}"
    ),
    "objectValues": "objectValues(first: 1) { edges { node { dbId } } }",
    "taxTableSetups": "taxTableSetups(first: 1) { edges { node { dbId } } }",
    # The chart's codes, so the customer's default posting accounts are checked too (one page:
    # a chart of more than 10,000 accounts leaves that check to the first sync).
    "accounts": (
        f"accounts(first: {MAX_PAGE_SIZE}) {{ edges {{ node {{ dbId code }} }} {PAGE_INFO} }}"
    ),
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

# [ours] The number Xledger shows on each object kind, where its schema has a `code` on kinds (no
# public client shows one): asked apart, and only when the customer named a dimension by a number
# no kind's dbId is, so that a schema without it costs one refused request and nothing else.
OBJECT_KIND_NUMBERS = (
    "query objectKindNumbers {\n"
    f"  objectKinds(first: {MAX_PAGE_SIZE}) {{ edges {{ node {{ dbId code }} }} }}\n"
    "}\n"
)
# Documents sent knowing that a schema may refuse them (the caller treats a refusal as "unknown").
MAY_BE_REFUSED = frozenset({"OBJECT_KIND_NUMBERS"})

# [ours] An empty batch probes the write scope without writing anything. Only a permission
# answer proves the scope missing; any other refusal leaves it unknown.
VERIFY_WRITE_PROBE = """
mutation verifyWriteScope {
  addGLImportItems(inputs: []) { edges { clientId } }
}
"""

# The cheapest question that only a valid token gets answered: asked once when an error is
# ambiguous (could be a revoked token, could be anything), before a connection is stopped.
TOKEN_CHECK = (
    "query tokenCheck {\n  entities(ownerSet: CURRENT, first: 1) { edges { cursor } }\n}\n"
)

# --- Sync documents (the sync engine's; several root fields per request to save requests) --------


def supplier_changes(
    *,
    first: int,
    since: str,
    after: str | None,
    delta_after: str | None,
    with_suppliers: bool,
    with_deltas: bool,
) -> str:
    """An incremental supplier run's request: the suppliers changed since `since` AND the new
    supplier deltas, in one document, so a run where nothing changed costs exactly one request.
    Each side is left out once its own pages are read."""
    parts = []
    if with_suppliers:
        parts.append(SUPPLIERS.where(modifiedAt_gte=since).selection(first=first, after=after))
    if with_deltas:
        parts.append(SUPPLIER_DELTAS.selection(first=first, after=delta_after))
    return "query supplierChanges {\n  " + "\n  ".join(parts) + "\n}\n"


def first_pages(name: str, lists: list[ListQuery], *, first: int) -> str:
    """The first page of several lists (each a different root field) in one document: one
    request where a run reads small lists one after the other (each list's further pages are
    asked on their own)."""
    parts = "\n  ".join(query.selection(first=first) for query in lists)
    return f"query {name} {{\n  {parts}\n}}\n"


def suppliers_full(*, first: int, after: str | None) -> str:
    """A full supplier read's page. The first page also asks for a delta cursor (`last: 1`), so
    the incremental runs after it read deltas from where this run began. Public clients disagree
    on what `last` alone means (the newest N, or a forward page of N) [seen both]: under the
    second reading the next incremental run re-reads the retained deltas once, which the delta
    reader's rules make harmless (each dbId's last delta decides)."""
    page = SUPPLIERS.selection(first=first, after=after)
    tail = ""
    if after is None:
        tail = "\n  deltaTail: supplier_deltas(last: 1) { edges { cursor } }"
    return f"query suppliersFull {{\n  {page}{tail}\n}}\n"
