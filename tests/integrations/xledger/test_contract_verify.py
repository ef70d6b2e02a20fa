"""verify() against the sandbox's demo tokens.

These run under whichever reading of the contract `XLEDGER_SANDBOX_DIALECT` names; a test about
one reading builds its Sandbox with an explicit `dialect=`.
"""

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


def checks(result):
    return {c.key: c for c in result.checks}


def test_it_passes_the_full_token_in_two_requests(sb):
    result = check(sb, "full", fixed_assets=True)
    assert result.ok, failed(result)
    assert result.requests == sb.request_count == 2
    assert result.owner["dbId"] == sb.owner_db_id
    assert result.owner_matches
    assert sorted(e["dbId"] for e in result.entities if not e["is_owner"]) == sorted(
        sb.client_entity_ids
    )
    # An object kind's key is its dbId as text (no kind `code` is asked for).
    assert sorted(k["dbId"] for k in result.object_kinds) == sorted(
        k["dbId"] for k in sb.records("objectKinds")
    )
    assert all(k["code"] == str(k["dbId"]) for k in result.object_kinds)
    assert {k["name"] for k in result.object_kinds} == {
        k["name"] for k in sb.records("objectKinds")
    }


@pytest.mark.parametrize("dialect", ["ours", "xledger"])
def test_it_stores_db_ids_as_integers_however_they_are_answered(dialect):
    # "xledger" answers every dbId as a string of digits (Int64String).
    sb = Sandbox(seed=1, suppliers=5, clients=3, burst_limit=False, dialect=dialect)
    result = check(sb, "full")
    assert checks(result)["owner"].ok
    assert checks(result)["token_entity"].ok
    assert all(type(e["dbId"]) is int for e in result.entities)
    assert [e["is_owner"] for e in result.entities].count(True) == 1
    assert all(type(k["dbId"]) is int for k in result.object_kinds)


def test_it_fails_a_mismatched_owner_naming_the_real_one(sb):
    result = check(sb, "full", owner=99999)
    assert not result.ok
    assert list(failed(result)) == ["owner"]
    assert str(sb.owner_db_id) in failed(result)["owner"]


def test_it_fails_a_token_without_supplier_scope(sb):
    result = check(sb, "no_suppliers")
    assert list(failed(result)) == ["suppliers"]
    assert "read access for Suppliers" in failed(result)["suppliers"]


@pytest.mark.parametrize("missing_scope", ["partial", "null"])
def test_it_names_the_missing_scope_whether_or_not_the_other_fields_are_answered(missing_scope):
    sb = Sandbox(
        seed=1,
        suppliers=5,
        clients=3,
        burst_limit=False,
        dialect=f"ours,missing_scope={missing_scope}",
    )
    result = check(sb, "no_suppliers")
    assert list(failed(result)) == ["suppliers"]
    assert checks(result)["suppliers"].params["problem"] == "scope"
    assert result.owner_matches
    if missing_scope == "null":  # `data: null` for the combined probe: asked one by one
        assert result.requests > 2
    else:
        assert result.requests == 2


def test_it_fails_a_read_only_token_on_invoices_when_xledger_says_so():
    # A server that checks the write scope before refusing an empty batch as invalid.
    sb = Sandbox(seed=1, suppliers=5, clients=3, burst_limit=False, dialect="ours,empty_batch=ok")
    result = check(sb, "read_only")
    assert list(failed(result)) == ["invoices"]
    assert "write access for GL import items" in failed(result)["invoices"]
    assert sb.imports == []  # the write probe wrote nothing


@pytest.mark.parametrize("token", ["full", "read_only"])
def test_it_calls_the_write_scope_unknown_when_the_empty_batch_is_refused_as_invalid(token):
    # A server that refuses an empty batch before any permission check: whether the token may
    # write cannot be known without writing, so the check passes with a note, never blocks.
    sb = Sandbox(
        seed=1, suppliers=5, clients=3, burst_limit=False, dialect="ours,empty_batch=invalid"
    )
    result = check(sb, token)
    invoices = checks(result)["invoices"]
    assert invoices.ok
    assert invoices.params["problem"] == "write_unknown"
    assert "first invoice confirms it" in invoices.fix
    assert result.ok
    assert sb.imports == []


def test_it_fails_a_token_made_in_a_client_entity(sb):
    result = check(sb, "client")
    assert "token_entity" in failed(result)
    assert str(sb.client_entity_ids[0]) in failed(result)["token_entity"]


def test_it_returns_a_revoked_token_as_a_failed_check(sb):
    result = check(sb, "revoked")
    assert not result.ok
    assert list(failed(result)) == ["token"]
    assert result.requests == 1


def test_it_returns_a_token_revoked_with_http_200_as_a_failed_check():
    sb = Sandbox(seed=1, suppliers=5, clients=1, burst_limit=False, dialect="ours,revoked=http200")
    result = check(sb, "revoked")
    assert [(c.key, c.ok) for c in result.checks] == [("token", False)]
    assert "The API token is not valid" in result.checks[0].fix
    assert result.requests == 1


def test_it_raises_when_xledger_keeps_failing(sb):
    sb.set_fault("http_500")
    with pytest.raises(TransientError):
        check(sb, "full")


def test_it_finds_the_default_posting_accounts_in_the_chart(sb):
    result = check(sb, "full", posting_accounts=("2400", "1500"))

    assert result.ok, failed(result)
    assert checks(result)["posting_accounts"].ok
    assert result.requests == 2  # the chart's codes come with the read probe


def test_it_names_a_posting_account_the_chart_does_not_have(sb):
    result = check(sb, "full", posting_accounts=("2499", "1500", "2499"))

    assert not result.ok
    posting = checks(result)["posting_accounts"]
    assert not posting.ok and posting.params["accounts"] == "2499"
    assert "2499" in posting.fix and "client information" in posting.fix


def test_it_leaves_posting_accounts_to_the_first_sync_when_the_chart_is_longer_than_a_page(sb):
    for n in range(10_001):
        sb.add_record("accounts", code=f"9{n:05}", description=f"Konto {n}")

    result = check(sb, "full", posting_accounts=("2499",))

    assert checks(result)["posting_accounts"].ok  # not on the first page: not known yet


def test_it_checks_no_posting_account_the_customer_has_not_given(sb):
    result = check(sb, "full", posting_accounts=("", ""))
    assert "posting_accounts" not in checks(result)
