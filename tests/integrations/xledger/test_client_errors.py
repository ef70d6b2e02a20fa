"""Each kind of failure, from each way Xledger (or the network) can produce it."""

import traceback
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import (
    AuthenticationError,
    CreditsExhausted,
    PermissionDenied,
    QueryError,
    RateLimited,
    TransientError,
    XledgerError,
    classify,
)

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
QUERY = "query suppliers { suppliers(first: 1) { edges { node { dbId } } } }"


def make_client(handler, **kwargs):
    kwargs.setdefault("max_attempts", 1)
    kwargs.setdefault("sleep", lambda seconds: None)
    return XledgerClient(
        TOKEN, url="https://xledger.test/graphql", transport=httpx.MockTransport(handler), **kwargs
    )


def answer(status=200, errors=None, data=None, headers=None):
    body = {}
    if errors is not None:
        body["errors"] = errors
    if data is not None:
        body["data"] = data

    def handler(request):
        return httpx.Response(status, json=body, headers=headers)

    return handler


def raised(handler, **kwargs) -> XledgerError:
    with make_client(handler, **kwargs) as client, pytest.raises(XledgerError) as info:
        client.execute(QUERY)
    return info.value


@pytest.mark.parametrize(
    "handler",
    [
        answer(401, [{"message": "Invalid API token", "code": "UNAUTHENTICATED"}]),
        answer(401),
        answer(200, [{"message": "Bad format for API Token. Expected 'token <value>'."}]),
        answer(200, [{"message": "Nope", "extensions": {"code": "UNAUTHENTICATED"}}]),
    ],
    ids=["401-with-code", "401-bare", "bad-format-on-200", "extensions-code"],
)
def test_it_raises_authentication_error(handler):
    exc = raised(handler)
    assert isinstance(exc, AuthenticationError)
    assert exc.kind == "auth"
    assert not exc.retryable


def test_it_raises_permission_denied_naming_the_data_type():
    exc = raised(
        answer(
            200,
            [{"message": "Not allowed", "code": "FORBIDDEN", "path": ["suppliers"]}],
            data={"suppliers": None},
        )
    )
    assert isinstance(exc, PermissionDenied)
    assert exc.kind == "permission"
    assert exc.data_type == "suppliers"


def test_it_raises_permission_denied_on_http_403():
    exc = raised(answer(403))
    assert isinstance(exc, PermissionDenied)
    assert not exc.retryable


@pytest.mark.parametrize(
    ("handler", "minimum"),
    [
        (
            answer(200, [{"message": "Slow down", "code": "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"}]),
            5,
        ),
        (answer(200, [{"message": "Busy", "code": "BAD_REQUEST.CONCURRENCY_LIMIT_REACHED"}]), 0),
        (answer(429), 5),
        (answer(429, headers={"Retry-After": "12"}), 12),
    ],
    ids=["burst", "concurrency", "429", "429-retry-after"],
)
def test_it_raises_rate_limited_with_a_wait(handler, minimum):
    exc = raised(handler, max_wait=0)
    assert isinstance(exc, RateLimited)
    assert exc.kind == "rate_limited"
    assert exc.wait_seconds >= minimum


def test_it_raises_credits_exhausted_with_reset_at():
    reset_at = datetime.now(UTC) + timedelta(hours=1)
    exc = raised(
        answer(
            200,
            [
                {
                    "message": "Out of credits",
                    "code": "BAD_REQUEST.INSUFFICIENT_CREDITS",
                    "extensions": {"resetAt": reset_at.isoformat()},
                }
            ],
        )
    )
    assert isinstance(exc, CreditsExhausted)
    assert exc.kind == "credits"
    assert abs((exc.reset_at - reset_at).total_seconds()) < 1


def test_it_assumes_twenty_minutes_when_credits_have_no_reset_at():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    exc = classify(200, [{"message": "x", "code": "BAD_REQUEST.INSUFFICIENT_CREDITS"}], now=now)
    assert exc.reset_at == now + timedelta(minutes=20)
    assert exc.wait_seconds == 20 * 60


@pytest.mark.parametrize("status", [500, 502, 503])
def test_it_raises_transient_error_on_5xx(status):
    def handler(request):
        return httpx.Response(status, text="<html>Bad gateway</html>")

    exc = raised(handler)
    assert isinstance(exc, TransientError)
    assert exc.kind == "transient"
    assert exc.status == status
    assert not exc.in_doubt


def test_it_raises_transient_error_when_the_query_timed_out():
    exc = raised(answer(200, [{"message": "Your query timed out."}]))
    assert isinstance(exc, TransientError)
    assert exc.query_timed_out


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("gone")],
    ids=["connect", "read-timeout", "dropped"],
)
def test_it_raises_transient_error_on_network_failures(error):
    def handler(request):
        raise error

    exc = raised(handler)
    assert isinstance(exc, TransientError)
    assert not exc.in_doubt  # a query: nothing to doubt


