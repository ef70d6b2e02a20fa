"""The HTTP side of Xledger's GraphQL API: one POST per request, errors classified, retries
bounded, pages streamed, requests counted.

Why it looks the way it does:

- Requests cost the customer money, so `request_count` counts every attempt (failed ones too)
  and retries are few, backed off, and only for errors that are transient or rate limits.
- A worker must not sleep for twenty minutes because the credit pool is empty: a wait longer
  than `max_wait` is handed back to the caller as the exception instead.
- A mutation that may have reached Xledger is never resent here: it raises
  `TransientError(in_doubt=True)` so the invoice sender looks the items up first.
- The token lives only in the httpx.Client's headers (whose repr httpx masks). It is never an
  attribute, never logged, and scrubbed from any response text that ends up in an exception.

Multipart requests (an invoice PDF) follow Xledger's own form, which differs from the GraphQL
multipart request spec: one part per file FIRST, the JSON body LAST (a part named `operations`,
Content-Type application/json, with a filename) [seen: "the json object has to come last"]; a file
sent after the JSON part is lost. The mutation names each file by putting the file's name in its
place in the variables, and that name is the file part's filename. A spec `map` part goes before
the JSON part too, so a server that follows the spec puts the file in the same place. Pass
`files={"<path in the variables>": (filename, content, content_type)}`, for example
`files={"variables.inputs.0.node.invoiceFile": ("inv-1.pdf", pdf, "application/pdf")}`, with the
file's name already at that place in the variables.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import tenacity
from django.conf import settings

from integrations.xledger import queries, storable
from integrations.xledger.errors import (
    AuthenticationError,
    QueryError,
    TransientError,
    XledgerError,
    classify,
    classify_error,
    parse_retry_after,
)

logger = logging.getLogger("integrations.xledger")

# [seen] a base64url string of about 36 characters; [ours] anything else is refused unsent.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_\-]{8,512}={0,2}")
AUTH_SCHEME = "token"  # [known] `Authorization: token <API token>`
SCRUBBED = "[token]"
MIN_PAGE_SIZE = 100  # a query that times out at this size is not Xledger's size problem

# Transport failures that prove nothing reached Xledger: safe to resend even a mutation.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

FileSpec = tuple[str, bytes, str]


WRONG_SHAPE = (
    "The API token has the wrong shape: it should be one word of letters, digits, '-' and '_' "
    "(copy it again from Xledger)."
)


def clean_token(token: str) -> str | None:
    """The token as pasted minus surrounding white space, or None if it cannot be a token.

    Returns rather than raises, so that no frame of a traceback holds a rejected token.
    """
    token = (token or "").strip()
    return token if TOKEN_PATTERN.fullmatch(token) else None


@dataclass
class Page:
    """One page of a list query. `end_cursor` is the last edge's cursor; `data` is the whole
    `data` of that answer (other aliases)."""

    nodes: list[dict]
    end_cursor: str | None
    has_next_page: bool
    data: dict = field(repr=False)


def _dig(data: Mapping, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise QueryError(f"Xledger's answer has no '{path}' (missing '{part}').")
        node = node[part]
    return node


def page_of(data: Mapping, path: str) -> Page:
    """The page a list answer holds at `path`: its nodes, whether there is more, and the last
    edge's cursor (the cursor the next page is asked `after`)."""
    connection = _dig(data, path) or {}
    edges = connection.get("edges") or ()
    nodes = [edge["node"] for edge in edges if isinstance(edge, Mapping) and "node" in edge]
    end_cursor = edges[-1].get("cursor") if edges and isinstance(edges[-1], Mapping) else None
    has_next = bool((connection.get("pageInfo") or {}).get("hasNextPage"))
    return Page(nodes=nodes, end_cursor=end_cursor, has_next_page=has_next, data=data)


@functools.cache
def tls_context():
    """One TLS context per process, built as httpx builds its default (certifi's CA bundle, or
    SSL_CERT_FILE / SSL_CERT_DIR). httpx would build one per client: loading the CA bundle
    costs about 24 ms of CPU, a third of what a quiet run costs a worker (bench/fleet.py)."""
    return httpx.create_ssl_context()


def _operation_name(document: str) -> str:
    match = re.search(r"\b(query|mutation)\s+(\w+)", document)
    return match.group(2) if match else "anonymous"


