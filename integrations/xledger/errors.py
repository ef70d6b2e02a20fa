"""What can go wrong when talking to Xledger, and the one classifier that decides which is which.

Every failure the client raises is an `XledgerError` with a `kind` string, so callers (runs,
the verify form, the invoice sender) can branch and record without importing httpx. The
`classify` function is the only place that reads Xledger's status codes, error codes and
messages: the [seen]/[ours] parts of the contract are the tables at the top of this module.

Messages never contain the API token: the client scrubs response text before it gets here, and
nothing here ever sees the request headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from integrations.xledger import timestamps

# --- The contract's error vocabulary, one edit away from correction -----------------------------

AUTH_CODES = frozenset({"UNAUTHENTICATED"})  # [ours]
AUTH_MESSAGE_PREFIXES = ("Bad format for API Token", "Invalid API token")  # [seen], [ours]
# [ours] How else a server may word a refused token, when it sends no code we know (HTTP 200 or
# 403): revocation is recognised by the message as well as by the status.
AUTH_MESSAGE_PATTERN = re.compile(
    r"api[ _-]?token|invalid token|token (is |has been |was )?(not valid|invalid|revoked|expired)"
    r"|unauthori[sz]ed|unauthenticated|not authenticated|authentication failed",
    re.IGNORECASE,
)
PERMISSION_CODES = frozenset({"FORBIDDEN"})  # [ours]
# Code -> wait in seconds when the answer carries no Retry-After (which, when sent, is the minimum).
RATE_LIMIT_CODES = {
    "BAD_REQUEST.BURST_RATE_LIMIT_REACHED": 5.0,  # [known]; Xledger's own sample waits 5 s
    "BAD_REQUEST.CONCURRENCY_LIMIT_REACHED": 1.0,  # [known] code, [ours] wait
}
HTTP_429_DEFAULT_WAIT = 5.0  # [ours]
CREDITS_CODES = frozenset({"BAD_REQUEST.INSUFFICIENT_CREDITS"})  # [known]
CREDITS_DEFAULT_WAIT = timedelta(minutes=20)  # [seen] Xledger's sample waits 20 minutes
QUERY_TIMEOUT_MESSAGES = ("Your query timed out.",)  # [known]
# The document does not fit the server's schema (a field, type, argument or enum value we
# assumed): a SchemaMismatch, never retried. [known] codes; the messages are graphql-js's and
# graphql-core's validation wording, which servers of other stacks mostly share.
SCHEMA_CODES = frozenset(
    {
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_PARSE_FAILED",
        "SYNTAX_ERROR",
        # graphql-dotnet names each validation rule (the contract's ARGUMENTS_OF_CORRECT_TYPE is
        # one of them):
        "ARGUMENTS_OF_CORRECT_TYPE",
        "FIELDS_ON_CORRECT_TYPE",
        "KNOWN_TYPE_NAMES",
        "KNOWN_ARGUMENT_NAMES",
        "KNOWN_DIRECTIVES",
        "SCALAR_LEAFS",
        "PROVIDED_NON_NULL_ARGUMENTS",
        "VARIABLES_ARE_INPUT_TYPES",
        "VARIABLES_IN_ALLOWED_POSITION",
        "DEFAULT_VALUES_OF_CORRECT_TYPE",
        "NO_UNDEFINED_VARIABLES",
        "NO_UNUSED_VARIABLES",
        "UNIQUE_ARGUMENT_NAMES",
        "INPUT_FIELDS_ON_CORRECT_TYPE",
    }
)
SCHEMA_MESSAGE_PATTERN = re.compile(
    r"Cannot query field|Unknown type|Unknown argument|Unknown enum value"
    r"|does not exist in [\"']?\w+[\"']? enum|Expected value of type|Expected type"
    r"|must have a selection of subfields|must not have a selection"
    r"|is required, but it was not provided|Unknown field|Syntax Error|cannot represent",
    re.IGNORECASE,
)
# An input refused for its content (one rejected input of a batch mutation, a bad value): a
# QueryError on that input, never retried.
QUERY_CODES = frozenset(
    {
        "INVALID_VALUE",
        "BAD_USER_INPUT",
        "BAD_REQUEST.VALIDATION",  # [ours] one rejected input of a batch mutation
    }
)


class XledgerError(Exception):
    """Base of every Xledger failure. `kind` is a stable string for run records and forms."""

    kind = "error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        path: tuple | None = None,
        extensions: Mapping | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.path = tuple(path) if path else None
        # The error's `extensions`, e.g. the `clientId` of a rejected mutation input.
        self.extensions = dict(extensions) if isinstance(extensions, Mapping) else {}
        self.attempts = 1  # set by the client when it gave up after retrying
        self.operation = ""  # the GraphQL operation's name, set by the client

    @property
    def data_type(self) -> str | None:
        """The root field the error is about (`suppliers`), when the answer names one."""
        return str(self.path[0]) if self.path else None

    def __str__(self) -> str:
        return self.message


class AuthenticationError(XledgerError):
    """The token is missing, malformed, unknown or revoked. Never retried."""

    kind = "auth"


class PermissionDenied(XledgerError):
    """The token lacks the scope for a data type; `data_type` names the field. Never retried."""

    kind = "permission"


class RateLimited(XledgerError):
    """Too many requests just now. Nothing was processed, so it is safe to resend after
    `wait_seconds` (a minimum)."""

    kind = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, wait_seconds: float, **kwargs):
        super().__init__(message, **kwargs)
        self.wait_seconds = float(wait_seconds)


class CreditsExhausted(XledgerError):
    """The customer's credit pool is used up until `reset_at`. Retryable only if that is soon."""

    kind = "credits"
    retryable = True

    def __init__(self, message: str, *, reset_at: datetime, now: datetime | None = None, **kw):
        super().__init__(message, **kw)
        self.reset_at = reset_at
        now = now or datetime.now(UTC)
        self.wait_seconds = max(0.0, (reset_at - now).total_seconds())


