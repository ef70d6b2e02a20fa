"""Issue 12, the token and scope steps: a client entity's ID typed as the owner ID, Xledger's
English kept out of translated sentences, failed rows that read as failed, the green checklist
before the scope, system object kinds left out of the dimensions, the fixed-assets dimension
found by its number, and the chosen dimensions on the project manager's customer page."""

import re

import pytest
from django.test import Client
from django.utils import translation

from integrations.models import Connection
from integrations.xledger import checklist
from tests.portal.conftest import client_information, complete_setup, token_form

URL = "/xledger/token/"


def _body(response):
    return response.content.decode()


def _connection(customer):
    return Connection.objects.get(customer=customer)


def _check(connection, key):
    return next(c for c in connection.verification["checks"] if c["key"] == key)


@pytest.mark.parametrize("token_name", ["full", "client"])
def test_it_says_a_client_entity_id_is_not_the_owner_id(
    customer_client, customer, sandbox, token_name
):
    client_id = sandbox.owner_client_ids[sandbox.owner_db_id][0]
    customer_client.post(
        URL, token_form(sandbox, token_name=token_name, owner_entity_id=str(client_id))
    )
    owner = _check(_connection(customer), "owner")
    assert not owner["ok"] and owner["params"]["problem"] == "client_entity_id"
    body = _body(customer_client.get(URL))
    assert f"{client_id} (" in body and "is a client entity, not the owner entity" in body
    assert f"the owner entity&#x27;s: {sandbox.owner_db_id} (" in body
    assert f"create the token in the owner entity {client_id}" not in body
    assert f"The token does not belong to owner ID {client_id}" in body


def test_a_wrong_owner_id_that_is_no_client_entity_keeps_the_old_advice(
    customer_client, customer, sandbox
):
    customer_client.post(URL, token_form(sandbox, owner_entity_id="555"))
    owner = _check(_connection(customer), "owner")
    assert owner["params"]["problem"] == "mismatch"
    assert "Failed:</span> The token does not belong to owner ID 555" in _body(
        customer_client.get(URL)
    )


def test_failed_rows_say_what_is_not_so(customer_client, sandbox):
    body = _body(customer_client.post(URL, token_form(sandbox, token_name="no_suppliers")))
    assert "Failed:</span> The token cannot read suppliers" in body
    assert "Failed:</span> Read suppliers" not in body
    assert "Passed:</span> Read currencies" in body


def test_a_rejected_token_gets_its_own_heading_and_xledger_words_apart(customer_client, sandbox):
    bad = "x" * 36
    body = _body(customer_client.post(URL, token_form(sandbox, token=bad)))
    assert "Xledger did not accept the token</h2>" in body
    assert "some checks failed" not in body
    assert "Xledger said:" in body and '<span lang="en">' in body


def test_a_rejected_token_fix_keeps_xledger_english_out_of_the_norwegian_sentence():
    check = {
        "key": "token",
        "ok": False,
        "params": {"problem": "rejected", "message": "Invalid API token"},
    }
    with translation.override("nb"):
        label, fix = checklist.describe(check)
    assert "Invalid API token" not in fix and "Invalid API token" not in label
    assert checklist.detail(check) == "Invalid API token"
    refused = {
        "key": "suppliers",
        "ok": False,
        "params": {"problem": "refused", "scopes": "Suppliers", "message": "Field is unknown"},
    }
    with translation.override("nb"):
        assert "Field is unknown" not in checklist.describe(refused)[1]
    assert checklist.detail(refused) == "Field is unknown"
    # Staff screens keep Xledger's words, after the English fix.
    assert checklist.english("token", False, check["params"])[1].endswith(
        "Xledger said: Invalid API token"
    )


def test_the_page_names_the_button_it_shows(customer_client, customer, sandbox):
    customer_client.post(URL, token_form(sandbox, token_name="no_suppliers"))
    body = _body(customer_client.post(URL, token_form(sandbox, token="")))
    assert "Save and check again</button>" in body
    assert "“Check again”" not in body and "“Save and check again”" in body


def test_a_good_token_shows_the_green_checklist_and_the_next_step(
    customer_client, customer, sandbox
):
    response = customer_client.post(URL, token_form(sandbox))
    assert response.status_code == 302 and response["Location"] == URL
    body = _body(customer_client.get(URL))
    assert "Failed:</span>" not in body and "Passed:</span> The API token is accepted" in body
    scope_url = f"/xledger/connections/{_connection(customer).pk}/scope/"
    assert f'id="next-scope" href="{scope_url}">Next: choose entities and dimensions' in body


