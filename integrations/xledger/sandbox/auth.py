"""API tokens, their scopes and entity, and the per-token burst limit.

A token never appears in a log line or an error message: errors name the problem, not the
token, and counters are keyed by the token only inside this process.
"""

import base64
import random
import re
import threading
from collections import deque
from dataclasses import dataclass, field

# Scope names are the root field names [ours]: one read scope per data type, one write scope.
READ_SCOPES = (
    "entities",
    "suppliers",
    "supplier_deltas",
    "currencies",
    "objectKinds",
    "objectValues",
    "taxTableSetups",
    "accounts",
    "assets",
    "glImportItems",
    "glImportItemErrors",
)
WRITE_SCOPES = ("addGLImportItems",)
ALL_SCOPES = frozenset(READ_SCOPES + WRITE_SCOPES)

# `Authorization: token <token>` [known]; the token is base64url [seen].
AUTH_HEADER = re.compile(r"^token ([A-Za-z0-9_\-]+={0,2})$")
TOKEN_BYTES = 27  # 27 random bytes are 36 base64url characters [seen: "about 36 characters"]

# Burst window [seen: 20 requests per 5 seconds].
BURST_MAX_REQUESTS = 20
BURST_WINDOW_SECONDS = 5.0


class AuthError(Exception):
    """A request that cannot be authenticated; ``message`` is what the API answers."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def bad_format_message() -> str:
    return "Bad format for API Token. Expected header 'Authorization: token <API token>'."


INVALID_TOKEN_MESSAGE = "Invalid API token"


def forbidden_message(field_name: str) -> str:
    return f"The API token has no access to {field_name}."


@dataclass
class Token:
    scopes: frozenset[str]
    entity_db_id: int
    revoked: bool = False
    label: str = ""
    burst: deque = field(default_factory=deque, repr=False)


def make_token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(TOKEN_BYTES)).decode("ascii")


def token_from_header(header: str | None) -> str:
    """The token in an Authorization header, or AuthError with Xledger's wording."""
    match = AUTH_HEADER.match((header or "").strip())
    if not match:
        raise AuthError(bad_format_message())
    return match.group(1)


def _known_scopes(scopes) -> frozenset[str]:
    scopes = frozenset(scopes)
    unknown = scopes - ALL_SCOPES
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    return scopes


class TokenRegistry:
    def __init__(self, seed: int):
        self._rng = random.Random(f"sandbox-tokens-{seed}")
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def add(self, *, scopes=None, entity_db_id: int, token: str | None = None, label="") -> str:
        scopes = ALL_SCOPES if scopes is None else _known_scopes(scopes)
        with self._lock:
            if token is None:
                token = make_token(self._rng)
            self._tokens[token] = Token(scopes, entity_db_id, label=label)
        return token

    def revoke(self, token: str) -> None:
        self._tokens[token].revoked = True

    def set_scopes(self, token: str, scopes) -> None:
        self._tokens[token].scopes = _known_scopes(scopes)

    def authenticate(self, header: str | None) -> tuple[str, Token]:
        token = token_from_header(header)
        info = self._tokens.get(token)
        if info is None or info.revoked:
            raise AuthError(INVALID_TOKEN_MESSAGE)
        return token, info

    def get(self, token: str) -> Token:
        return self._tokens[token]


def burst_allows(info: Token, now: float, *, max_requests: int, window: float) -> bool:
    """Sliding window per token; refused requests do not count, so waiting always helps [ours].

    The caller holds the sandbox's counter lock.
    """
    calls = info.burst
    while calls and calls[0] <= now - window:
        calls.popleft()
    if len(calls) >= max_requests:
        return False
    calls.append(now)
    return True
