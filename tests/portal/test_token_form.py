import httpx
import pytest

from integrations.models import ClientEntity, Connection
from integrations.xledger.sandbox.auth import ALL_SCOPES
from portal.models import AuditEntry
from tests.portal.conftest import dimension_keys, token_form

URL = "/xledger/token/"


def _connection(customer):
    return Connection.objects.get(customer=customer)


def _body(response):
    return response.content.decode()


def test_it_renders_a_write_only_token_field(customer_client, sandbox):
    body = _body(customer_client.get(URL))
    assert 'type="password" name="token"' in body
    assert 'autocomplete="new-password"' in body


def test_it_accepts_a_good_token_and_stores_the_checklist(customer_client, customer, sandbox):
    token = sandbox.demo_tokens["full"]
    response = customer_client.post(URL, token_form(sandbox))
    # Back to the token page, where the green checklist and the next step's button are.
    assert response.status_code == 302 and response["Location"] == URL
    connection = _connection(customer)
    assert connection.reveal_token() == token
    assert connection.owner_entity_id == sandbox.owner_db_id
    assert connection.status == Connection.Status.OK and connection.verification["ok"]
    page = _body(customer_client.get(URL))
    assert token not in page
    assert connection.token_fingerprint in page  # shown instead of the token
    entry = AuditEntry.objects.get(action="token_set")
    assert entry.after == {"token_fingerprint": connection.token_fingerprint}
    assert token not in str(list(AuditEntry.objects.values()))


@pytest.mark.parametrize(
    "bad", ["abc def-ghi", "Zx9-Qm_4TtR2pL8vWc3n€b7Ks1Ha5Ge0Ud6J", "a b", "token\twith\ttabs"]
)
def test_it_refuses_a_malformed_token_before_asking_xledger(
    customer_client, customer, sandbox, bad
):
    response = customer_client.post(URL, token_form(sandbox, token=bad, owner_entity_id="424242"))
    assert response.status_code == 400
    body = _body(response)
    assert 'href="#id_token"' in body and "does not look like an Xledger API token" in body
    assert 'value="424242"' in body  # the owner ID is kept
    assert bad not in body  # and the token is never echoed back
    assert sandbox.request_count == 0
    assert not Connection.objects.filter(customer=customer).exists()


def test_it_trims_a_pasted_token(customer_client, customer, sandbox):
    token = sandbox.demo_tokens["full"]
    response = customer_client.post(URL, token_form(sandbox, token=f"  {token}\n"))
    assert response.status_code == 302
    assert _connection(customer).reveal_token() == token


def test_it_explains_an_owner_id_that_does_not_match(customer_client, customer, sandbox):
    response = customer_client.post(URL, token_form(sandbox, owner_entity_id="99999"))
    assert response.status_code == 200
    body = _body(response)
    assert "some checks failed" in body
    assert "This token belongs to Owner ID 10001" in body
    assert 'value="99999"' in body
    connection = _connection(customer)
    assert connection.has_token  # stored, so a re-check needs no retyping
    assert connection.status == Connection.Status.UNVERIFIED
    assert not connection.verification["owner_matches"]
    home = _body(customer_client.get("/"))
    assert "does not belong to the Owner ID" in home


def test_it_lists_a_missing_scope_with_its_fix(customer_client, customer, sandbox):
    response = customer_client.post(URL, token_form(sandbox, "no_suppliers"))
    assert response.status_code == 200
    body = _body(response)
    assert "Failed:</span> The token cannot read suppliers" in body
    assert "tick read access for Suppliers" in body
    assert "Passed:</span> Read currencies" in body


def test_it_rechecks_the_stored_token_without_retyping(customer_client, customer, sandbox):
    token = sandbox.demo_tokens["no_suppliers"]
    customer_client.post(URL, token_form(sandbox, "no_suppliers"))
    sandbox.set_scopes(token, ALL_SCOPES)
    response = customer_client.post(URL, token_form(sandbox, token=""))
    assert response.status_code == 302
    assert _connection(customer).status == Connection.Status.OK


def test_it_requires_a_token_when_none_is_stored(customer_client, sandbox):
    response = customer_client.post(URL, token_form(sandbox, token=""))
    assert response.status_code == 400
    assert 'href="#id_token"' in _body(response)


def test_it_replaces_the_old_token(customer_client, customer, sandbox):
    customer_client.post(URL, token_form(sandbox, "no_suppliers"))
    first = _connection(customer).token_fingerprint
    customer_client.post(URL, token_form(sandbox, "full"))
    connection = _connection(customer)
    assert connection.token_fingerprint != first
    assert connection.reveal_token() == sandbox.demo_tokens["full"]
    assert AuditEntry.objects.filter(action="token_set").count() == 2


def test_it_explains_a_token_made_in_a_client_entity(customer_client, sandbox):
    body = _body(customer_client.post(URL, token_form(sandbox, "client")))
    assert "Failed:</span> The token was not created in the owner entity" in body


def test_it_explains_a_revoked_token(customer_client, sandbox):
    body = _body(customer_client.post(URL, token_form(sandbox, "revoked")))
    assert "Failed:</span> Xledger did not accept the API token" in body
    assert "Xledger did not accept the token</h2>" in body


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("timed out")])
def test_it_keeps_everything_when_xledger_is_unreachable(
    customer_client, customer, sandbox, monkeypatch, failure
):
    def broken(request):
        raise failure

    monkeypatch.setattr(
        "integrations.clients.transport_factory", lambda c: httpx.MockTransport(broken)
    )
    token = sandbox.demo_tokens["full"]
    response = customer_client.post(URL, token_form(sandbox, owner_entity_id="10001"))
    assert response.status_code == 503
    body = _body(response)
    assert "Xledger could not be reached" in body
    assert 'value="10001"' in body and token not in body
    connection = _connection(customer)
    assert connection.reveal_token() == token and connection.owner_entity_id == 10001
    assert connection.status == Connection.Status.UNVERIFIED
    # Xledger is back: one click re-checks the stored token.
    monkeypatch.setattr("integrations.clients.transport_factory", lambda c: sandbox.transport())
    assert customer_client.post(URL, token_form(sandbox, token="")).status_code == 302


