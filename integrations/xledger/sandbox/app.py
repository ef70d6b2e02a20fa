"""The WSGI application: ``POST /graphql`` as Xledger answers it, and ``/_sandbox/`` control.

The order of checks mirrors what a client meets in front of a real API: transport faults
(500, 429, slowness) first, then authentication, the burst limit, service-level refusals
(credits, concurrency, timeouts), and only then the GraphQL document itself.
"""

import json
import time

import httpx
import orjson

from . import control
from .auth import INVALID_TOKEN_MESSAGE, AuthError, burst_allows, token_from_header
from .bodies import BadRequest, parse_graphql_request, read_body
from .clock import format_wall_time
from .context import RequestContext
from .execution import parse_document, root_field_names, root_page_sizes, run_document
from .faults import (
    CONCURRENCY_LIMIT,
    CREDITS_EXHAUSTED,
    CREDITS_RESET_AFTER,
    DEFAULT_RETRY_AFTER_SECONDS,
    DEFAULT_SLOW_SECONDS,
    HTTP_429,
    HTTP_500,
    MAINTENANCE,
    QUERY_TIMEOUT,
)

BURST_ERROR = ("Burst rate limit reached", "BAD_REQUEST.BURST_RATE_LIMIT_REACHED")  # [known code]
# An unknown or revoked token under revoked="http200": HTTP 200 and no code [ours].
ACCESS_DENIED = {
    "data": None,
    "errors": [{"message": "Access denied. The API token is not valid."}],
}
GRAPHQL_PATHS = ("/graphql", "/graphql/")
JSON = "application/json"


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised after storing, instead of answering: the caller sees a connection that died.

    In-process (``httpx.WSGITransport``) it reaches the client as the RemoteProtocolError a
    real dropped connection produces; the loopback server catches it and closes the socket
    without writing a byte.
    """

    def __init__(self):
        super().__init__("Server disconnected without sending a response.")


def _status_line(status: int) -> str:
    return {
        200: "200 OK",
        400: "400 Bad Request",
        401: "401 Unauthorized",
        404: "404 Not Found",
        405: "405 Method Not Allowed",
        429: "429 Too Many Requests",
        500: "500 Internal Server Error",
        503: "503 Service Unavailable",
    }[status]


def dumps(body) -> bytes:
    """JSON bytes. orjson refuses an unpaired surrogate, which JSON (and Xledger's .NET
    serialiser) can escape; the standard library writes it as an escape, as they do."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, separators=(",", ":")).encode()


def respond(start_response, status: int, body, headers=()):
    data = body if isinstance(body, bytes) else dumps(body)
    start_response(
        _status_line(status),
        [("Content-Type", JSON), ("Content-Length", str(len(data))), *headers],
    )
    return [data]


def _errors(message: str, code: str, **extra) -> dict:
    error = {"message": message, "code": code}
    if extra:
        error["extensions"] = extra
    return {"errors": [error]}


def _data_null(message: str, code: str, **extra) -> dict:
    return {"data": None, **_errors(message, code, **extra)}


class SandboxApp:
    def __init__(self, sandbox):
        self.sandbox = sandbox

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(control.PREFIX):
            return control.handle(self.sandbox, environ, start_response)
        if path not in GRAPHQL_PATHS:
            return respond(start_response, 404, _errors("Not found.", "NOT_FOUND"))
        if environ.get("REQUEST_METHOD") != "POST":
            return respond(
                start_response, 405, _errors("Use POST.", "METHOD_NOT_ALLOWED"), [("Allow", "POST")]
            )
        return self.graphql(environ, start_response)

    def graphql(self, environ, start_response):
        sb = self.sandbox
        header = environ.get("HTTP_AUTHORIZATION")
        try:
            counted_token = token_from_header(header)
        except AuthError:
            counted_token = None
        try:
            payload, uploads = parse_graphql_request(
                environ.get("CONTENT_TYPE", ""), read_body(environ), sb.dialect.multipart
            )
        except BadRequest as error:
            sb.counters.count(counted_token, ())
            return respond(start_response, 400, _errors(str(error), "BAD_REQUEST"))
        document, parse_errors = parse_document(payload.get("query"))
        names = root_field_names(document)
        sb.counters.count(counted_token, names)
        fields = set(names)

        faults = sb.faults
        if faults.take("http_500", fields) is not None:
            return respond(start_response, 500, _errors(*HTTP_500))
        params = faults.take("http_429", fields)
        if params is not None:
            retry_after = str(params.get("retry_after", DEFAULT_RETRY_AFTER_SECONDS))
            return respond(start_response, 429, _errors(*HTTP_429), [("Retry-After", retry_after)])
        params = faults.take("slow", fields)
        if params is not None:
            time.sleep(float(params.get("seconds", DEFAULT_SLOW_SECONDS)))
        params = faults.take("maintenance", fields)
        if params is not None:
            status = int(params.get("status", 200))
            return respond(start_response, status, _data_null(*MAINTENANCE))

        dialect = sb.dialect
        try:
            _token, info = sb.tokens.authenticate(header)
        except AuthError as error:
            if error.message == INVALID_TOKEN_MESSAGE and dialect.revoked == "http200":
                return respond(start_response, 200, ACCESS_DENIED)
            return respond(start_response, 401, _errors(error.message, "UNAUTHENTICATED"))

        if sb.burst_limit:
            with sb.lock:
                allowed = burst_allows(
                    info,
                    sb.clock.timestamp(),
                    max_requests=sb.burst_max_requests,
                    window=sb.burst_window_seconds,
                )
            if not allowed:
                return respond(start_response, 200, _data_null(*BURST_ERROR))

        if faults.take("credits_exhausted", fields) is not None:
            reset_at = sb.clock.now() + CREDITS_RESET_AFTER
            if dialect.reset_at == "cet_naive":
                written = format_wall_time(reset_at.timestamp())
            else:
                written = reset_at.isoformat()
            body = _data_null(*CREDITS_EXHAUSTED, resetAt=written)
            return respond(start_response, 200, body)
        if faults.take("concurrency_limit", fields) is not None:
            return respond(start_response, 200, _data_null(*CONCURRENCY_LIMIT))
        sizes = root_page_sizes(document, payload.get("variables"))
        if faults.take("query_timeout", fields, sizes) is not None:
            return respond(start_response, 200, _data_null(*QUERY_TIMEOUT))

        if parse_errors:
            return respond(start_response, 200, {"errors": parse_errors})

        ctx = RequestContext(
            store=sb.store, token=info, uploads=uploads, dialect=dialect, schema=sb.schema
        )
        body = run_document(
            document,
            payload.get("variables"),
            payload.get("operationName"),
            ctx,
            fast=sb.fast_path,
        )
        data = dumps(body)
        if ctx.mutation_stored and faults.take("drop_after_store", fields) is not None:
            raise DroppedConnection()
        return respond(start_response, 200, data)


__all__ = ["SandboxApp", "DroppedConnection", "respond"]
