"""Checking a customer's token against Xledger before anything is synced.

The customer types an Owner ID and pastes a token; we answer with a checklist they can hand to
their Xledger administrator: is the token accepted, does it belong to that owner entity, and can
it read (and for invoices, write) every dataset SEMINE needs. Each failed check carries the fix.

It costs two requests: one query with aliased root fields for everything readable, and an empty
`addGLImportItems` batch for the write scope [ours]. If the combined query is refused as invalid
(a schema that differs from ours), the probes are sent one by one so the checklist still says
which part failed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import AuthenticationError, QueryError, XledgerError

TOKEN_PAGE = "Administration → Access Control → GraphQL → API tokens"


@dataclass(frozen=True)
class DatasetCheck:
    """What a dataset needs from the token. `scope` is the data type's name as the customer's
    administrator sees it in the token's scope list [ours: names not confirmed]."""

    key: str
    label: str
    probes: tuple[str, ...]  # aliases in queries.VERIFY_READ_PROBES, or "write"
    scope: str
    required: bool = True
    write: bool = False


# Which datasets a connection needs. Fixed assets only if the customer has them.
DATASET_CHECKS = (
    DatasetCheck(
        "suppliers",
        "Read suppliers",
        ("suppliers", "supplierDeltas"),
        "Suppliers (and Supplier deltas)",
    ),
    DatasetCheck("currencies", "Read currencies", ("currencies",), "Currencies"),
    DatasetCheck(
        "dimensions",
        "Read financial dimensions",
        ("objectKinds", "objectValues"),
        "Object kinds and Object values",
    ),
    DatasetCheck(
        "vat_codes",
        "Read VAT codes",
        ("objectValues", "taxTableSetups"),
        "Object values and Tax table setups",
    ),
    DatasetCheck("accounts", "Read the chart of accounts", ("accounts",), "Accounts"),
    DatasetCheck("fixed_assets", "Read fixed assets", ("assets",), "Assets", required=False),
    DatasetCheck(
        "invoices",
        "Send invoices (write GL import items)",
        ("write", "glImportItems"),
        "GL import items",
        write=True,
    ),
)


@dataclass
class Check:
    key: str
    label: str
    ok: bool
    fix: str = ""


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
        "dbId": node.get("dbId"),
        "code": node.get("code"),
        "description": node.get("description"),
        "companyNumber": (node.get("company") or {}).get("companyNumber"),
        "is_owner": node.get("dbId") == owner_db_id,
    }


def _describe(entity: dict) -> str:
    return " ".join(str(v) for v in (entity.get("code"), entity.get("description")) if v)


def _scope_fix(checks: list[DatasetCheck], errors: dict[str, XledgerError]) -> str:
    scopes = " and ".join(c.scope for c in checks)
    kinds = ["read"] if any(probe != "write" for probe in errors) else []
    kinds += ["write"] if "write" in errors else []
    access = " and ".join(kinds)
    denied = [e for e in errors.values() if e.kind != "permission"]
    if denied:  # not a scope problem: the query itself was refused. That is ours to fix.
        return (
            f"Xledger refused SEMINE's check for {scopes} ({denied[0].message}). "
            "This is not something your administrator can fix: please tell SEMINE support."
        )
    return f"In Xledger, open {TOKEN_PAGE}, edit the token and tick {access} access for {scopes}."


def _read_probe(client: XledgerClient) -> tuple[dict, dict[str, XledgerError]]:
    """All read probes in one request; one by one if the combined query is refused."""
    try:
        data, errors = client.execute_partial(queries.VERIFY_READ_PROBE)
    except QueryError:
        data, errors = {}, []
        for alias in queries.VERIFY_READ_PROBES:
            try:
                part, part_errors = client.execute_partial(queries.verify_probe([alias]))
            except QueryError as exc:
                exc.path = (alias,)
                errors.append(exc)
                continue
            data.update(part)
            errors.extend(part_errors)
    by_alias: dict[str, XledgerError] = {}
    for alias, probe in queries.VERIFY_READ_PROBES.items():
        root_field = probe.split("(", 1)[0].strip()
        for error in errors:  # a path names the alias; accept the field name too
            if error.data_type in (alias, root_field):
                by_alias.setdefault(alias, error)
    return data, by_alias


