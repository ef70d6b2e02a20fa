"""A sandbox for a fleet: thousands of owner entities behind one port, each cheap to serve.

``Sandbox(owners=N)`` keeps every owner's records in shared tables, so each request walks
every owner's records to find its own: fine for two domains, far too slow for 10,000. A
``FleetSandbox`` instead gives each owner entity a small ``Sandbox`` of its own (``OwnerSandbox``)
and sends each GraphQL request to the one its token belongs to. An owner's sandbox is built on
its first request, from its own seeded random stream, so nothing is built for owners nobody
asks about and the same seed always gives the same records.

Owner n (1-based) is entity ``seed.owner_db_id(n)`` (10001, 20001, ...: the numbering of
``Sandbox(owners=N)``) with ``clients`` client entities and ``suppliers[n - 1]`` suppliers, and
is reached with the token ``fleet_token(seed, n)``, which the caller can compute without asking
the sandbox (a benchmark sets up thousands of connections from it). A token this fleet did not
issue is answered as the sandbox answers an unknown token (401 ``UNAUTHENTICATED``).

``GET /_sandbox/fleet`` answers ``{"owners": N, "built": n, "requests": n}`` (GraphQL requests
served so far). The other ``/_sandbox/`` routes are not offered: a fleet is for load, not for
steering one customer's data (use ``owner(n)`` in-process for that).
"""

import base64
import hashlib
import random
import threading
import zlib
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from .app import SandboxApp, respond
from .auth import (
    BURST_MAX_REQUESTS,
    BURST_WINDOW_SECONDS,
    INVALID_TOKEN_MESSAGE,
    TOKEN_BYTES,
    AuthError,
    TokenRegistry,
    token_from_header,
)
from .clock import Clock
from .counters import RequestCounters
from .dialects import resolve_dialect
from .faults import Faults
from .resolvers import build_executable_schema
from .sandbox import Sandbox
from .seed import NORWEGIAN, owner_db_id, seed_domain
from .server import serve_in_thread
from .store import Store

FLEET_PATH = "/_sandbox/fleet"


def fleet_token(seed: int, n: int) -> str:
    """The API token of owner n (1-based) in a fleet seeded with ``seed``: 36 base64url
    characters, like a real token, derived from the seed (nothing random to hand around)."""
    digest = hashlib.blake2b(f"semine-fleet-{seed}-{n}".encode(), digest_size=TOKEN_BYTES)
    return base64.urlsafe_b64encode(digest.digest()).decode("ascii")


class OwnerSandbox(Sandbox):
    """One owner entity, the n-th of a fleet, alone in its own tables.

    Seeded like the n-th domain of ``Sandbox(owners=N)`` (same entity numbering, Norwegian
    names) but from the stream ``"{seed}-fleet-{n}"`` and with its own supplier count. Besides
    the usual demo tokens it accepts ``fleet_token(seed, n)`` with every scope.
    """

    def __init__(
        self,
        *,
        n: int,
        seed: int = 1,
        suppliers: int = 200,
        clients: int = 3,
        now: datetime | None = None,
        dialect=None,
        burst_limit: bool = False,
    ):
        # What Sandbox.__init__ sets, with one domain (the n-th) instead of domains 1..N.
        self.seed = seed
        self.dialect = resolve_dialect(dialect)
        self.schema = build_executable_schema(self.dialect)
        self.clock = Clock()  # real time; the records are stamped relative to `now`
        reference = now or datetime.now(UTC)
        self.store = Store(self.clock, self.dialect, zlib.crc32(f"sandbox-order-{seed}".encode()))
        owner = owner_db_id(n)
        clients_ids = seed_domain(
            self.store,
            random.Random(f"{seed}-fleet-{n}"),
            n=n,
            suppliers=suppliers,
            clients=clients,
            now=reference,
            flavour=NORWEGIAN,
        )
        self.owners = [owner]
        self.owner_client_ids = {owner: clients_ids}
        self.owner_db_id = owner
        self.client_entity_ids = list(clients_ids)
        self.lock = threading.Lock()
        self.burst_limit = burst_limit
        self.burst_max_requests = BURST_MAX_REQUESTS
        self.burst_window_seconds = BURST_WINDOW_SECONDS
        self.fast_path = True
        self.counters = RequestCounters()
        self.faults = Faults(seed)
        self.tokens = TokenRegistry(f"{seed}-fleet-{n}")
        self.owner_tokens = {owner: self._make_demo_tokens(owner)}
        self.demo_tokens = self.owner_tokens[owner]
        self.fleet_token = self.add_token(entity_db_id=owner, token=fleet_token(seed, n))
        self.wsgi_app = SandboxApp(self)


class FleetSandbox:
    """A WSGI app serving owner entities 1..len(suppliers), each from its own OwnerSandbox."""

    def __init__(
        self,
        suppliers: Sequence[int],
        *,
        seed: int = 1,
        clients: int = 3,
        now: datetime | None = None,
        dialect=None,
        burst_limit: bool = False,
    ):
        """``suppliers[n - 1]``: owner n's supplier count. ``now``: the moment records are
        stamped relative to (default: now), fixed for the fleet so that an owner built later
        holds the same records as one built earlier."""
        self.sizes = list(suppliers)
        self.seed = seed
        self.clients = clients
        self.now = now or datetime.now(UTC)
        self.dialect = resolve_dialect(dialect)
        self.burst_limit = burst_limit
        self._by_token = {fleet_token(seed, n): n for n in range(1, len(self.sizes) + 1)}
        self._owners: dict[int, OwnerSandbox] = {}
        self._building: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()
        self.requests = 0

    def __len__(self) -> int:
        return len(self.sizes)

    def owner(self, n: int) -> OwnerSandbox:
        """Owner n's sandbox, built on first use (once, even when requests race)."""
        built = self._owners.get(n)
        if built is not None:
            return built
        with self._lock:
            lock = self._building.setdefault(n, threading.Lock())
        with lock:
            built = self._owners.get(n)
            if built is None:
                built = OwnerSandbox(
                    n=n,
                    seed=self.seed,
                    suppliers=self.sizes[n - 1],
                    clients=self.clients,
                    now=self.now,
                    dialect=self.dialect,
                    burst_limit=self.burst_limit,
                )
                self._owners[n] = built
        return built

    def info(self) -> dict:
        return {"owners": len(self.sizes), "built": len(self._owners), "requests": self.requests}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") == FLEET_PATH:
            return respond(start_response, 200, self.info())
        try:
            n = self._by_token.get(token_from_header(environ.get("HTTP_AUTHORIZATION")))
        except AuthError as error:
            return respond(start_response, 401, _unauthenticated(error.message))
        if n is None:
            return respond(start_response, 401, _unauthenticated(INVALID_TOKEN_MESSAGE))
        with self._lock:
            self.requests += 1
        return self.owner(n).wsgi_app(environ, start_response)

    @contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1"):
        """Serve on a loopback port; yields the GraphQL URL."""
        with serve_in_thread(self, host, port) as base:
            yield f"{base}/graphql"


def _unauthenticated(message: str) -> dict:
    return {"errors": [{"message": message, "code": "UNAUTHENTICATED"}]}
