"""verify() against the sandbox's demo tokens."""

import pytest

from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import TransientError
from integrations.xledger.sandbox import Sandbox
from integrations.xledger.verify import verify


@pytest.fixture
def sb():
    return Sandbox(seed=1, suppliers=25, clients=3, burst_limit=True)


def check(sb, token, owner=None, **kwargs):
    with XledgerClient(
        sb.demo_tokens.get(token, token),
        url=sb.url,
        transport=sb.transport(),
        sleep=lambda s: None,
        max_attempts=2,
    ) as client:
        return verify(client, sb.owner_db_id if owner is None else owner, **kwargs)


def failed(result):
    return {c.key: c.fix for c in result.checks if not c.ok}


def test_it_passes_the_full_token_in_two_requests(sb):
    result = check(sb, "full", fixed_assets=True)
    assert result.ok, failed(result)
    assert result.requests == sb.request_count == 2
    assert result.owner["dbId"] == sb.owner_db_id
    assert sorted(e["dbId"] for e in result.entities if not e["is_owner"]) == sorted(
        sb.client_entity_ids
    )
    assert {k["code"] for k in result.object_kinds} == {
        k["code"] for k in sb.records("objectKinds")
    }


def test_it_fails_a_mismatched_owner_naming_the_real_one(sb):
    result = check(sb, "full", owner=99999)
    assert not result.ok
    assert list(failed(result)) == ["owner"]
    assert str(sb.owner_db_id) in failed(result)["owner"]


def test_it_fails_a_token_without_supplier_scope(sb):
    result = check(sb, "no_suppliers")
    assert list(failed(result)) == ["suppliers"]
    assert "read access for Suppliers" in failed(result)["suppliers"]


def test_it_fails_a_read_only_token_on_invoices(sb):
    result = check(sb, "read_only")
    assert list(failed(result)) == ["invoices"]
    assert "write access for GL import items" in failed(result)["invoices"]
    assert sb.imports == []  # the write probe wrote nothing


def test_it_fails_a_token_made_in_a_client_entity(sb):
    result = check(sb, "client")
    assert "token_entity" in failed(result)
    assert str(sb.client_entity_ids[0]) in failed(result)["token_entity"]


def test_it_returns_a_revoked_token_as_a_failed_check(sb):
    result = check(sb, "revoked")
    assert not result.ok
    assert list(failed(result)) == ["token"]
    assert result.requests == 1


def test_it_raises_when_the_sandbox_keeps_failing(sb):
    sb.set_fault("http_500")
    with pytest.raises(TransientError):
        check(sb, "full")