def _write_probe(client: XledgerClient) -> XledgerError | None:
    try:
        # An empty batch writes nothing, so resending it is harmless: not sent as a mutation.
        client.execute(queries.VERIFY_WRITE_PROBE)
    except XledgerError as exc:
        if exc.kind in ("permission", "query"):
            return exc
        raise
    return None


def verify(
    client: XledgerClient, owner_entity_id: int, *, fixed_assets: bool = False
) -> Verification:
    """Check the client's token against the Owner ID the customer typed.

    Authentication failures come back as a failed "token" check; an unreachable Xledger, rate
    limits and used-up credits raise (TransientError etc.) for the caller to show.
    """
    start = client.request_count
    result = Verification(ok=False)
    try:
        data, errors = _read_probe(client)
        write_error = _write_probe(client)
    except AuthenticationError as exc:
        result.checks.append(
            Check(
                "token",
                "The API token is accepted",
                False,
                f"Xledger did not accept the token ({exc.message}). Check that it was copied "
                f"whole, that it was made in the right environment (production or demo), and "
                f"that it has not been deleted in {TOKEN_PAGE}; if in doubt, create a new one.",
            )
        )
        result.requests = client.request_count - start
        return result
    result.checks.append(Check("token", "The API token is accepted", True))

    # Who the token belongs to.
    me = next(iter(_nodes(data.get("me"))), None)
    owner_ref = (me or {}).get("owner") or {}
    owner_db_id = owner_ref.get("dbId") or (me or {}).get("dbId")
    if me is None:
        fix = (
            _scope_fix([DatasetCheck("entities", "", (), "Entities")], {"me": errors["me"]})
            if "me" in errors
            else "Xledger did not say which entity the token belongs to; tell SEMINE support."
        )
        result.checks.append(
            Check("owner", f"The token belongs to Owner ID {owner_entity_id}", False, fix)
        )
    else:
        result.owner = {
            "dbId": owner_db_id,
            "code": owner_ref.get("code") if owner_ref else me.get("code"),
            "description": owner_ref.get("description") if owner_ref else me.get("description"),
        }
        result.owner_matches = owner_db_id == int(owner_entity_id)
        result.checks.append(
            Check(
                "owner",
                f"The token belongs to Owner ID {owner_entity_id}",
                result.owner_matches,
                ""
                if result.owner_matches
                else (
                    f"This token belongs to Owner ID {owner_db_id} "
                    f"({_describe(result.owner)}), not {owner_entity_id}. Check the Owner ID in "
                    "Xledger under Administration → Entity, or create the token in the owner "
                    f"entity {owner_entity_id}."
                ),
            )
        )
        on_owner = me.get("dbId") == owner_db_id
        result.checks.append(
            Check(
                "token_entity",
                "The token was created in the owner entity",
                on_owner,
                ""
                if on_owner
                else (
                    f"The token was created in entity {me.get('dbId')} ({me.get('code')}), "
                    f"which only reaches that entity. Log in to the owner entity {owner_db_id} "
                    f"and create the token there ({TOKEN_PAGE})."
                ),
            )
        )
        result.entities = [_entity_row(me, owner_db_id)] + [
            _entity_row(node, owner_db_id)
            for node in _nodes(data.get("clients"))
            if node.get("dbId") != me.get("dbId")
        ]
    result.object_kinds = [
        {"dbId": n.get("dbId"), "code": n.get("code"), "name": n.get("name")}
        for n in _nodes(data.get("objectKinds"))
    ]

    # One check per dataset.
    for dataset in DATASET_CHECKS:
        if not dataset.required and not (dataset.key == "fixed_assets" and fixed_assets):
            continue
        failed = {
            probe: (write_error if probe == "write" else errors[probe])
            for probe in dataset.probes
            if (probe == "write" and write_error) or probe in errors
        }
        result.checks.append(
            Check(
                dataset.key,
                dataset.label,
                not failed,
                _scope_fix([dataset], failed) if failed else "",
            )
        )

    result.ok = all(check.ok for check in result.checks)
    result.requests = client.request_count - start
    return result
