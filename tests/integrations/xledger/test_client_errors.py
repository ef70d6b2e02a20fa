"""Each kind of failure, from each way Xledger (or the network) can produce it."""

import traceback
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from graphql import build_schema, parse, validate

from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import (
    AuthenticationError,
    CreditsExhausted,
    PermissionDenied,
    QueryError,
    RateLimited,
    SchemaMismatch,
    TransientError,
    Unavailable,
    XledgerError,
    classify,
    classify_error,
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


REVOKED_WORDINGS = [
    "Access denied. The API token is not valid.",
    "Invalid token",
    "API token revoked",
    "Token expired",
    "Unauthorized",
    "Not authenticated",
    "Authentication failed for this request.",
]


@pytest.mark.parametrize("message", REVOKED_WORDINGS)
def test_it_recognises_a_revoked_token_answered_with_http_200_and_no_code(message):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json={"data": None, "errors": [{"message": message}]})

    exc = raised(handler, max_attempts=4)
    assert isinstance(exc, AuthenticationError)
    assert exc.kind == "auth"
    assert exc.status == 200
    assert message in exc.message
    assert len(calls) == 1  # never retried


def test_it_recognises_a_revoked_token_answered_with_http_403():
    exc = raised(answer(403, [{"message": "Access denied. The API token is not valid."}]))
    assert isinstance(exc, AuthenticationError)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # A field out of the token's scope names the field: a permission, not a dead token.
        (
            {"message": "The API token may not read suppliers", "code": "FORBIDDEN", "path": ["x"]},
            PermissionDenied,
        ),
        # A message about one field (it has a path) is not about the token.
        ({"message": "Unauthorized field", "path": ["suppliers"]}, QueryError),
        # A schema error that happens to contain the words.
        ({"message": 'Cannot query field "apiToken" on type "Query".'}, SchemaMismatch),
    ],
    ids=["forbidden-field", "field-path", "validation"],
)
def test_it_does_not_take_every_mention_of_a_token_for_a_revoked_one(error, expected):
    assert type(classify_error(error, status=200)) is expected


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


@pytest.mark.parametrize(
    ("reset_at", "in_utc"),
    [
        ("2026-01-15T12:00:00", datetime(2026, 1, 15, 11, 0, tzinfo=UTC)),  # CET
        ("2026-07-15T12:00:00", datetime(2026, 7, 15, 10, 0, tzinfo=UTC)),  # CEST
        ("2026-07-15T12:00:00Z", datetime(2026, 7, 15, 12, 0, tzinfo=UTC)),
        ("2026-07-15T12:00:00+02:00", datetime(2026, 7, 15, 10, 0, tzinfo=UTC)),
    ],
    ids=["naive-winter", "naive-summer", "utc", "offset"],
)
def test_it_reads_a_reset_at_without_offset_as_oslo_wall_time(reset_at, in_utc):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    error = {
        "message": "x",
        "code": "BAD_REQUEST.INSUFFICIENT_CREDITS",
        "extensions": {"resetAt": reset_at},
    }
    exc = classify(200, [error], now=now)
    assert exc.reset_at == in_utc
    assert exc.wait_seconds == (in_utc - now).total_seconds()


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