def test_it_shows_the_scope_choices_after_a_good_check(customer_client, customer, sandbox):
    customer_client.post(URL, token_form(sandbox))
    page = _body(customer_client.get("/xledger/scope/"))
    assert "Andersen Konsern AS" in page and "Anleggsmidler" in page
    connection = _connection(customer)
    entities = [e["dbId"] for e in connection.verification["entities"]]
    for db_id in entities:  # every entity is ticked in scope to begin with
        assert f'name="entity_{db_id}_in_scope" id="id_entity_{db_id}_in_scope" checked' in page
        assert f'<label for="id_entity_{db_id}_fixed_assets">' in page
    data = {
        f"entity_{entities[0]}_in_scope": "on",
        f"entity_{entities[1]}_in_scope": "on",
        f"entity_{entities[1]}_fixed_assets": "on",
        "dimensions": dimension_keys(connection.verification, "Avdeling", "Anleggsmidler"),
    }
    response = customer_client.post("/xledger/scope/", data)
    assert response.status_code == 302
    rows = {e.db_id: e for e in ClientEntity.objects.filter(connection=connection)}
    assert set(rows) == set(entities)
    assert rows[entities[0]].in_scope and rows[entities[0]].is_owner
    assert rows[entities[1]].fixed_assets and not rows[entities[0]].fixed_assets
    assert not rows[entities[2]].in_scope
    connection.refresh_from_db()
    assert connection.selected_dimensions == dimension_keys(
        connection.verification, "Avdeling", "Anleggsmidler"
    )


def test_the_scope_needs_at_least_one_entity(customer_client, customer, sandbox):
    customer_client.post(URL, token_form(sandbox))
    dimensions = dimension_keys(_connection(customer).verification, "Avdeling")
    response = customer_client.post("/xledger/scope/", {"dimensions": dimensions})
    assert response.status_code == 400
    assert "Choose at least one entity" in _body(response)


def test_the_scope_waits_for_a_good_check(customer_client, sandbox):
    response = customer_client.get("/xledger/scope/")
    assert response.status_code == 302 and response["Location"] == URL


def test_the_instructions_name_every_scope(customer_client):
    body = _body(customer_client.get("/xledger/instructions/"))
    for text in (
        "Administration → Access Control → GraphQL → API tokens",
        "Suppliers",
        "GL import items",
        "Administration → Entity",
        "service user",
        "https://demo.xledger.net",
    ):
        assert text in body, text


def test_it_says_when_xledger_refuses_our_own_query(
    customer_client, customer, sandbox, monkeypatch
):
    from integrations.xledger.errors import QueryError

    def refuse(*args, **kwargs):
        raise QueryError("Cannot query field 'me'")

    monkeypatch.setattr("portal.services.verify", refuse)
    response = customer_client.post(URL, token_form(sandbox))
    assert response.status_code == 502
    assert "SEMINE support has been alerted" in _body(response)
    assert _connection(customer).has_token


def test_the_customer_confirms_or_names_the_transaction_source(customer_client, customer, sandbox):
    customer_client.post(URL, token_form(sandbox))
    page = _body(customer_client.get("/xledger/scope/"))
    assert 'name="transaction_source_code"' in page and 'value="SEMINE"' in page  # the default
    entities = [e["dbId"] for e in _connection(customer).verification["entities"]]
    data = {f"entity_{entities[0]}_in_scope": "on", "transaction_source_code": "LEV"}

    assert customer_client.post("/xledger/scope/", data).status_code == 302

    connection = _connection(customer)
    assert connection.transaction_source_code == "LEV"
    entry = AuditEntry.objects.filter(action="scope_save").latest("id")
    assert entry.before["transaction_source"] == "SEMINE"
    assert entry.after["transaction_source"] == "LEV"


def test_a_transaction_source_that_is_not_a_code_is_refused_and_kept(
    customer_client, customer, sandbox
):
    customer_client.post(URL, token_form(sandbox))
    entities = [e["dbId"] for e in _connection(customer).verification["entities"]]
    data = {f"entity_{entities[0]}_in_scope": "on", "transaction_source_code": "LEV; DROP"}

    response = customer_client.post("/xledger/scope/", data)

    assert response.status_code == 400
    body = _body(response)
    assert "transaction source&#x27;s code only" in body and 'value="LEV; DROP"' in body
    assert _connection(customer).transaction_source_code == "SEMINE"


@pytest.mark.parametrize("owner_id", ["9223372036854775808", "1" + "0" * 40, "0"])
def test_it_refuses_an_owner_id_out_of_range_and_keeps_what_was_typed(
    customer_client, customer, sandbox, owner_id
):
    response = customer_client.post(URL, token_form(sandbox, owner_entity_id=owner_id))
    assert response.status_code == 400
    body = _body(response)
    assert 'href="#id_owner_entity_id"' in body
    assert "between 1 and 9223372036854775807" in body
    assert f'value="{owner_id}"' in body
    assert sandbox.request_count == 0
    assert not Connection.objects.filter(customer=customer).exists()