class XledgerClient:
    """A token's session with Xledger. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        token: str,
        *,
        url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
        max_wait: float | None = None,
        max_attempts: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = url or settings.XLEDGER_API_URL
        self.timeout = float(timeout if timeout is not None else settings.XLEDGER_TIMEOUT_SECONDS)
        if max_wait is None:
            max_wait = settings.XLEDGER_MAX_WAIT_SECONDS
        self.max_wait = float(max_wait)
        self.max_attempts = int(max_attempts or settings.XLEDGER_MAX_ATTEMPTS)
        self.sleep = sleep
        self.request_count = 0
        token = clean_token(token)
        if token is None:
            raise AuthenticationError(WRONG_SHAPE)
        self._http = httpx.Client(
            headers={"Authorization": f"{AUTH_SCHEME} {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            transport=transport,
            verify=tls_context(),
        )
        del token  # from here on it lives only in the headers

    def __repr__(self) -> str:
        return f"<XledgerClient url={self.url!r} requests={self.request_count}>"

    def __enter__(self) -> XledgerClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- Public API ------------------------------------------------------------------------------

    def execute(
        self,
        document: str,
        variables: Mapping | None = None,
        *,
        mutation: bool = False,
        files: Mapping[str, FileSpec] | None = None,
        attempts: int | None = None,
    ) -> dict:
        """Send one document and return its `data`; raise the classified error otherwise.

        `mutation=True` turns off resending once the request may have reached Xledger;
        `attempts` caps the tries below the client's own (a single question asked once).
        """
        data, _ = self._request(
            document, variables, mutation=mutation, files=files, attempts=attempts
        )
        return data

    def execute_partial(
        self,
        document: str,
        variables: Mapping | None = None,
        *,
        mutation: bool = False,
        files: Mapping[str, FileSpec] | None = None,
    ) -> tuple[dict, list[XledgerError]]:
        """Like `execute`, but an answer with data and per-field errors returns
        `(data, errors)` instead of raising: a missing scope in the verify probe, or the
        rejected inputs of an `addGLImportItems` batch whose other inputs were stored.
        Authentication, rate limits, credits and transport failures still raise."""
        return self._request(document, variables, mutation=mutation, partial=True, files=files)

    def first_pages(self, name: str, lists: list, *, first: int) -> list[Page]:
        """The first page of each list (`queries.ListQuery`, different roots) in one request;
        pass each to `paginate(..., start=)` for the rest."""
        data, _ = self.read_shrinking(
            lambda size: queries.first_pages(name, lists, first=size), first=first
        )
        return [page_of(data, query.root) for query in lists]

    def paginate(
        self, query, *, first: int = queries.MAX_PAGE_SIZE, start: Page | None = None
    ) -> Iterator[Page]:
        """Yield the pages of a `queries.ListQuery`, each asked for `after` the previous page's
        last edge's cursor (Xledger's own sample does exactly this; `endCursor` is not asked
        for), until `hasNextPage` is false. A page Xledger says timed out is asked again at half
        the size (`read_shrinking`). `start`: the first page, already read (`first_pages`)."""
        if not isinstance(first, int) or not 1 <= first <= queries.MAX_PAGE_SIZE:
            raise ValueError(f"first must be between 1 and {queries.MAX_PAGE_SIZE}, not {first!r}.")
        after: str | None = None
        if start is not None:
            yield start
            if not start.has_next_page:
                return
            if start.end_cursor is None:
                raise QueryError(
                    f"Xledger said there is a next page of '{query.root}' but gave no cursor."
                )
            after = start.end_cursor
            del start
        while True:
            data, first = self.read_shrinking(
                lambda size, after=after: query.document(first=size, after=after), first=first
            )
            page = page_of(data, query.root)
            yield page
            has_next, end_cursor = page.has_next_page, page.end_cursor
            # Let go of this page before asking for the next: one page in memory, not two.
            del data, page
            if not has_next:
                return
            if end_cursor is None or end_cursor == after:
                raise QueryError(
                    f"Xledger said there is a next page of '{query.root}' but gave no new cursor."
                )
            after = end_cursor

    def read_shrinking(
        self, render: Callable[[int], str], *, first: int, floor: int = MIN_PAGE_SIZE
    ) -> tuple[dict, int]:
        """Send `render(first)`; while Xledger says the query timed out ("retry with a smaller
        page", the contract says), send it again at half the size, down to `floor`. Returns the
        answer's data and the page size that worked, which the caller keeps for the next page.
        Every read goes through here, paged or not."""
        while True:
            try:
                data, _ = self._request(render(first), None, retry_query_timeouts=False)
                return data, first
            except TransientError as exc:
                if not exc.query_timed_out or first <= floor:
                    raise
                first = max(floor, first // 2)
                logger.info("Xledger query timed out; asking again with first=%d", first)

    # --- Internals -------------------------------------------------------------------------------

    def _request(
        self,
        document: str,
        variables: Mapping | None,
        *,
        mutation: bool = False,
        partial: bool = False,
        files: Mapping[str, FileSpec] | None = None,
        retry_query_timeouts: bool = True,
        attempts: int | None = None,
    ) -> tuple[dict, list[XledgerError]]:
        def should_retry(exc: BaseException) -> bool:
            if not isinstance(exc, XledgerError) or not exc.retryable:
                return False
            if isinstance(exc, TransientError) and exc.query_timed_out:
                return retry_query_timeouts
            return getattr(exc, "wait_seconds", 0.0) <= self.max_wait

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception()
            backoff = min(self.max_wait, 0.5 * 2 ** (state.attempt_number - 1))
            backoff += random.uniform(0, min(1.0, backoff))  # jitter: spread retrying workers
            return min(max(backoff, getattr(exc, "wait_seconds", 0.0)), self.max_wait)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception()
            logger.warning(
                "Xledger %s failed (%s, attempt %d of %d); retrying in %.1f s",
                _operation_name(document),
                exc.kind,
                state.attempt_number,
                self.max_attempts,
                state.upcoming_sleep,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(min(attempts or self.max_attempts, self.max_attempts)),
            wait=wait,
            retry=tenacity.retry_if_exception(should_retry),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        attempt = 0

        def send() -> tuple[dict, list[XledgerError]]:
            nonlocal attempt
            attempt += 1
            try:
                return self._send_once(
                    document, variables, mutation=mutation, partial=partial, files=files
                )
            except XledgerError as exc:
                exc.attempts = attempt
                exc.operation = _operation_name(document)
                raise

        return retrying(send)

    def _send_once(
        self,
        document: str,
        variables: Mapping | None,
        *,
        mutation: bool,
        partial: bool,
        files: Mapping[str, FileSpec] | None,
    ) -> tuple[dict, list[XledgerError]]:
        operation = _operation_name(document)
        payload = {"query": document, "variables": dict(variables or {})}
        if files:
            kwargs = self._multipart(payload, files)
        else:
            kwargs = {
                "content": orjson.dumps(payload),
                "headers": {"Content-Type": "application/json"},
            }
        self.request_count += 1
        started = time.monotonic()
        try:
            response = self._http.post(self.url, **kwargs)
        except NOT_SENT as exc:
            raise TransientError(
                f"Xledger could not be reached: {self._scrub(str(exc)) or type(exc).__name__}"
            ) from exc
        except httpx.TransportError as exc:
            # Read timeouts, dropped connections: the request may have been processed.
            raise TransientError(
                f"The connection to Xledger failed mid-request ({type(exc).__name__}): "
                f"{self._scrub(str(exc))}",
                in_doubt=mutation,
            ) from exc
        elapsed = time.monotonic() - started
        logger.debug(
            "Xledger %s: HTTP %d, %d bytes in %.3f s",
            operation,
            response.status_code,
            len(response.content),
            elapsed,
        )
        return self._read_answer(response, mutation=mutation, partial=partial)

    def _read_answer(
        self, response: httpx.Response, *, mutation: bool, partial: bool
    ) -> tuple[dict, list[XledgerError]]:
        status = response.status_code
        data, errors, excerpt = self._parse(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))

        if errors and partial and isinstance(data, dict) and status < 400:
            field_errors = [classify_error(e, status=status) for e in errors if isinstance(e, dict)]
            if all(not e.retryable and e.kind in ("permission", "query") for e in field_errors):
                return data, field_errors

        error = classify(status, errors, retry_after=retry_after, body_excerpt=excerpt)
        if error is None and not isinstance(data, dict):
            error = (
                TransientError(f"Xledger answered HTTP {status} without data: {excerpt}")
                if status >= 500
                else QueryError(f"Xledger answered HTTP {status} without data: {excerpt}")
            )
        if error is not None:
            if mutation and isinstance(error, TransientError):
                error.in_doubt = True  # the server had the request: it may have been processed
            raise error
        return data, []

    def _parse(self, response: httpx.Response) -> tuple[Any, list | None, str]:
        """(data, errors with the token scrubbed, excerpt of a body that is not JSON).

        A separate frame on purpose: the raw body never sits in the locals of a frame that
        raises, so not even a traceback with locals shows a token a server echoed back.
        """
        content = response.content
        try:
            if content and storable.may_hold_unstorable(content):
                body = storable.loads_storable(content)  # NUL, unpaired surrogates: see there
                logger.warning("Xledger answered text no database can store; made storable")
            else:
                body = orjson.loads(content) if content else None
        except (ValueError, RecursionError):  # either parser's JSONDecodeError; deep nesting
            body = None
        if not isinstance(body, dict):
            return None, None, self._scrub(storable.storable_text(response.text[:200].strip()))
        errors = body.get("errors")
        if errors:
            errors = orjson.loads(self._scrub(orjson.dumps(errors).decode()))
        return body.get("data"), errors, ""

    def _multipart(self, payload: dict, files: Mapping[str, FileSpec]) -> dict:
        """File parts first, then the spec's `map`, then the JSON body last (Xledger's form)."""
        mapping = {str(i): [path] for i, path in enumerate(files)}
        parts = [(str(i), spec) for i, spec in enumerate(files.values())]
        parts.append(("map", (None, orjson.dumps(mapping))))  # a plain field: one JSON part
        parts.append(("operations", ("operations.json", orjson.dumps(payload), "application/json")))
        return {"files": parts}

    def _scrub(self, text: str) -> str:
        """Remove the token from text that came back from the network."""
        header = self._http.headers.get("Authorization", "")
        secret = header.partition(" ")[2]
        if secret and secret in text:
            text = text.replace(secret, SCRUBBED)
        return text
