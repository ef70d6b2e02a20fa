"""Each failure the sandbox can produce reaches the caller as the right error, retried or not.

These run under whichever reading of the contract `XLEDGER_SANDBOX_DIALECT` names; a test about
one reading builds its Sandbox with an explicit `dialect=`.
"""

from datetime import UTC, datetime, timedelta

import pytest

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import (
    AuthenticationError,
    CreditsExhausted,
    PermissionDenied,
    RateLimited,
    SchemaMismatch,
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


CURRENCIES_5 = queries.CURRENCIES.document(first=5)
CURRENCIES_1 = queries.CURRENCIES.document(first=1)


@pytest.mark.parametrize("fault", ["http_500", "concurrency_limit", "query_timeout"])
def test_it_retries_transient_faults_then_succeeds(sb, sleeps, fault):
    sb.set_fault(fault, count=2)
    client = connect(sb, sleep=sleeps.append)
    data = client.execute(CURRENCIES_5)
    assert len(data["currencies"]["edges"]) == 5
    assert client.request_count == sb.request_count == 3
    assert len(sleeps) == 2


def test_it_honours_the_servers_retry_after(sb, sleeps):
    sb.set_fault("http_429", count=1, retry_after=3)
    client = connect(sb, sleep=sleeps.append)
    client.execute(CURRENCIES_1)
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
        client.execute(CURRENCIES_1)
    assert info.value.attempts == 3
    assert sb.request_count == client.request_count == 3


def test_it_hands_back_exhausted_credits_without_waiting_twenty_minutes(sb, sleeps):
    sb.set_fault("credits_exhausted")
    client = connect(sb, sleep=sleeps.append)
    with pytest.raises(CreditsExhausted) as info:
        client.execute(CURRENCIES_1)
    assert sleeps == []
    assert sb.request_count == 1
    expected = datetime.now(UTC) + timedelta(minutes=20)
    assert abs((info.value.reset_at - expected).total_seconds()) < 60


@pytest.mark.parametrize("dialect", ["ours,reset_at=utc", "ours,reset_at=cet_naive"])
def test_it_reads_reset_at_with_or_without_an_offset_as_the_same_moment(dialect):
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # summer: CEST is UTC+2
    sb = Sandbox(seed=1, suppliers=5, clients=1, burst_limit=False, now=now, dialect=dialect)
    sb.set_fault("credits_exhausted")
    with pytest.raises(CreditsExhausted) as info:
        connect(sb).execute(CURRENCIES_1)
    assert info.value.reset_at == now + timedelta(minutes=20)


def test_it_waits_out_the_burst_limit(sb, sleeps):
    sb.burst_limit = True
    sb.burst_max_requests = 2
    client = connect(sb, sleep=sleeps.append, max_wait=0)
    client.execute(CURRENCIES_1)
    client.execute(CURRENCIES_1)
    with pytest.raises(RateLimited) as info:
        client.execute(CURRENCIES_1)
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
    client.execute(CURRENCIES_1)
    client.execute(CURRENCIES_1)
    assert len(sleeps) == 1
    assert sleeps[0] >= 5


def test_it_shrinks_pages_when_xledger_says_the_query_timed_out(sb):
    sb.set_fault("query_timeout", count=1)
    client = connect(sb)
    assert len(read_suppliers(client, first=1000)) == 25
    assert client.request_count == 2


def test_it_reports_a_revoked_token(sb):
    client = connect(sb, "revoked")
    with pytest.raises(AuthenticationError) as info:
        client.execute(CURRENCIES_1)
    assert info.value.kind == "auth"
    assert client.request_count == sb.request_count == 1


@pytest.mark.parametrize(("revoked", "status"), [("http401", 401), ("http200", 200)])
def test_it_reports_a_revoked_token_however_it_is_answered(revoked, status):
    sb = Sandbox(
        seed=1, suppliers=5, clients=1, burst_limit=False, dialect=f"ours,revoked={revoked}"
    )
    client = connect(sb, "revoked", max_attempts=4)
    with pytest.raises(AuthenticationError) as info:
        read_suppliers(client)
    assert info.value.status == status
    assert client.request_count == 1  # never retried


def test_it_reports_a_token_revoked_between_requests(sb):
    client = connect(sb)
    client.execute(CURRENCIES_1)
    sb.revoke_token(sb.demo_tokens["full"])
    with pytest.raises(AuthenticationError):
        read_suppliers(client)


def test_it_reports_a_missing_scope_naming_the_data_type(sb):
    client = connect(sb, "no_suppliers")
    with pytest.raises(PermissionDenied) as info:
        read_suppliers(client)
    assert info.value.data_type == "suppliers"
    assert client.request_count == 1
    assert client.execute(CURRENCIES_1)["currencies"]["edges"]


def test_it_reports_a_query_the_schema_does_not_know_as_a_schema_mismatch(sb):
    client = connect(sb, max_attempts=4)
    with pytest.raises(SchemaMismatch) as info:
        client.execute("query { suppliers(first: 1) { edges { node { nope } } } }")
    assert info.value.kind == "schema"
    assert "nope" in info.value.message
    assert client.request_count == sb.request_count == 1


@pytest.mark.parametrize("dialect", ["ours", "xledger"])
def test_a_guessed_type_name_breaks_a_variable_but_not_a_literal(dialect):
    # Why every value is a literal: the scalar's name differs between readings of the contract.
    sb = Sandbox(seed=1, suppliers=5, clients=1, burst_limit=False, dialect=dialect)
    client = connect(sb, max_attempts=4)
    since = "2000-01-01T00:00:00"
    for scalar in ("DateTime", "DateTimeString"):
        document = (
            f"query q($since: {scalar}) {{ suppliers(first: 1, filter: {{modifiedAt_gte: $since}})"
            " { edges { node { dbId } } } }"
        )
        guessed_right = scalar == sb.dialect.datetime_scalar
        if guessed_right:
            assert client.execute(document, {"since": since})["suppliers"]["edges"]
        else:
            with pytest.raises(SchemaMismatch):
                client.execute(document, {"since": since})
    literal = queries.SUPPLIERS.where(modifiedAt_gte=since).document(first=1)
    assert client.execute(literal)["suppliers"]["edges"]
    assert client.request_count == 3  # the refused one was never retried


def test_it_refuses_pages_over_ten_thousand_before_asking(sb):
    client = connect(sb)
    with pytest.raises(ValueError):
        read_suppliers(client, first=10_001)
    assert sb.request_count == 0


def test_it_reports_a_mutation_dropped_after_storing_as_in_doubt(sb):
    sb.set_fault("drop_after_store", count=1)
    client = connect(sb)
    item = import_item("1", "F-1", "semine-1")
    with pytest.raises(TransientError) as info:
        client.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": [item]}, mutation=True)
    assert info.value.in_doubt
    assert sb.request_count == 1  # not resent
    lookup = queries.gl_import_items_by_ext_identifier(["semine-1"])
    found = [n for page in client.paginate(lookup, first=10) for n in page.nodes]
    assert [n["extIdentifier"] for n in found] == ["semine-1"]
    assert len(sb.imports) == 1


def test_it_resends_a_mutation_refused_before_processing(sb):
    sb.set_fault("concurrency_limit", count=1)
    client = connect(sb)
    item = import_item("1", "F-2", "semine-2")
    data, errors = client.execute_partial(
        queries.ADD_GL_IMPORT_ITEMS, {"inputs": [item]}, mutation=True
    )
    assert client.request_count == 2
    assert errors == []
    assert [e["clientId"] for e in data["addGLImportItems"]["edges"]] == ["1"]
    assert len(sb.imports) == 1


def import_item(client_id, number, ext):
    """An import item every reading of the contract accepts (a known transaction source)."""
    node = {"invoiceNumber": number, "extIdentifier": ext, "amount": "10.00"}
    node["transactionSource"] = {"code": "SEMINE"}
    return {"clientId": client_id, "node": node}
