"""``addGLImportItems``: validate each input on its own, store the good ones.

Partial success is our reading [ours]: an input that fails validation is not stored and yields
one error naming its ``clientId``; the other inputs of the same call are stored and answered
in ``edges``. That lets a sender tell exactly which lines of a batch went in. Other dialects
refuse the whole call, or name the bad inputs only by their index in ``path``
(``Dialect.batch_errors``), refuse an empty batch (``empty_batch``) and unknown transaction
sources (``transaction_source_required``).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from graphql import GraphQLError

from .context import RequestContext
from .listing import forbidden_error

MAX_INPUTS = 500  # [known: batch mutations take up to 500 nodes]
VALIDATION_CODE = "BAD_REQUEST.VALIDATION"  # [ours]
EMPTY_BATCH_MESSAGE = "inputs must not be empty"  # [ours] for empty_batch="invalid"
# The installation's transaction sources as seeded; "SEMINE" is the product's default [ours].
TRANSACTION_SOURCES = ("LEV", "IMP", "SEMINE")
REQUIRED_FIELDS = ("invoiceNumber", "extIdentifier")
DATE_FIELDS = ("postedDate", "invoiceDate", "dueDate")
AMOUNT_FIELDS = ("amount", "invoiceAmount", "taxAmount")
CODE_REFS = ("transactionSource", "glObject1", "glObject2", "glObject3", "glObject4", "glObject5")
TAX_RULE_KIND_CODE = "TAX_RULE"  # [seen]; Norwegian installations call it MERVERDIAVGIFT


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


def too_many_inputs_error() -> GraphQLError:
    return GraphQLError(
        f"At most {MAX_INPUTS} inputs are accepted in one call.",
        extensions={"code": VALIDATION_CODE},
    )


def validation_error(message: str, client_id, path: list, index: int, how: str) -> dict:
    """One rejected input, in the shape a client sees it: named by its clientId [ours], or
    by its index in the path (``batch_errors`` "whole" and "partial_by_index")."""
    if how == "partial":
        return {
            "message": message,
            "code": VALIDATION_CODE,
            "path": path,
            "extensions": {"clientId": client_id},
        }
    return {"message": message, "code": VALIDATION_CODE, "path": [*path, "inputs", index]}


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _is_date(value) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class _Lookups:
    """Which codes an owner entity may use: its own records and those of entities above it."""

    def __init__(self, ctx: RequestContext):
        self.store = ctx.store
        kinds = [
            k for k in self.store.tables["objectKinds"].records if k.code == TAX_RULE_KIND_CODE
        ]
        kind_ids = {k.dbId for k in kinds}
        self.tax_rules = {
            (v.ownerDbId, v.code)
            for v in self.store.tables["objectValues"].records
            if v.objectKindDbId in kind_ids
        }

    def find(self, kind: str, ref: dict, owners: set[int]):
        if ref.get("dbId") is not None:
            record = self.store.tables[kind].by_id.get(ref["dbId"])
            return record if record is not None and record.ownerDbId in owners else None
        return self.store.find_by_code(kind, ref.get("code"), owners)

    def tax_rule(self, ref: dict, owners: set[int]) -> str | None:
        code = ref.get("code")
        if ref.get("dbId") is not None:
            value = self.store.tables["objectValues"].by_id.get(ref["dbId"])
            code = value.code if value is not None else None
        return code if any((o, code) in self.tax_rules for o in owners) else None


def _problems(node: dict, ctx: RequestContext, lookups: _Lookups, reachable: set[int]):
    """(what is wrong with one input, the owner entity it is for, resolved codes)."""
    problems = []
    owner = (node.get("owner") or {}).get("dbId", ctx.token.entity_db_id)
    if owner not in reachable:
        problems.append(f"owner {owner} is not an entity this token reaches")
        return problems, owner, {}
    owners = ctx.store.visible_from(owner)
    for name in REQUIRED_FIELDS:
        value = node.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name} is required")
    for name in DATE_FIELDS:
        if node.get(name) is not None and not _is_date(node[name]):
            problems.append(f"{name} {node[name]!r} is not a date (YYYY-MM-DD)")
    for name in AMOUNT_FIELDS:
        if node.get(name) is not None and _decimal(node[name]) is None:
            problems.append(f"{name} {node[name]!r} is not a decimal number")
    codes = {}
    for name, kind in (
        ("currency", "currencies"),
        ("account", "accounts"),
        ("subledger", "suppliers"),
    ):
        ref = node.get(name)
        if ref is None:
            continue
        record = lookups.find(kind, ref, owners)
        if record is None:
            shown = ref.get("code") if ref.get("code") is not None else ref.get("dbId")
            what = "supplier (subledger)" if name == "subledger" else name
            problems.append(f"unknown {what} {shown!r} for owner {owner}")
        else:
            codes[name] = {"code": record.code}
    if ctx.dialect.transaction_source_required:
        source = (node.get("transactionSource") or {}).get("code")
        if source not in ctx.store.transaction_sources_of(owner):
            problems.append(f"unknown transactionSource {source!r}")
    if node.get("taxRule") is not None:
        code = lookups.tax_rule(node["taxRule"], owners)
        if code is None:
            problems.append(f"unknown taxRule {node['taxRule'].get('code')!r} for owner {owner}")
        else:
            codes["taxRule"] = {"code": code}
    return problems, owner, codes


def _file(value, uploads: dict) -> tuple[str | None, int | None]:
    """The attachment's name and size: an uploaded part, or a name matching one. A name that no
    file part of the request carries attaches nothing: the stored item's `invoiceFile` stays
    empty, which is how a sender can read back whether its file arrived [ours]."""
    if isinstance(value, Upload):
        return value.filename, len(value.data)
    if isinstance(value, str):
        for upload in uploads.values():
            if upload.filename == value:
                return value, len(upload.data)
    return None, None


def add_gl_import_items(ctx: RequestContext, inputs: list[dict], path: list) -> dict | None:
    dialect = ctx.dialect
    if not inputs and dialect.empty_batch == "invalid":  # before any permission check
        raise GraphQLError(EMPTY_BATCH_MESSAGE, extensions={"code": VALIDATION_CODE})
    if "addGLImportItems" not in ctx.token.scopes:
        raise forbidden_error("addGLImportItems")
    if len(inputs) > MAX_INPUTS:
        raise too_many_inputs_error()
    store = ctx.store
    lookups = _Lookups(ctx)
    reachable = ctx.visible_entities()
    checked = []
    errors = []
    for index, item in enumerate(inputs):
        node = item.get("node") or {}
        problems, owner, codes = _problems(node, ctx, lookups, reachable)
        if problems:
            errors.append(
                validation_error(
                    "; ".join(problems), item.get("clientId"), path, index, dialect.batch_errors
                )
            )
        else:
            checked.append((item, owner, codes))
    ctx.extra_errors.extend(errors)
    if errors and dialect.batch_errors == "whole":
        return None  # nothing of the call is stored
    edges = []
    created_at = store.format_ts(store.clock.timestamp())
    for item, owner, codes in checked:
        client_id = item.get("clientId")
        node = item.get("node") or {}
        file_name, file_size = _file(node.get("invoiceFile"), ctx.uploads)
        refs = {name: _code_ref(node.get(name)) for name in CODE_REFS}
        record = store.insert(
            "glImportItems",
            clientId=client_id,
            extIdentifier=node["extIdentifier"],
            invoiceNumber=node["invoiceNumber"],
            postedDate=node.get("postedDate"),
            invoiceDate=node.get("invoiceDate"),
            dueDate=node.get("dueDate"),
            text=node.get("text"),
            amount=_decimal(node.get("amount")),
            invoiceAmount=_decimal(node.get("invoiceAmount")),
            taxAmount=_decimal(node.get("taxAmount")),
            currency=codes.get("currency"),
            account=codes.get("account"),
            taxRule=codes.get("taxRule"),
            subledger=codes.get("subledger"),
            ownerDbId=owner,
            invoiceFile=file_name,
            invoiceFileSize=file_size,
            createdAt=created_at,
            **refs,
        )
        edges.append({"clientId": client_id, "node": {"dbId": record.dbId}})
    ctx.mutation_stored = ctx.mutation_stored or bool(inputs)
    return {"edges": edges}


def _code_ref(ref) -> dict | None:
    if ref is None:
        return None
    return {"code": ref.get("code")}
