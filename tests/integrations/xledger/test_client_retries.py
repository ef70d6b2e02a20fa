"""Retries: only transient errors and rate limits, bounded, backed off, honest about waits."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import (
    CreditsExhausted,
    RateLimited,
    SchemaMismatch,
    TransientError,
    XledgerError,
)

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
QUERY = "query currencies { currencies(first: 1) { edges { node { dbId } } } }"
OK = {"data": {"currencies": {"edges": []}}}


def scripted(*responses):
    """A handler answering each request with the next item: a Response, a body, or an error."""
    calls = []
    remaining = list(responses)

    def handler(request):
        calls.append(request)
        item = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return httpx.Response(200, json=item)

    return handler, calls


def make_client(handler, **kwargs):
    sleeps = []
    kwargs.setdefault("max_attempts", 4)
    kwargs.setdefault("max_wait", 30)
    client = XledgerClient(
        TOKEN,
        url="https://xledger.test/graphql",
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        **kwargs,
    )
    return client, sleeps


BURST = {"errors": [{"message": "Slow", "code": "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"}]}


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(429),
        BURST,
        {"errors": [{"message": "Busy", "code": "BAD_REQUEST.CONCURRENCY_LIMIT_REACHED"}]},
        {"errors": [{"message": "Your query timed out."}]},
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
    ids=[
        "500",
        "502",
        "503",
        "429",
        "burst",
        "concurrency",
        "query-timeout",
        "connect",
        "read-timeout",
        "dropped",
    ],
)
def test_it_retries_then_succeeds(failure):
    handler, calls = scripted(failure, failure, OK)
    client, sleeps = make_client(handler)
    assert client.execute(QUERY) == OK["data"]
    assert len(calls) == 3
    assert len(sleeps) == 2
    assert client.request_count == 3


def test_it_gives_up_after_max_attempts_and_reports_the_last_error():
    handler, calls = scripted(httpx.Response(503))
    client, sleeps = make_client(handler, max_attempts=3)
    with pytest.raises(TransientError) as info:
        client.execute(QUERY)
    assert len(calls) == 3
    assert len(sleeps) == 2
    assert info.value.attempts == 3
    assert client.request_count == 3


def test_it_backs_off_with_growing_waits_below_max_wait():
    handler, _ = scripted(httpx.Response(500))
    client, sleeps = make_client(handler, max_attempts=5, max_wait=3)
    with pytest.raises(TransientError):
        client.execute(QUERY)
    assert len(sleeps) == 4
    assert all(0 < s <= 3 for s in sleeps)
    assert sleeps[0] < sleeps[-1]


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.Response(401, json={"errors": [{"message": "Invalid API token"}]}), "auth"),
        (
            {"data": None, "errors": [{"message": "Access denied. The API token is not valid."}]},
            "auth",
        ),
        (httpx.Response(403), "permission"),
        (
            {"errors": [{"message": "Nope", "code": "FORBIDDEN", "path": ["currencies"]}]},
            "permission",
        ),
        ({"errors": [{"message": 'Cannot query field "x" on type "Query".'}]}, "schema"),
        ({"errors": [{"message": "Unknown type 'DateTime'."}]}, "schema"),
        ({"errors": [{"message": "Wrong", "code": "ARGUMENTS_OF_CORRECT_TYPE"}]}, "schema"),
        ({"errors": [{"message": "Bad value", "code": "INVALID_VALUE"}]}, "query"),
    ],
    ids=[
        "401",
        "revoked-on-200",
        "403",
        "forbidden",
        "cannot-query-field",
        "unknown-type",
        "argument-type",
        "invalid-value",
    ],
)
def test_it_never_retries_auth_permission_schema_or_query_errors(failure, kind):
    handler, calls = scripted(failure, OK)
    client, sleeps = make_client(handler)
    with pytest.raises(XledgerError) as info:
        client.execute(QUERY)
    assert info.value.kind == kind
    assert not info.value.retryable
    assert info.value.attempts == 1
    assert len(calls) == 1
    assert sleeps == []
    assert client.request_count == 1


def test_it_never_resends_a_mutation_refused_as_a_schema_mismatch():
    failure = {"errors": [{"message": "Unknown type 'AddGLImportItemsInput'."}]}
    handler, calls = scripted(failure, {"data": {"addGLImportItems": {"edges": []}}})
    client, sleeps = make_client(handler)
    with pytest.raises(SchemaMismatch):
        client.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": []}, mutation=True)
    assert len(calls) == 1
    assert sleeps == []


def test_it_honours_retry_after_as_a_minimum():
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "7"}), OK)
    client, sleeps = make_client(handler)
    client.execute(QUERY)
    assert len(sleeps) == 1
    assert sleeps[0] >= 7


def test_it_waits_at_least_five_seconds_after_a_burst_limit():
    handler, _ = scripted(BURST, OK)
    client, sleeps = make_client(handler)
    client.execute(QUERY)
    assert sleeps[0] >= 5


def test_it_raises_immediately_when_the_wait_exceeds_max_wait():
    handler, calls = scripted(httpx.Response(429, headers={"Retry-After": "120"}), OK)
    client, sleeps = make_client(handler, max_wait=30)
    with pytest.raises(RateLimited) as info:
        client.execute(QUERY)
    assert info.value.wait_seconds == 120
    assert sleeps == []
    assert len(calls) == 1


def test_it_hands_exhausted_credits_back_instead_of_sleeping():
    reset_at = datetime.now(UTC) + timedelta(minutes=20)
    body = {
        "errors": [
            {
                "message": "No credits",
                "code": "BAD_REQUEST.INSUFFICIENT_CREDITS",
                "extensions": {"resetAt": reset_at.isoformat()},
            }
        ]
    }
    handler, calls = scripted(body, OK)
    client, sleeps = make_client(handler)
    with pytest.raises(CreditsExhausted) as info:
        client.execute(QUERY)
    assert sleeps == []
    assert len(calls) == 1
    assert info.value.reset_at == reset_at


def test_it_waits_for_credits_that_come_back_soon():
    reset_at = datetime.now(UTC) + timedelta(seconds=10)
    body = {
        "errors": [
            {
                "message": "No credits",
                "code": "BAD_REQUEST.INSUFFICIENT_CREDITS",
                "extensions": {"resetAt": reset_at.isoformat()},
            }
        ]
    }
    handler, _ = scripted(body, OK)
    client, sleeps = make_client(handler)
    client.execute(QUERY)
    assert 8 <= sleeps[0] <= 30


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ReadError("reset"),
        httpx.Response(502),
        {"errors": [{"message": "Your query timed out."}]},
    ],
    ids=["read-timeout", "dropped", "read-error", "502", "query-timeout"],
)
def test_it_never_resends_a_mutation_that_may_have_arrived(failure):
    handler, calls = scripted(failure, {"data": {"addGLImportItems": {"edges": []}}})
    client, sleeps = make_client(handler)
    with pytest.raises(TransientError) as info:
        client.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": []}, mutation=True)
    assert info.value.in_doubt
    assert not info.value.retryable
    assert len(calls) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("no route"), httpx.Response(429), BURST],
    ids=["connect-error", "connect-timeout", "429", "burst"],
)
def test_it_resends_a_mutation_when_nothing_was_processed(failure):
    done = {"data": {"addGLImportItems": {"edges": []}}}
    handler, calls = scripted(failure, done)
    client, _ = make_client(handler)
    assert (
        client.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": []}, mutation=True) == done["data"]
    )
    assert len(calls) == 2
