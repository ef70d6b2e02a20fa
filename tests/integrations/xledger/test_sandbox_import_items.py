from decimal import Decimal

import pytest

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for, gql

MUTATION = """
mutation($inputs: [AddGLImportItemsInput!]!) {
  addGLImportItems(inputs: $inputs) { edges { clientId node { dbId } } }
}
"""


@pytest.fixture
def sb():
    return Sandbox(dialect="ours", seed=2, suppliers=20, burst_limit=False)


def _supplier_code(sb, owner):
    return next(s["code"] for s in sb.records("suppliers") if s["ownerDbId"] == owner)


def item(sb, client_id="1", entity=None, **node):
    owner = entity or sb.owner_db_id
    base = {
        "transactionSource": {"code": "AP"},
        "postedDate": "2026-02-01",
        "invoiceDate": "2026-01-30",
        "dueDate": "2026-03-01",
        "invoiceNumber": "INV-100",
        "text": "Rørleggerarbeid",
        "amount": "-1250.00",
        "invoiceAmount": "1250.00",
        "taxAmount": "250.00",
        "currency": {"code": "NOK"},
        "account": {"code": "2400"},
        "taxRule": {"code": "1"},
        "subledger": {"code": _supplier_code(sb, owner)},
        "glObject1": {"code": "10"},
        "owner": {"dbId": owner},
        "extIdentifier": "semine-42",
    }
    base.update(node)
    return {"clientId": client_id, "node": base}


def test_it_stores_valid_items_and_answers_their_db_ids(sb):
    status, body = gql(client_for(sb), MUTATION, {"inputs": [item(sb, "a"), item(sb, "b")]})
    assert status == 200 and "errors" not in body
    edges = body["data"]["addGLImportItems"]["edges"]
    assert [e["clientId"] for e in edges] == ["a", "b"]
    stored = sb.imports
    assert [i["dbId"] for i in stored] == [e["node"]["dbId"] for e in edges]
    assert stored[0]["amount"] == Decimal("-1250.00")
    assert stored[0]["subledger"] == {"code": item(sb)["node"]["subledger"]["code"]}
    assert stored[0]["ownerDbId"] == sb.owner_db_id


def test_it_stores_the_good_inputs_and_names_the_bad_ones(sb):
    inputs = [
        item(sb, "ok-1"),
        item(sb, "bad-account", account={"code": "9999"}),
        item(sb, "ok-2"),
        item(sb, "bad-amount", amount="12,50"),
    ]
    status, body = gql(client_for(sb), MUTATION, {"inputs": inputs})
    assert status == 200
    assert [e["clientId"] for e in body["data"]["addGLImportItems"]["edges"]] == ["ok-1", "ok-2"]
    errors = body["errors"]
    assert [e["extensions"]["clientId"] for e in errors] == ["bad-account", "bad-amount"]
    assert all(e["code"] == "BAD_REQUEST.VALIDATION" for e in errors)
    assert all(e["path"] == ["addGLImportItems"] for e in errors)
    assert "account" in errors[0]["message"] and "9999" in errors[0]["message"]
    assert len(sb.imports) == 2


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"currency": {"code": "XXX"}}, "currency"),
        ({"subledger": {"code": "nobody"}}, "supplier"),
        ({"taxRule": {"code": "77"}}, "taxRule"),
        ({"invoiceNumber": None}, "invoiceNumber is required"),
        ({"extIdentifier": ""}, "extIdentifier is required"),
        ({"postedDate": "01.02.2026"}, "postedDate"),
        ({"amount": "abc"}, "amount"),
        ({"owner": {"dbId": 99999}}, "owner"),
    ],
)
def test_it_rejects_an_invalid_input(sb, change, words):
    _, body = gql(client_for(sb), MUTATION, {"inputs": [item(sb, "x", **change)]})
    assert body["data"]["addGLImportItems"]["edges"] == []
    assert words in body["errors"][0]["message"]
    assert sb.imports == []


def test_it_checks_supplier_codes_against_the_items_owner(sb):
    client_entity = sb.client_entity_ids[0]
    other_client_supplier = _supplier_code(sb, sb.client_entity_ids[1])
    owner_supplier = _supplier_code(sb, sb.owner_db_id)
    inputs = [
        item(sb, "own", entity=client_entity),
        item(sb, "other", entity=client_entity, subledger={"code": other_client_supplier}),
        # a client may use what is on the owner entity (the shared chart, currencies)
        item(sb, "shared", entity=client_entity, subledger={"code": owner_supplier}),
    ]
    _, body = gql(client_for(sb), MUTATION, {"inputs": inputs})
    assert [e["clientId"] for e in body["data"]["addGLImportItems"]["edges"]] == ["own", "shared"]
    assert [e["extensions"]["clientId"] for e in body["errors"]] == ["other"]


def test_it_refuses_more_than_500_inputs(sb):
    inputs = [item(sb, str(i)) for i in range(501)]
    _, body = gql(client_for(sb), MUTATION, {"inputs": inputs})
    assert body["data"]["addGLImportItems"] is None
    assert "500" in body["errors"][0]["message"]
    assert sb.imports == []


def test_it_accepts_exactly_500_inputs(sb):
    _, body = gql(client_for(sb), MUTATION, {"inputs": [item(sb, str(i)) for i in range(500)]})
    assert len(body["data"]["addGLImportItems"]["edges"]) == 500


def test_it_accepts_numbers_as_amounts(sb):
    _, body = gql(client_for(sb), MUTATION, {"inputs": [item(sb, amount=-99.5)]})
    assert "errors" not in body
    assert sb.imports[0]["amount"] == Decimal("-99.5")


def test_it_finds_stored_items_by_ext_identifier(sb):
    inputs = [item(sb, "1", extIdentifier="e-1"), item(sb, "2", extIdentifier="e-2")]
    gql(client_for(sb), MUTATION, {"inputs": inputs})
    query = """query($ids: [String!]) { glImportItems(first: 100, filter: {extIdentifier_in: $ids})
      { edges { node { dbId extIdentifier clientId amount currency { code } owner { dbId } } } }
    }"""
    _, body = gql(client_for(sb), query, {"ids": ["e-2", "e-3"]})
    nodes = [e["node"] for e in body["data"]["glImportItems"]["edges"]]
    assert [(n["extIdentifier"], n["clientId"], n["amount"]) for n in nodes] == [
        ("e-2", "2", "-1250.00")
    ]
    assert nodes[0]["currency"] == {"code": "NOK"}


def test_it_answers_import_errors_added_through_the_control_surface(sb):
    sb.add_record(
        "glImportItemErrors",
        message="Konto 2400 er sperret",
        errorLevel={"code": "E", "name": "Error"},
        transactionDbId=123,
    )
    query = (
        "{ glImportItemErrors { edges { node "
        "{ message errorLevel { code name } transactionDbId createdAt } } } }"
    )
    _, body = gql(client_for(sb), query)
    (edge,) = body["data"]["glImportItemErrors"]["edges"]
    assert edge["node"]["message"] == "Konto 2400 er sperret"
    assert edge["node"]["errorLevel"] == {"code": "E", "name": "Error"}
