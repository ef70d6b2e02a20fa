"""Checking a customer's token against Xledger before anything is synced.

The customer types an Owner ID and pastes a token; we answer with a checklist they can hand to
their Xledger administrator: is the token accepted, does it belong to that owner entity, and can
it read (and for invoices, write) every dataset SEMINE needs. Each failed check carries the fix.

It costs two requests: one query with aliased root fields for everything readable, and an empty
`addGLImportItems` batch for the write scope [ours]. If the combined query is refused (invalid for
a schema that differs from ours, or answered `data: null` because one scope is missing), the
probes are sent one by one so the checklist still says exactly which part failed. A third asks for
the numbers Xledger shows on object kinds, only when the customer named their fixed-assets
dimension by a number that is no kind's dbId (see object_kinds.py).

Whether a token may write cannot be learnt without writing: only a permission answer to the empty
batch proves the write scope missing. Any other answer leaves it *unknown*: the checklist says so
plainly and passes (it never blocks onboarding or go-live); the first real send confirms it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from integrations.xledger import checklist, object_kinds, queries
from integrations.xledger.checklist import TOKEN_PAGE
from integrations.xledger.client import XledgerClient
from integrations.xledger.dbids import db_id_of
from integrations.xledger.errors import (
    AuthenticationError,
    PermissionDenied,
    QueryError,
    XledgerError,
)

__all__ = ["DATASET_CHECKS", "TOKEN_PAGE", "Check", "Verification", "verify"]


@dataclass(frozen=True)
class DatasetCheck:
    """What a dataset needs from the token. `scope` is the data type's name as the customer's
    administrator sees it in the token's scope list [ours: names not confirmed]. The check's
    words (label, fix) are in checklist.py, in English and Norwegian."""

    key: str
    probes: tuple[str, ...]  # aliases in queries.VERIFY_READ_PROBES, or "write"
    scope: str
    required: bool = True
    write: bool = False


# Which datasets a connection needs. Fixed assets only if the customer has them.
DATASET_CHECKS = (
    DatasetCheck("suppliers", ("suppliers", "supplierDeltas"), "Suppliers (and Supplier deltas)"),
    DatasetCheck("currencies", ("currencies",), "Currencies"),
    DatasetCheck("dimensions", ("objectKinds", "objectValues"), "Object kinds and Object values"),
    DatasetCheck(
        "vat_codes", ("objectValues", "taxTableSetups"), "Object values and Tax table setups"
    ),
    DatasetCheck("accounts", ("accounts",), "Accounts"),
    DatasetCheck("fixed_assets", ("assets",), "Assets", required=False),
    DatasetCheck("invoices", ("write", "glImportItems"), "GL import items", write=True),
)


@dataclass
class Check:
    """One line of the checklist. `key` and `params` are what counts: pages render the label and
    fix from them in the reader's language (checklist.describe); `label` and `fix` hold the same
    in English for staff screens, logs and results stored before `params` existed."""

    key: str
    label: str
    ok: bool
    fix: str = ""
    params: dict | None = None

    @classmethod
    def make(cls, key: str, ok: bool, **params) -> Check:
        label, fix = checklist.english(key, ok, params)
        return cls(key, label, ok, fix, params)

    def describe(self) -> tuple[str, str]:
        """(label, fix) in the active language."""
        return checklist.describe(asdict(self))


@dataclass
class Verification:
    """The result a form shows as a checklist and a connection stores as JSON."""

    ok: bool
    owner: dict | None = None
    owner_matches: bool = False
    entities: list[dict] = field(default_factory=list)
    object_kinds: list[dict] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    requests: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Verification:
        data = dict(data)
        data["checks"] = [Check(**c) for c in data.get("checks", [])]
        return cls(**data)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def _nodes(connection) -> list[dict]:
    if not isinstance(connection, dict):
        return []
    return [edge["node"] for edge in connection.get("edges") or () if edge.get("node")]


def _entity_row(node: dict, owner_db_id: int | None) -> dict:
    return {
        "dbId": db_id_of(node.get("dbId")),
        "code": node.get("code"),
        "description": node.get("description"),
        "companyNumber": (node.get("company") or {}).get("companyNumber"),
        "is_owner": db_id_of(node.get("dbId")) == owner_db_id,
    }


def _describe(entity: dict) -> str:
    return " ".join(str(v) for v in (entity.get("code"), entity.get("description")) if v)


def _scope_params(scopes: str, errors: dict[str, XledgerError]) -> dict:
    """What a failed scope check stores: which scopes, which access, or that the query itself
    was refused (ours to fix, not the customer's administrator's)."""
    read = any(probe != "write" for probe in errors)
    write = "write" in errors
    access = "read_write" if read and write else ("write" if write else "read")
    denied = [e for e in errors.values() if e.kind != "permission"]
    if denied:
        return {"problem": "refused", "scopes": scopes, "message": denied[0].message}
    return {"problem": "scope", "scopes": scopes, "access": access}


def _read_probe(client: XledgerClient, aliases: list[str]) -> tuple[dict, dict[str, XledgerError]]:
    """The read probes in one request; one by one if the combined query is refused as invalid or
    answered without any data (a server that answers `data: null` for one missing scope)."""
    try:
        data, errors = client.execute_partial(queries.verify_probe(aliases))
    except (QueryError, PermissionDenied):
        data, errors = {}, []
        for alias in aliases:
            try:
                part, part_errors = client.execute_partial(queries.verify_probe([alias]))
            except (QueryError, PermissionDenied) as exc:
                exc.path = (alias,)
                errors.append(exc)
                continue
            data.update(part or {})
            errors.extend(part_errors)
    by_alias: dict[str, XledgerError] = {}
    for alias in aliases:
        root_field = queries.VERIFY_READ_PROBES[alias].split("(", 1)[0].strip()
        for error in errors:  # a path names the alias; accept the field name too
            if error.data_type in (alias, root_field):
                by_alias.setdefault(alias, error)
    return data or {}, by_alias


def _write_probe(client: XledgerClient) -> XledgerError | None:
    """The empty batch's answer: a PermissionDenied proves the write scope missing; any other
    refusal (an empty batch refused as invalid, a field we guessed) is returned too, and
    `verify` records it as *unknown*, never as missing."""
    try:
        # An empty batch writes nothing, so resending it is harmless: not sent as a mutation.
        client.execute(queries.VERIFY_WRITE_PROBE)
    except XledgerError as exc:
        if exc.kind in ("permission", "query", "schema", "unavailable"):
            return exc
        raise
    return None


def verify(
    client: XledgerClient,
    owner_entity_id: int,
    *,
    fixed_assets: bool = False,
    posting_accounts: tuple[str, ...] = (),
    dimension_number: str = "",
) -> Verification:
    """Check the client's token against the Owner ID the customer typed.

    `dimension_number` is the number the customer gave their fixed-assets dimension by; when no
    object kind's dbId is that number, one more request asks for the numbers Xledger shows on
    kinds (`_kind_numbers`), so that the scope page can tick that kind.

    Authentication failures come back as a failed "token" check; an unreachable Xledger, rate
    limits and used-up credits raise (TransientError etc.) for the caller to show.
    """
    start = client.request_count
    result = Verification(ok=False)
    datasets = [
        d for d in DATASET_CHECKS if d.required or (d.key == "fixed_assets" and fixed_assets)
    ]
    aliases = ["me", "clients", "objectKinds"]
    aliases = list(dict.fromkeys(aliases + [p for d in datasets for p in d.probes if p != "write"]))
    try:
        data, errors = _read_probe(client, aliases)
        write_error = _write_probe(client)
    except AuthenticationError as exc:
        result.checks.append(Check.make("token", False, problem="rejected", message=exc.message))
        result.requests = client.request_count - start
        return result
    result.checks.append(Check.make("token", True))

    # Who the token belongs to.
    me = next(iter(_nodes(data.get("me"))), None)
    owner_ref = (me or {}).get("owner") or {}
    owner_db_id = db_id_of(owner_ref.get("dbId")) or db_id_of((me or {}).get("dbId"))
    entered = int(owner_entity_id)
    if me is None:
        params = (
            _scope_params("Entities", {"me": errors["me"]})
            if "me" in errors
            else {"problem": "unknown"}
        )
        result.checks.append(Check.make("owner", False, entered=entered, **params))
    else:
        result.owner = {
            "dbId": owner_db_id,
            "code": owner_ref.get("code") if owner_ref else me.get("code"),
            "description": owner_ref.get("description") if owner_ref else me.get("description"),
        }
        result.owner_matches = owner_db_id == entered
        result.entities = [_entity_row(me, owner_db_id)] + [
            _entity_row(node, owner_db_id)
            for node in _nodes(data.get("clients"))
            if db_id_of(node.get("dbId")) != db_id_of(me.get("dbId"))
        ]
        typed_client = next(
            (e for e in result.entities if e["dbId"] == entered and not e["is_owner"]), None
        )
        if result.owner_matches:
            result.checks.append(Check.make("owner", True, entered=entered))
        elif typed_client is not None:
            # The customer typed a client entity's ID: the advice is the owner's ID, not to
            # create a token in that client entity.
            result.checks.append(
                Check.make(
                    "owner",
                    False,
                    entered=entered,
                    problem="client_entity_id",
                    entered_name=_describe(typed_client),
                    found=owner_db_id,
                    found_name=_describe(result.owner),
                )
            )
        else:
            result.checks.append(
                Check.make(
                    "owner",
                    False,
                    entered=entered,
                    problem="mismatch",
                    found=owner_db_id,
                    found_name=_describe(result.owner),
                )
            )
        on_owner = db_id_of(me.get("dbId")) == owner_db_id
        if on_owner:
            result.checks.append(Check.make("token_entity", True))
        else:
            result.checks.append(
                Check.make(
                    "token_entity",
                    False,
                    problem="client_entity",
                    entity=db_id_of(me.get("dbId")),
                    entity_code=me.get("code") or "",
                    owner=owner_db_id,
                )
            )
    # An object kind's key is its dbId as text (no public client shows a `code` on kinds).
    result.object_kinds = [
        {
            "dbId": db_id_of(n.get("dbId")),
            "code": str(db_id_of(n.get("dbId"))),
            "name": n.get("name"),
        }
        for n in _nodes(data.get("objectKinds"))
        if db_id_of(n.get("dbId")) is not None
    ]
    if (
        str(dimension_number or "").strip()
        and "objectKinds" not in errors
        and not any(
            object_kinds.matches(kind, number=dimension_number) for kind in result.object_kinds
        )
    ):
        numbers = _kind_numbers(client)
        for kind in result.object_kinds:
            if numbers.get(kind["dbId"]):
                kind["number"] = numbers[kind["dbId"]]

    # One check per dataset.
    for dataset in datasets:
        failed = {
            probe: (write_error if probe == "write" else errors[probe])
            for probe in dataset.probes
            if (probe == "write" and write_error) or probe in errors
        }
        if "write" in failed and failed["write"].kind != "permission":
            # Not a permission answer: whether the token may write is unknown, not missing.
            unknown = failed.pop("write")
            if not failed:
                result.checks.append(
                    Check.make(dataset.key, True, problem="write_unknown", message=unknown.message)
                )
                continue
        params = _scope_params(dataset.scope, failed) if failed else {}
        result.checks.append(Check.make(dataset.key, not failed, **params))

    if any(posting_accounts) and "accounts" not in errors:
        result.checks.append(_posting_accounts_check(data.get("accounts"), posting_accounts))

    result.ok = all(check.ok for check in result.checks)
    result.requests = client.request_count - start
    return result


def _kind_numbers(client: XledgerClient) -> dict[int, str]:
    """{dbId: the number Xledger shows} of the object kinds, where Xledger answers a `code` on
    kinds [ours: no public client shows one]; {} when it refuses the question or fails in any
    other way (busy, unreachable): a best-effort extra, it never fails the check itself."""
    try:
        data, _errors = client.execute_partial(queries.OBJECT_KIND_NUMBERS)
    except XledgerError:
        return {}
    return {
        db_id_of(node.get("dbId")): str(node["code"]).strip()
        for node in _nodes((data or {}).get("objectKinds"))
        if node.get("code") not in (None, "") and db_id_of(node.get("dbId")) is not None
    }


def _posting_accounts_check(accounts, posting_accounts) -> Check:
    """Do the customer's default posting accounts (client information) exist in the chart of
    accounts the token sees? An invoice posted to an account Xledger does not have is refused.
    When the chart is longer than one page, a code not on it is left to the first sync."""
    codes = {str(node.get("code")) for node in _nodes(accounts)}
    missing = [code for code in dict.fromkeys(posting_accounts) if code and code not in codes]
    whole_chart = not ((accounts or {}).get("pageInfo") or {}).get("hasNextPage")
    if missing and whole_chart:
        return Check.make(
            "posting_accounts", False, problem="missing_accounts", accounts=", ".join(missing)
        )
    return Check.make("posting_accounts", True)