def test_the_instructions_name_no_environment_before_one_is_chosen(customer_client):
    body = _body(customer_client.get("/xledger/instructions/"))
    assert "Your integration uses" not in body
    assert "the environment you will choose" in body


def test_the_instructions_name_the_chosen_environment(customer_client, sandbox):
    customer_client.post(URL, token_form(sandbox, environment="demo"))
    body = _body(customer_client.get("/xledger/instructions/"))
    assert "Your integration uses Xledger's <strong>demo</strong> environment." in body


def test_the_instructions_pass_no_raw_environment_value_into_a_sentence():
    from pathlib import Path

    template = Path("templates/portal/token_instructions.html").read_text()
    assert "{{ env }}" not in template


def test_the_scope_page_offers_no_tax_rule_kind(customer_client, customer, sandbox):
    customer_client.post("/client-information/", client_information())
    customer_client.post(URL, token_form(sandbox))
    kinds = {k["name"]: k["code"] for k in _connection(customer).verification["object_kinds"]}
    body = _body(customer_client.get("/xledger/scope/"))
    assert f'value="{kinds["Avdeling"]}"' in body
    assert f'value="{kinds["Mva-kode"]}"' not in body and "Mva-kode" not in body


def test_the_fixed_assets_dimension_is_ticked_by_the_number_xledger_shows(
    customer_client, customer, sandbox
):
    # The display name typed differs from Xledger's ("Anleggsmidler"): the number 35 finds it.
    info = client_information(
        fixed_assets_apply="on",
        fixed_assets_as_dimension="on",
        fixed_assets_dimension_code="35",
        fixed_assets_dimension_name="Eiendeler",
    )
    assert customer_client.post("/client-information/", info).status_code == 302
    customer_client.post(URL, token_form(sandbox))
    kinds = {k["name"]: k for k in _connection(customer).verification["object_kinds"]}
    assets = kinds["Anleggsmidler"]
    if not sandbox.dialect.object_kind_code:  # a schema without kinds' codes: nothing to go by
        assert "number" not in assets
        return
    assert assets["number"] == "35" and assets["code"] != "35"
    body = _body(customer_client.get("/xledger/scope/"))
    ticked = {
        value
        for tag in re.findall(r'<input[^>]*name="dimensions"[^>]*>', body)
        if " checked" in tag
        for value in re.findall(r'value="([^"]*)"', tag)
    }
    assert ticked == {assets["code"]}


def test_the_number_is_matched_against_a_kind_s_db_id():
    from integrations.xledger import object_kinds

    kind = {"dbId": 35, "code": "35", "name": "Anleggsmidler"}
    assert object_kinds.matches(kind, number=" 035 ")
    assert not object_kinds.matches(kind, number="36")
    assert not object_kinds.is_financial_dimension({"dbId": 14, "code": "14", "name": "X"})
    assert not object_kinds.is_financial_dimension({"dbId": 9, "code": "9", "name": "TAX_RULE"})


def test_the_customer_admin_page_shows_the_chosen_dimensions(
    customer_client, customer, sandbox, pm_user
):
    complete_setup(customer_client, sandbox)
    staff = Client()
    staff.force_login(pm_user)
    body = _body(staff.get(f"/admin/portal/customer/{customer.pk}/change/"))
    assert "Dimensions chosen:" in body
    assert "Avdeling" in body and "Prosjekt" in body
    assert "Transaction source:" in body


def test_a_schema_without_kind_codes_costs_one_refused_request_and_nothing_else():
    from integrations.xledger.client import XledgerClient
    from integrations.xledger.sandbox import Sandbox
    from integrations.xledger.verify import verify

    sb = Sandbox(seed=1, suppliers=5, clients=2, dialect="xledger", burst_limit=False)
    with XledgerClient(
        sb.demo_tokens["full"], url=sb.url, transport=sb.transport(), sleep=lambda s: None
    ) as client:
        result = verify(client, sb.owner_db_id, dimension_number="35")
    assert result.ok and result.requests == 3
    assert not any("number" in kind for kind in result.object_kinds)
