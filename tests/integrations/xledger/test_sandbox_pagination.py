from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import SUPPLIER_FIELDS, all_pages, client_for, gql


def test_it_pages_through_every_supplier_once():
    sb = Sandbox(dialect="ours", seed=3, suppliers=250, burst_limit=False)
    nodes, requests = all_pages(client_for(sb), "suppliers", SUPPLIER_FIELDS, first=100)
    assert len(nodes) == 250
    assert requests == 3
    ids = [n["dbId"] for n in nodes]
    assert ids == sorted(ids) and len(set(ids)) == 250


def test_it_uses_the_db_id_as_cursor():
    sb = Sandbox(dialect="ours", seed=3, suppliers=20)
    status, body = gql(client_for(sb), "{ suppliers(first: 2) { edges { cursor node { dbId } } } }")
    for edge in body["data"]["suppliers"]["edges"]:
        assert edge["cursor"] == str(edge["node"]["dbId"])


def test_it_refuses_more_than_10000_nodes():
    sb = Sandbox(dialect="ours", seed=3, suppliers=5)
    status, body = gql(client_for(sb), "{ suppliers(first: 10001) { edges { node { dbId } } } }")
    assert status == 200
    assert body["data"]["suppliers"] is None
    assert body["errors"][0]["path"] == ["suppliers"]
    assert "10000" in body["errors"][0]["message"]


def test_it_accepts_exactly_10000():
    sb = Sandbox(dialect="ours", seed=3, suppliers=5)
    status, body = gql(client_for(sb), "{ suppliers(first: 10000) { edges { node { dbId } } } }")
    assert len(body["data"]["suppliers"]["edges"]) == 5


def test_it_pages_backwards_with_last_and_before():
    sb = Sandbox(dialect="ours", seed=3, suppliers=30, burst_limit=False)
    client = client_for(sb)
    _, body = gql(client, "{ suppliers(first: 30) { edges { node { dbId } } } }")
    ids = [e["node"]["dbId"] for e in body["data"]["suppliers"]["edges"]]
    query = (
        "query($b: String) { suppliers(last: 5, before: $b) "
        "{ edges { node { dbId } } pageInfo { hasPreviousPage startCursor } } }"
    )
    _, body = gql(client, query, {"b": str(ids[20])})
    page = body["data"]["suppliers"]
    assert [e["node"]["dbId"] for e in page["edges"]] == ids[15:20]
    assert page["pageInfo"] == {"hasPreviousPage": True, "startCursor": str(ids[15])}


def test_it_answers_an_invalid_cursor_with_an_error():
    sb = Sandbox(dialect="ours", seed=3, suppliers=5)
    _, body = gql(client_for(sb), '{ suppliers(after: "abc") { edges { node { dbId } } } }')
    assert body["data"]["suppliers"] is None
    assert body["errors"][0]["code"] == "BAD_REQUEST"
