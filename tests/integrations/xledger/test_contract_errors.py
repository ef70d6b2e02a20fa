"""Each failure the sandbox can produce reaches the caller as the right error, retried or not."""

from datetime import UTC, datetime, timedelta

import pytest

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import (
    AuthenticationError,
    CreditsExhausted,
    PermissionDenied,
    QueryError,
    RateLimited,
    TransientError,
)
from integrations.xledger.sandbox import Sandbox


@pytest.fixture
def sb():
    return Sandbox(seed=1, suppliers=25, clients=3, burst_limit=False)


@pytest.fixture
def sleeps():
    return []


def connect(sb, token="full", **kwargs):
    kwargs.setdefault("max_attempts", 3)
    kwargs.setdefault("sleep", lambda s: None)
    return XledgerClient(
        sb.demo_tokens.get(token, token), url=sb.url, transport=sb.transport(), **kwargs
    )


def read_suppliers(client, **kwargs):
    return [n for p in client.paginate(queries.SUPPLIERS, **kwargs) for n in p.nodes]


@pytest.mark.parametrize("fault", ["http_500", "concurrency_limit", "query_timeout"])
def test_it_retries_transient_faults_then_succeeds(sb, sleeps, fault):
    sb.set_fault(fault, count=2)
    client = connect(sb, sleep=sleeps.append)
    data = client.execute(queries.CURRENCIES, {"first": 5, "ownerSet": "ALL"})
    assert len(data["currencies"]["edges"]) == 5
    assert client.request_count == sb.request_count == 3
    assert len(sleeps) == 2


def test_it_honours_the_sandbox_retry_after(sb, sleeps):
    sb.set_fault("http_429", count=1, retry_after=3)
    client = connect(sb, sleep=sleeps.append)
    client.execute(queries.CURRENCIES, {"first": 1})
    assert len(sleeps) == 1
    assert sleeps[0] >= 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [("http_500", TransientError), ("http_429", RateLimited), ("concurrency_limit", RateLimited)],
)
def test_it_gives_up_after_max_attempts_and_reports(sb, fault, error):
    sb.set_fault(fault)
    client = connect(sb, max_attempts=3)
    with pytest.raises(error) as info:
        client.execute(queries.CURRENCIES, {"first": 1})
    assert info.value.attempts == 3
    assert sb.request_count == client.request_count == 3


def test_it_hands_back_exhausted_credits_without_waiting_twenty_minutes(sb, sleeps):
    sb.set_fault("credits_exhausted")
    client = connect(sb, sleep=sleeps.append)
    with pytest.raises(CreditsExhausted) as info:
        client.execute(queries.CURRENCIES, {"first": 1})
    assert sleeps == []
    assert sb.request_count == 1
    expected = datetime.now(UTC) + timedelta(minutes=20)
    assert abs((info.value.reset_at - expected).total_seconds()) < 60


def test_it_waits_out_the_burst_limit(sb, sleeps):
    sb.burst_limit = True
    sb.burst_max_requests = 2
    client = connect(sb, sleep=sleeps.append, max_wait=0)
    client.execute(queries.CURRENCIES, {"first": 1})
    client.execute(queries.CURRENCIES, {"first": 1})
    with pytest.raises(RateLimited) as info:
        client.execute(queries.CURRENCIES, {"first": 1})
    assert info.value.code == "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"
    assert info.value.wait_seconds >= 5


def test_it_retries_the_burst_limit_after_five_seconds(sb, sleeps):
    sb.burst_limit = True
    sb.burst_max_requests = 1
    sb.set_now(datetime.now(UTC))

    def sleep(seconds):  # the sandbox's clock moves instead of the test sleeping
        sleeps.append(seconds)
        sb.clock.advance(seconds)

    client = connect(sb, sleep=sleep)
    client.execute(queries.CURRENCIES, {"first": 1})
    client.execute(queries.CURRENCIES, {"first": 1})
    assert len(sleeps) == 1
    assert sleeps[0] >= 5


def test_it_shrinks_pages_when_the_sandbox_says_the_query_timed_out(sb):
    sb.set_fault("query_timeout", count=1)
    client = connect(sb)
    assert len(read_suppliers(client, first=1000)) == 25
    assert client.request_count == 2


def test_it_reports_a_revoked_token(sb):
    client = connect(sb, "revoked")
    with pytest.raises(AuthenticationError) as info:
        client.execute(queries.CURRENCIES, {"first": 1})
    assert info.value.status == 401
    assert client.request_count == 1


def test_it_reports_a_token_revoked_between_requests(sb):
    client = connect(sb)
    client.execute(queries.CURRENCIES, {"first": 1})
    sb.revoke_token(sb.demo_tokens["full"])
    with pytest.raises(AuthenticationError):
        read_suppliers(client)


def test_it_reports_a_missing_scope_naming_the_data_type(sb):
    client = connect(sb, "no_suppliers")
    with pytest.raises(PermissionDenied) as info:
        read_suppliers(client)
    assert info.value.data_type == "suppliers"
    assert client.request_count == 1
    assert client.execute(queries.CURRENCIES, {"first": 1})["currencies"]["edges"]


def test_it_reports_a_query_the_schema_does_not_know(sb):
    client = connect(sb)
    with pytest.raises(QueryError) as info:
        client.execute("query { suppliers(first: 1) { edges { node { nope } } } }")
    assert "nope" in info.value.message
    assert client.request_count == 1


def test_it_refuses_pages_over_ten_thousand_before_asking(sb):
    client = connect(sb)
    with pytest.raises(ValueError):
        read_suppliers(client, first=10_001)
    assert sb.request_count == 0


def test_it_reports_a_mutation_dropped_after_storing_as_in_doubt(sb):
    sb.set_fault("drop_after_store", count=1)
    client = connect(sb)
    item = {
        "clientId": "1",
        "node": {"invoiceNumber": "F-1", "extIdentifier": "semine-1", "amount": "10.00"},
    }
    with pytest.raises(TransientError) as info:
        client.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": [item]}, mutation=True)
    assert info.value.in_doubt
    assert sb.request_count == 1  # not resent
    found = client.execute(
        queries.GL_IMPORT_ITEMS_BY_EXT_IDENTIFIER, {"first": 10, "extIdentifiers": ["semine-1"]}
    )
    assert len(found["glImportItems"]["edges"]) == len(sb.imports) == 1


def test_it_resends_a_mutation_refused_before_processing(sb):
    sb.set_fault("concurrency_limit", count=1)
    client = connect(sb)
    item = {"clientId": "1", "node": {"invoiceNumber": "F-2", "extIdentifier": "semine-2"}}
    data, errors = client.execute_partial(
        queries.ADD_GL_IMPORT_ITEMS, {"inputs": [item]}, mutation=True
    )
    assert client.request_count == 2
    assert len(data["addGLImportItems"]["edges"]) + len(errors) == 1
