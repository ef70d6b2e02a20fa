from datetime import UTC, datetime

import httpx
import pytest

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for, gql

QUERY = "{ currencies(first: 1) { edges { cursor } } }"


@pytest.fixture
def sb():
    return Sandbox(dialect="ours", suppliers=5, burst_limit=False)


def test_it_answers_500_for_the_next_n_requests(sb):
    sb.set_fault("http_500", count=2)
    client = client_for(sb)
    assert [gql(client, QUERY)[0] for _ in range(3)] == [500, 500, 200]


def test_it_answers_500_with_a_seeded_probability():
    def statuses():
        sb = Sandbox(dialect="ours", seed=7, suppliers=1, burst_limit=False)
        sb.set_fault("http_500", probability=0.5)
        client = client_for(sb)
        return [gql(client, QUERY)[0] for _ in range(40)]

    first = statuses()
    assert first == statuses()
    assert 5 < first.count(500) < 35


def test_it_answers_429_with_retry_after(sb):
    sb.set_fault("http_429", count=1, retry_after=7)
    response = client_for(sb).post("/graphql", json={"query": QUERY})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert client_for(sb).post("/graphql", json={"query": QUERY}).status_code == 200


def test_it_answers_slowly(sb, monkeypatch):
    slept = []
    monkeypatch.setattr("integrations.xledger.sandbox.app.time.sleep", slept.append)
    sb.set_fault("slow", count=1, seconds=3)
    assert gql(client_for(sb), QUERY)[0] == 200
    assert slept == [3.0]


def test_it_reports_exhausted_credits_with_reset_at(sb):
    sb.set_now(datetime(2026, 5, 1, 10, 0, tzinfo=UTC))
    sb.set_fault("credits_exhausted", count=1)
    status, body = gql(client_for(sb), QUERY)
    assert status == 200 and body["data"] is None
    (error,) = body["errors"]
    assert error["code"] == "BAD_REQUEST.INSUFFICIENT_CREDITS"
    assert datetime.fromisoformat(error["extensions"]["resetAt"]) == datetime(
        2026, 5, 1, 10, 20, tzinfo=UTC
    )


def test_it_reports_the_concurrency_limit(sb):
    sb.set_fault("concurrency_limit", count=1)
    _, body = gql(client_for(sb), QUERY)
    assert body["errors"][0]["code"] == "BAD_REQUEST.CONCURRENCY_LIMIT_REACHED"
    assert "errors" not in gql(client_for(sb), QUERY)[1]


def test_it_reports_a_query_timeout(sb):
    sb.set_fault("query_timeout", count=1)
    _, body = gql(client_for(sb), QUERY)
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Your query timed out."


def test_it_limits_a_fault_to_one_root_field(sb):
    sb.set_fault("http_500", field="suppliers")
    assert gql(client_for(sb), QUERY)[0] == 200
    assert gql(client_for(sb), "{ suppliers { edges { cursor } } }")[0] == 500


def test_it_clears_faults(sb):
    sb.set_fault("http_500")
    sb.clear_faults()
    assert gql(client_for(sb), QUERY)[0] == 200


def test_it_refuses_an_unknown_fault(sb):
    with pytest.raises(ValueError):
        sb.set_fault("meteor_strike")


def test_it_counts_requests_that_failed(sb):
    sb.set_fault("http_500", count=1)
    client = client_for(sb)
    gql(client, QUERY)
    gql(client, QUERY)
    with httpx.Client(transport=sb.transport()) as anonymous:
        anonymous.post(sb.url, json={"query": QUERY})
    assert sb.request_count == 3
    assert sb.requests_by_token(sb.demo_tokens["full"]) == 2
    assert sb.requests_by_field == {"currencies": 3}
