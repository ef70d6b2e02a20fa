"""``Sandbox``: one simulated Xledger installation, its tokens, faults and counters.

Tests use it in-process through ``transport()``; ``serve()`` puts it on a loopback port for
end-to-end tests, and ``manage.py xledger_sandbox`` runs it as its own process.
"""

import dataclasses
import os
import threading
import zlib
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

import httpx
from graphql import get_named_type

from .app import SandboxApp
from .auth import (
    ALL_SCOPES,
    BURST_MAX_REQUESTS,
    BURST_WINDOW_SECONDS,
    READ_SCOPES,
    TokenRegistry,
)
from .clock import Clock
from .counters import RequestCounters
from .dialects import OURS, Dialect, resolve_dialect
from .faults import Faults
from .records import EDITABLE_KINDS, KINDS, NESTED_FIELDS, nested_value
from .resolvers import build_executable_schema
from .seed import seed_store
from .server import serve_in_thread
from .store import Store

IN_PROCESS_URL = "http://sandbox.local/graphql"

# How many owner entities the sandbox process seeds (``manage.py xledger_sandbox --owners``).
OWNERS_ENV_VAR = "XLEDGER_SANDBOX_OWNERS"


def owners_from_env() -> int:
    """The owner count ``XLEDGER_SANDBOX_OWNERS`` names (1 when unset)."""
    value = os.environ.get(OWNERS_ENV_VAR, "").strip() or "1"
    try:
        owners = int(value)
    except ValueError:
        raise ValueError(f"{OWNERS_ENV_VAR} must be a whole number, not {value!r}") from None
    if owners < 1:
        raise ValueError(f"{OWNERS_ENV_VAR} must be at least 1")
    return owners


# The demo tokens and what each is for (printed by the management command).
DEMO_TOKEN_PURPOSES = {
    "full": "all scopes, on the owner entity: the portal's demo connection",
    "read_only": "every read scope, no addGLImportItems",
    "no_suppliers": "everything except suppliers and supplier_deltas",
    "client": "all scopes, on the first client entity",
    "revoked": "a token that has been revoked (answers 401, or 200 in dialect revoked=http200)",
}

# API-style names accepted by the control surface -> record attribute (and sub-key).
_RENAMES = {
    "owner": ("ownerDbId", "dbId"),
    "company": ("companyNumber", "companyNumber"),
    "assetGroup": ("assetGroupDbId", "dbId"),
    "assetStatus": ("assetStatusName", "name"),
}
_DEFAULTS = {
    "suppliers": {"email": None, "bankAccount": None, "companyNumber": None},
    "currencies": {},
    "objectKinds": {},
    "objectValues": {"dateFrom": None, "dateTo": None},
    "taxTableSetups": {"accountDbId": None, "dateFrom": None},
    "accounts": {"chartOfAccountDbId": 101, "posting": True, "vat": False, "balanceSheet": False},
    "assets": {"datePurchased": None, "assetGroupDbId": None, "assetStatusName": None},
    "glImportItemErrors": {
        "transactionDbId": None,
        "errorLevelCode": "E",
        "errorLevelName": "Error",
    },
}