@pytest.mark.parametrize(
    "error",
    [
        {"message": 'Cannot query field "nope" on type "Query".'},
        {"message": "Wrong type", "code": "ARGUMENTS_OF_CORRECT_TYPE"},
        {"message": "Bad value", "code": "INVALID_VALUE"},
        {"message": "Invalid", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}},
        {"message": "Something new", "code": "SOMETHING.UNHEARD_OF"},
    ],
    ids=["cannot-query-field", "argument-type", "invalid-value", "validation", "unknown"],
)
def test_it_raises_query_error_for_permanent_problems(error):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json={"errors": [error]})

    exc = raised(handler, max_attempts=4)
    assert isinstance(exc, QueryError)
    assert exc.kind == "query"
    assert len(calls) == 1  # never retried


def test_it_raises_query_error_on_an_answer_without_data():
    exc = raised(answer(200, data=None))
    assert isinstance(exc, QueryError)


def test_it_reads_errors_on_http_200_even_with_data():
    exc = raised(
        answer(
            200,
            [{"message": "Not allowed", "code": "FORBIDDEN", "path": ["accounts"]}],
            data={"suppliers": {"edges": []}, "accounts": None},
        )
    )
    assert isinstance(exc, PermissionDenied)


def test_it_prefers_authentication_over_other_errors():
    exc = classify(
        200,
        [
            {"message": "Not allowed", "code": "FORBIDDEN", "path": ["suppliers"]},
            {"message": "Invalid API token", "code": "UNAUTHENTICATED"},
        ],
    )
    assert isinstance(exc, AuthenticationError)


def test_it_returns_per_field_errors_to_partial_callers():
    handler = answer(
        200,
        [{"message": "Not allowed", "code": "FORBIDDEN", "path": ["accounts"]}],
        data={"suppliers": {"edges": []}, "accounts": None},
    )
    with make_client(handler) as client:
        data, errors = client.execute_partial(QUERY)
    assert data["suppliers"] == {"edges": []}
    assert [(e.kind, e.data_type) for e in errors] == [("permission", "accounts")]


def test_it_still_raises_rate_limits_to_partial_callers():
    handler = answer(
        200,
        [{"message": "Slow down", "code": "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"}],
        data={"suppliers": None},
    )
    with make_client(handler, max_wait=0) as client, pytest.raises(RateLimited):
        client.execute_partial(QUERY)


@pytest.mark.parametrize(
    "bad", ["abc def ghi jkl", "tokentoken\ttoken", "abc$defghijk", "", "short"]
)
def test_it_refuses_a_token_of_the_wrong_shape_before_sending(bad):
    calls = []
    with pytest.raises(AuthenticationError) as info:
        XledgerClient(bad, transport=httpx.MockTransport(calls.append))
    assert calls == []
    assert info.value.kind == "auth"
    if bad:
        shown = traceback.TracebackException.from_exception(info.value, capture_locals=True)
        ours = [f for f in shown.stack if f.filename.endswith("xledger/client.py")]
        assert ours  # the client's own frames, whose locals we control
        assert all(bad not in repr(frame.locals) for frame in ours)


def test_it_treats_a_bad_format_answer_as_authentication():
    exc = raised(answer(401, [{"message": "Bad format for API Token"}]))
    assert isinstance(exc, AuthenticationError)


def test_it_trims_a_pasted_token():
    seen = []

    def handler(request):
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"data": {"ok": True}})

    with XledgerClient(f"  {TOKEN}\n", transport=httpx.MockTransport(handler)) as client:
        client.execute(QUERY)
    assert seen == [f"token {TOKEN}"]


def test_it_returns_stored_inputs_and_rejected_ones_of_a_batch_mutation():
    handler = answer(
        200,
        [
            {
                "message": "invoiceNumber is required",
                "code": "BAD_REQUEST.VALIDATION",
                "path": ["addGLImportItems"],
                "extensions": {"clientId": "2"},
            }
        ],
        data={"addGLImportItems": {"edges": [{"clientId": "1", "node": {"dbId": 7}}]}},
    )
    with make_client(handler) as client:
        data, errors = client.execute_partial(QUERY, {"inputs": []}, mutation=True)
    assert data["addGLImportItems"]["edges"][0]["clientId"] == "1"
    assert [(e.kind, e.code) for e in errors] == [("query", "BAD_REQUEST.VALIDATION")]
    assert errors[0].extensions == {"clientId": "2"}