# A schema other than the one our documents assume, and documents that do not fit it.
OTHER_SCHEMA = build_schema(
    """
    enum OwnerSet { CURRENT LOWER }
    scalar DateTimeString
    type OwnerRef { dbId: Int }
    type Supplier { dbId: Int owner: OwnerRef }
    type SupplierConnection { edges: [Supplier] }
    input ModifiedFilter { modifiedAt_gte: DateTimeString }
    type Query {
      suppliers(first: Int, ownerSet: OwnerSet, filter: ModifiedFilter): SupplierConnection
      add(inputs: [Int!]!): Int
    }
    """
)
MISFITS = {
    "unknown-field": "{ suppliers(first: 1) { edges { nope } } }",
    "unknown-type": "query q($since: DateTime) { suppliers(filter: {modifiedAt_gte: $since}) "
    "{ edges { dbId } } }",
    "unknown-argument": "{ suppliers(first: 1, offset: 10) { edges { dbId } } }",
    "unknown-enum-value": "{ suppliers(first: 1, ownerSet: ALL) { edges { dbId } } }",
    "unknown-filter-field": '{ suppliers(filter: {modifiedAt_gt: "x"}) { edges { dbId } } }',
    "subfields": "{ suppliers(first: 1) { edges { owner } } }",
    "no-subfields": "{ suppliers(first: 1) { edges { dbId { x } } } }",
    "required-argument": "{ add }",
}
# graphql-core's own wording for each (what a graphql-core server answers)...
SCHEMA_ERRORS = {
    f"graphql-core-{name}": {"message": validate(OTHER_SCHEMA, parse(document))[0].message}
    for name, document in MISFITS.items()
}
# ... graphql-js's (double quotes), and the codes of the contract.
SCHEMA_ERRORS |= {
    "graphql-js-field": {"message": 'Cannot query field "nope" on type "Supplier".'},
    "graphql-js-type": {"message": 'Unknown type "DateTime". Did you mean "DateTimeString"?'},
    "graphql-js-enum": {"message": 'Value "ALL" does not exist in "OwnerSet" enum.'},
    "graphql-js-literal": {"message": 'Expected value of type "Int64String", found 14.'},
    "code": {"message": "Wrong type", "code": "ARGUMENTS_OF_CORRECT_TYPE"},
    "extensions-code": {"message": "Invalid", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}},
}


@pytest.mark.parametrize("error", SCHEMA_ERRORS.values(), ids=SCHEMA_ERRORS.keys())
def test_it_raises_schema_mismatch_for_validation_errors_and_never_retries(error):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json={"data": None, "errors": [error]})

    exc = raised(handler, max_attempts=4)
    assert isinstance(exc, SchemaMismatch)
    assert isinstance(exc, QueryError)  # callers that catch QueryError still see it
    assert exc.kind == "schema"
    assert not exc.retryable
    assert error["message"] in exc.message
    assert len(calls) == 1  # never retried


def test_it_raises_schema_mismatch_on_http_400_too():
    error = {"message": 'Cannot query field "nope" on type "Query".'}
    exc = raised(answer(400, [error]), max_attempts=4)
    assert isinstance(exc, SchemaMismatch)
    assert exc.status == 400


@pytest.mark.parametrize(
    "error",
    [
        {"message": "Bad value", "code": "INVALID_VALUE"},
        {"message": "Bad input", "code": "BAD_USER_INPUT"},
        {"message": "invoiceNumber is required", "code": "BAD_REQUEST.VALIDATION"},
        {"message": "Something new", "code": "SOMETHING.UNHEARD_OF", "path": ["suppliers"]},
        # A known validation wording under a code of its own is that code's error.
        {"message": "Cannot query field here", "code": "BAD_REQUEST.VALIDATION"},
    ],
    ids=["invalid-value", "bad-user-input", "batch-input", "unknown-on-a-field", "coded"],
)
def test_it_raises_query_error_for_other_permanent_problems(error):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json={"errors": [error]})

    exc = raised(handler, max_attempts=4)
    assert type(exc) is QueryError
    assert exc.kind == "query"
    assert len(calls) == 1  # never retried


def test_it_retries_an_error_xledger_did_not_explain_as_unavailable():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json={"errors": [{"message": "?", "code": "SOMETHING.NEW"}]})

    exc = raised(handler, max_attempts=3)
    assert isinstance(exc, Unavailable)
    assert isinstance(exc, TransientError)
    assert exc.kind == "unavailable"
    assert len(calls) == exc.attempts == 3


def test_a_schema_mismatch_outranks_a_plain_query_error_and_a_permission():
    exc = classify(
        200,
        [
            {"message": "No", "code": "FORBIDDEN", "path": ["suppliers"]},
            {"message": "Bad value", "code": "INVALID_VALUE"},
            {"message": 'Unknown argument "offset" on field "Query.suppliers".'},
        ],
    )
    assert isinstance(exc, SchemaMismatch)


def test_a_transient_error_outranks_a_schema_mismatch():
    exc = classify(
        200,
        [{"message": 'Cannot query field "x".'}, {"message": "Your query timed out."}],
    )
    assert isinstance(exc, TransientError)


def test_partial_callers_get_a_schema_mismatch_raised_not_returned():
    handler = answer(
        200, [{"message": 'Cannot query field "nope" on type "Query".'}], data={"x": None}
    )
    with make_client(handler) as client, pytest.raises(SchemaMismatch):
        client.execute_partial(QUERY)


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