class TransientError(XledgerError):
    """Xledger could not be reached or failed on its side. Retryable, except when `in_doubt`:
    a mutation that may have been processed must be looked up before it is sent again."""

    kind = "transient"

    def __init__(self, message: str, *, in_doubt: bool = False, wait_seconds: float = 0.0, **kw):
        super().__init__(message, **kw)
        self.in_doubt = in_doubt
        self.wait_seconds = float(wait_seconds)
        self.query_timed_out = False  # Xledger said the query was too heavy: ask for less

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return not self.in_doubt


class Unavailable(TransientError):
    """An error Xledger did not explain: a code we do not know, with no field it is about (a
    maintenance window, an overloaded service, or something new). Xledger's own sample retries
    every such error many times, "enough to survive a large Xledger maintenance window" [known]:
    the client retries it like a transient error, and a run that still meets it is deferred
    (tried again later with backoff), not failed; only when it lasts is a person told. Because
    a revoked token might be worded this way too, the run checks the token once before it
    decides (services.run_execute)."""

    kind = "unavailable"


class QueryError(XledgerError):
    """The query was refused as invalid (a bug or a schema change), or the answer is one we do
    not understand. Permanent: retrying would only spend the customer's requests."""

    kind = "query"


class SchemaMismatch(QueryError):
    """Xledger's schema is not the one our document assumes (a field, a type name, an argument):
    no retry can help, only a corrected document. The run stops its dataset's schedule and
    opens one Issue for SEMINE's staff with the server's message and the query's name."""

    kind = "schema"


# Most to least decisive: when one answer holds several errors, the first kind found wins.
_PRIORITY = (
    AuthenticationError,
    CreditsExhausted,
    RateLimited,
    TransientError,
    Unavailable,
    SchemaMismatch,
    QueryError,
)


def _error_code(error: Mapping) -> str | None:
    """Xledger puts `code` at the top level [known]; GraphQL servers often use extensions.code."""
    code = error.get("code")
    if not code and isinstance(error.get("extensions"), Mapping):
        code = error["extensions"].get("code")
    return str(code) if code else None


def _parse_reset_at(error: Mapping) -> datetime | None:
    """`extensions.resetAt` [seen]. Without an offset it is CET/CEST wall time like every other
    Xledger time [ours]; should a server mean UTC instead, that reading is the later instant,
    so taking it as CET retries a little early, never late."""
    extensions = error.get("extensions")
    value = extensions.get("resetAt") if isinstance(extensions, Mapping) else None
    if not value:
        return None
    try:
        return timestamps.parse_datetime(value)
    except ValueError:
        return None