class Sandbox:
    def __init__(
        self,
        seed: int = 1,
        suppliers: int = 200,
        clients: int = 3,
        burst_limit: bool = True,
        now: datetime | None = None,
        dialect: Dialect | str | None = None,
        owners: int = 1,
    ):
        """``dialect``: a ``Dialect``, a preset name ("ours", "xledger", with optional
        ``,knob=value`` overrides), or None for ``XLEDGER_SANDBOX_DIALECT`` (default "ours").

        ``owners``: how many owner (domain) entities to seed, each a complete, independent
        domain with ``clients`` client entities and ``suppliers`` suppliers of its own. The
        first (10001) is seeded exactly as with one; the others are 20001, 30001, ...
        """
        self.seed = seed
        self.dialect = resolve_dialect(dialect)
        self.schema = build_executable_schema(self.dialect)
        self.clock = Clock(now)
        self.store = Store(self.clock, self.dialect, zlib.crc32(f"sandbox-order-{seed}".encode()))
        domains = seed_store(
            self.store,
            seed=seed,
            suppliers=suppliers,
            clients=clients,
            now=self.clock.now(),
            owners=owners,
        )
        self.owners: list[int] = list(domains)  # owner entity dbIds, the first first
        self.owner_client_ids: dict[int, list[int]] = domains  # owner -> its client entities
        self.owner_db_id = self.owners[0]
        self.client_entity_ids = list(domains[self.owner_db_id])  # the first owner's clients
        self.lock = threading.Lock()
        self.burst_limit = burst_limit
        self.burst_max_requests = BURST_MAX_REQUESTS
        self.burst_window_seconds = BURST_WINDOW_SECONDS
        self.fast_path = True  # False sends everything through graphql-core's plain executor
        self.counters = RequestCounters()
        self.faults = Faults(seed)
        self.tokens = TokenRegistry(seed)
        # The first owner's tokens come first, so they stay what they were with one owner.
        self.owner_tokens: dict[int, dict[str, str]] = {
            owner: self._make_demo_tokens(owner) for owner in self.owners
        }
        self.demo_tokens = self.owner_tokens[self.owner_db_id]
        self.wsgi_app = SandboxApp(self)

    def _make_demo_tokens(self, owner: int) -> dict[str, str]:
        clients = self.owner_client_ids[owner]
        first_client = clients[0] if clients else owner
        tokens = {
            "full": self.add_token(entity_db_id=owner),
            "read_only": self.add_token(scopes=READ_SCOPES, entity_db_id=owner),
            "no_suppliers": self.add_token(
                scopes=ALL_SCOPES - {"suppliers", "supplier_deltas"}, entity_db_id=owner
            ),
            "client": self.add_token(entity_db_id=first_client),
            "revoked": self.add_token(entity_db_id=owner),
        }
        self.revoke_token(tokens["revoked"])
        return tokens

    def owner_name(self, owner_db_id: int) -> str:
        return self.store.entities.by_id[owner_db_id].description

    def owner_of(self, entity_db_id: int) -> int | None:
        """The owner (domain) entity of an entity (an owner entity is its own), or None."""
        return self.store.domain_of(entity_db_id)

    # --- tokens ----------------------------------------------------------------------------

    def add_token(self, scopes=None, entity_db_id: int | None = None, token: str | None = None):
        entity = self.owner_db_id if entity_db_id is None else entity_db_id
        if entity not in self.store.entities.by_id:
            raise ValueError(f"no entity {entity}")
        return self.tokens.add(scopes=scopes, entity_db_id=entity, token=token)

    def revoke_token(self, token: str) -> None:
        self.tokens.revoke(token)

    def set_scopes(self, token: str, scopes) -> None:
        self.tokens.set_scopes(token, scopes)

    # --- transport -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return IN_PROCESS_URL

    def transport(self) -> httpx.WSGITransport:
        return httpx.WSGITransport(app=self.wsgi_app)

    @contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1"):
        with serve_in_thread(self.wsgi_app, host, port) as base:
            yield f"{base}/graphql"

    # --- control surface --------------------------------------------------------------------

    def add_record(self, kind: str, **fields) -> int:
        _check_kind(kind)
        values = {**_DEFAULTS[kind], **_flatten(kind, fields)}
        values.setdefault("ownerDbId", self.owner_db_id)
        if kind == "glImportItemErrors":
            if self.dialect.datetime_offsets:
                values.setdefault("createdAt", self.clock.now().isoformat())
            else:
                values.setdefault("createdAt", self.store.format_ts(self.clock.timestamp()))
        return self.store.insert(kind, **values).dbId

    def change_record(self, kind: str, db_id: int, **fields) -> None:
        _check_kind(kind)
        self.store.update(kind, db_id, **_flatten(kind, fields))

    def delete_record(self, kind: str, db_id: int) -> None:
        _check_kind(kind)
        self.store.delete(kind, db_id)

    def records(self, kind: str) -> list[dict]:
        """Every record of ``kind`` with every field, as the API answers them.

        Whatever the dialect, this lists every field the sandbox knows (also those the dialect
        hides, such as an object kind's ``code``) and dbIds as integers; date-times are
        written as the dialect writes them.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        type_name = KINDS[kind][1]
        node_type = build_executable_schema(OURS).type_map[type_name]
        with self.store.lock:
            records = list(self.store.tables[kind].records)
        rows = []
        for record in records:
            row = {}
            for name, field in node_type.fields.items():
                if (type_name, name) in NESTED_FIELDS:
                    value = nested_value(type_name, name, record, self.store)
                else:
                    value = getattr(record, name)
                if get_named_type(field.type).name == "Decimal" and value is not None:
                    value = str(value)
                row[name] = value
            rows.append(row)
        return rows

    @property
    def imports(self) -> list[dict]:
        """Stored GL import items, amounts as Decimal."""
        with self.store.lock:
            return [dataclasses.asdict(r) for r in self.store.tables["glImportItems"].records]

    @property
    def transaction_sources(self) -> list[str]:
        """The first owner's transaction source codes (checked when the dialect requires)."""
        return self.transaction_sources_of(self.owner_db_id)

    def transaction_sources_of(self, owner_db_id: int) -> list[str]:
        """The transaction source codes of one owner's installation (or its client's)."""
        with self.store.lock:
            return sorted(self.store.transaction_sources_of(owner_db_id))

    def set_transaction_sources(self, codes, owner_db_id: int | None = None) -> None:
        """Replace the transaction sources (e.g. remove "SEMINE") of one owner's installation,
        or of every owner's when ``owner_db_id`` is None."""
        if isinstance(codes, str):
            raise TypeError("codes must be a list of strings")
        if owner_db_id is not None and owner_db_id not in self.owners:
            raise ValueError(f"{owner_db_id} is not an owner entity")
        with self.store.lock:
            for owner in self.owners if owner_db_id is None else [owner_db_id]:
                self.store.transaction_sources[owner] = {str(code) for code in codes}

    def describe_owners(self) -> list[dict]:
        """Each owner entity: dbId, name, client entity dbIds and demo tokens."""
        return [
            {
                "db_id": owner,
                "name": self.owner_name(owner),
                "client_ids": list(self.owner_client_ids[owner]),
                "tokens": dict(self.owner_tokens[owner]),
            }
            for owner in self.owners
        ]

    def set_fault(self, name: str, count: int | None = None, probability=None, **params) -> None:
        self.faults.set(name, count=count, probability=probability, **params)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_now(self, now: datetime | None) -> None:
        self.clock.set(now)

    @property
    def request_count(self) -> int:
        return self.counters.total

    def requests_by_token(self, token: str) -> int:
        return self.counters.by_token[token]

    @property
    def requests_by_field(self) -> dict[str, int]:
        return dict(self.counters.by_field)

    def reset_counters(self) -> None:
        self.counters.reset()


def _check_kind(kind: str) -> None:
    if kind not in EDITABLE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(EDITABLE_KINDS)}")


def _flatten(kind: str, fields: dict) -> dict:
    """Accept the API's nested names (``owner={'dbId': 1}``) as well as flat attributes."""
    values = {}
    for name, value in fields.items():
        if name == "errorLevel" and kind == "glImportItemErrors":
            values["errorLevelCode"] = value.get("code")
            values["errorLevelName"] = value.get("name")
        elif name in _RENAMES:
            attr, key = _RENAMES[name]
            values[attr] = value.get(key) if isinstance(value, dict) else value
        elif name in ("taxPercent",) and value is not None:
            values[name] = float(value)
        elif isinstance(value, Decimal):
            values[name] = str(value)
        else:
            values[name] = value
    return values
