from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.auth import READ_SCOPES
from integrations.xledger.sandbox.testing import client_for, gql


def test_it_answers_a_field_without_scope_with_null_and_forbidden():
    sb = Sandbox(dialect="ours", seed=1, suppliers=5)
    status, body = gql(
        client_for(sb, "no_suppliers"),
        "{ suppliers { edges { node { dbId } } } currencies { edges { node { code } } } }",
    )
    assert status == 200
    assert body["data"]["suppliers"] is None
    assert [e["node"]["code"] for e in body["data"]["currencies"]["edges"]][:3] == [
        "NOK",
        "SEK",
        "DKK",
    ]
    (error,) = body["errors"]
    assert error["code"] == "FORBIDDEN"
    assert error["path"] == ["suppliers"]
    assert "no access to suppliers" in error["message"]


def test_it_answers_a_probe_of_every_scope_in_one_request():
    sb = Sandbox(dialect="ours", seed=1, suppliers=5)
    token = sb.add_token(scopes=["entities", "currencies"])
    fields = READ_SCOPES
    query = "{ " + " ".join(f"p_{f}: {f}(first: 1) {{ edges {{ cursor }} }}" for f in fields)
    query += " }"
    status, body = gql(client_for(sb, token=token), query)
    assert status == 200
    answered = {k for k, v in body["data"].items() if v is not None}
    assert answered == {"p_entities", "p_currencies"}
    assert sorted(e["path"][0] for e in body["errors"]) == sorted(
        f"p_{f}" for f in fields if f not in ("entities", "currencies")
    )
    assert {e["code"] for e in body["errors"]} == {"FORBIDDEN"}


def test_it_forbids_the_write_probe_for_a_read_only_token():
    sb = Sandbox(dialect="ours", seed=1, suppliers=5)
    probe = "mutation { addGLImportItems(inputs: []) { edges { clientId } } }"
    _, body = gql(client_for(sb, "read_only"), probe)
    assert body["data"]["addGLImportItems"] is None
    assert body["errors"][0]["code"] == "FORBIDDEN"
    _, body = gql(client_for(sb, "full"), probe)
    assert body == {"data": {"addGLImportItems": {"edges": []}}}


def test_it_applies_changed_scopes_at_once():
    sb = Sandbox(dialect="ours", seed=1, suppliers=5)
    token = sb.add_token()
    sb.set_scopes(token, ["entities"])
    _, body = gql(client_for(sb, token=token), "{ suppliers { edges { cursor } } }")
    assert body["errors"][0]["code"] == "FORBIDDEN"


def test_it_reports_unknown_fields_as_validation_errors():
    sb = Sandbox(dialect="ours", seed=1, suppliers=5)
    status, body = gql(client_for(sb), "{ suppliers { edges { node { colour } } } }")
    assert status == 200
    assert body["errors"][0]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert body["errors"][0]["message"].startswith("Cannot query field 'colour'")
    assert "data" not in body