def classify_error(
    error: Mapping,
    *,
    status: int | None = None,
    retry_after: float | None = None,
    now: datetime | None = None,
) -> XledgerError:
    """One entry of a GraphQL `errors` array -> the matching exception (not raised)."""
    message = str(error.get("message") or "Xledger returned an error without a message.")
    code = _error_code(error)
    path = error.get("path") or None
    common = {"code": code, "status": status, "path": path, "extensions": error.get("extensions")}
    label = f"{message} ({code})" if code else message

    if code in AUTH_CODES or message.startswith(AUTH_MESSAGE_PREFIXES) or status == 401:
        return AuthenticationError(f"Xledger refused the API token: {label}", **common)
    # A validation error is recognised by its code, or by its wording whatever code a server
    # gives it (one we do not know would otherwise be retried as "unavailable").
    if code in SCHEMA_CODES or (
        code not in QUERY_CODES | PERMISSION_CODES and SCHEMA_MESSAGE_PATTERN.search(message)
    ):
        return SchemaMismatch(f"Xledger refused the query: {label}", **common)
    if code is None and not path and AUTH_MESSAGE_PATTERN.search(message):
        return AuthenticationError(f"Xledger refused the API token: {label}", **common)
    if code in PERMISSION_CODES:
        field = str(path[0]) if path else "this data"
        return PermissionDenied(f"The API token may not access {field}: {label}", **common)
    if code in RATE_LIMIT_CODES:
        wait = RATE_LIMIT_CODES[code] if retry_after is None else retry_after
        return RateLimited(f"Xledger rate limit: {label}", wait_seconds=wait, **common)
    if code in CREDITS_CODES:
        now = now or datetime.now(UTC)
        reset_at = _parse_reset_at(error) or now + CREDITS_DEFAULT_WAIT
        return CreditsExhausted(
            f"Xledger credits are used up until {reset_at.isoformat()}: {label}",
            reset_at=reset_at,
            now=now,
            **common,
        )
    if message.startswith(QUERY_TIMEOUT_MESSAGES):
        exc = TransientError(f"Xledger timed out on the query: {label}", **common)
        exc.query_timed_out = True
        return exc
    if code in QUERY_CODES:
        return QueryError(f"Xledger refused the query: {label}", **common)
    if status == 403:
        return PermissionDenied(f"Xledger refused access: {label}", **common)
    if status == 429:
        wait = HTTP_429_DEFAULT_WAIT if retry_after is None else retry_after
        return RateLimited(f"Xledger rate limit: {label}", wait_seconds=wait, **common)
    if status is not None and status >= 500:
        return TransientError(f"Xledger failed (HTTP {status}): {label}", **common)
    if path or (status is not None and status >= 400):
        return QueryError(f"Xledger refused the query: {label}", **common)
    return Unavailable(f"Xledger answered with an error it did not explain: {label}", **common)


def classify(
    status: int | None,
    errors: Iterable[Mapping] | None,
    *,
    retry_after: float | None = None,
    body_excerpt: str = "",
    now: datetime | None = None,
) -> XledgerError | None:
    """The error to raise for one HTTP answer, or None if it is a success.

    Reads the GraphQL `errors` whatever the HTTP status (Xledger answers most errors with 200),
    then falls back on the status for answers without a usable body. When several errors come
    back, the most decisive kind wins (auth before rate limits before transient before query);
    an answer whose only errors are FORBIDDEN raises the first PermissionDenied.
    """
    classified = [
        classify_error(e, status=status, retry_after=retry_after, now=now)
        for e in (errors or [])
        if isinstance(e, Mapping)
    ]
    for cls in _PRIORITY:
        for exc in classified:
            if type(exc) is cls:
                return exc
    if classified:
        return classified[0]  # only PermissionDenied left

    if status is None or status < 400:
        return None
    excerpt = f": {body_excerpt}" if body_excerpt else ""
    if status == 401:
        return AuthenticationError(f"Xledger refused the API token (HTTP 401){excerpt}", status=401)
    if status == 403:
        return PermissionDenied(f"Xledger refused access (HTTP 403){excerpt}", status=403)
    if status == 429:
        wait = HTTP_429_DEFAULT_WAIT if retry_after is None else retry_after
        return RateLimited(f"Xledger rate limit (HTTP 429){excerpt}", wait_seconds=wait, status=429)
    if status >= 500:
        return TransientError(f"Xledger failed (HTTP {status}){excerpt}", status=status)
    return QueryError(f"Xledger refused the request (HTTP {status}){excerpt}", status=status)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date. Garbage counts as absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
