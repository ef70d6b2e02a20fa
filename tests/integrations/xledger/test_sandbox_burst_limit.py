from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for, gql

QUERY = "{ currencies(first: 1) { edges { cursor } } }"
BURST = {
    "data": None,
    "errors": [
        {"message": "Burst rate limit reached", "code": "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"}
    ],
}


def test_it_refuses_the_21st_request_within_five_seconds():
    sb = Sandbox(suppliers=1)
    client = client_for(sb)
    answers = [gql(client, QUERY) for _ in range(21)]
    assert all(status == 200 and "errors" not in body for status, body in answers[:20])
    assert answers[20] == (200, BURST)


def test_it_counts_the_window_per_token():
    sb = Sandbox(suppliers=1)
    for _ in range(20):
        gql(client_for(sb, "full"), QUERY)
    assert gql(client_for(sb, "full"), QUERY)[1] == BURST
    assert "errors" not in gql(client_for(sb, "read_only"), QUERY)[1]


def test_it_lets_requests_through_once_the_window_has_passed():
    sb = Sandbox(suppliers=1)
    sb.set_now(sb.clock.now())
    client = client_for(sb)
    for _ in range(20):
        gql(client, QUERY)
    assert gql(client, QUERY)[1] == BURST
    sb.clock.advance(5.01)
    assert "errors" not in gql(client, QUERY)[1]


def test_it_can_be_switched_off():
    sb = Sandbox(suppliers=1, burst_limit=True)
    sb.burst_limit = False
    client = client_for(sb)
    assert all("errors" not in gql(client, QUERY)[1] for _ in range(30))


def test_it_is_off_when_built_without_it():
    sb = Sandbox(suppliers=1, burst_limit=False)
    client = client_for(sb)
    assert all("errors" not in gql(client, QUERY)[1] for _ in range(25))
