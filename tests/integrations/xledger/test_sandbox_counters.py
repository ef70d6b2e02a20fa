from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for, gql


def test_it_counts_each_root_field_of_a_request():
    sb = Sandbox(suppliers=1, burst_limit=False)
    gql(
        client_for(sb),
        "{ a: suppliers { edges { cursor } } b: suppliers { edges { cursor } } "
        "currencies { edges { cursor } } }",
    )
    assert sb.request_count == 1
    assert sb.requests_by_field == {"suppliers": 2, "currencies": 1}


def test_it_resets_its_counters():
    sb = Sandbox(suppliers=1, burst_limit=False)
    gql(client_for(sb), "{ currencies { edges { cursor } } }")
    assert sb.request_count == 1 and sb.requests_by_token(sb.demo_tokens["full"]) == 1
    sb.reset_counters()
    assert sb.request_count == 0 and sb.requests_by_field == {}
    assert sb.requests_by_token(sb.demo_tokens["full"]) == 0
