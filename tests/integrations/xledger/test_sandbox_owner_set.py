from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import all_pages, client_for, gql

ENTITIES = "{ entities%s { edges { node { dbId code owner { dbId } parent { dbId } } } } }"


def _entity_ids(client, owner_set=None):
    args = f"(ownerSet: {owner_set})" if owner_set else ""
    _, body = gql(client, ENTITIES % args)
    return [e["node"]["dbId"] for e in body["data"]["entities"]["edges"]]


def test_it_answers_current_with_the_tokens_own_entity():
    sb = Sandbox(dialect="ours", seed=1, suppliers=10, clients=3)
    assert _entity_ids(client_for(sb), "CURRENT") == [sb.owner_db_id]
    assert _entity_ids(client_for(sb), "MINE") == [sb.owner_db_id]


def test_it_answers_lower_with_the_client_entities():
    sb = Sandbox(dialect="ours", seed=1, suppliers=10, clients=4)
    assert _entity_ids(client_for(sb), "LOWER") == sb.client_entity_ids
    assert len(sb.client_entity_ids) == 4


def test_it_answers_everything_visible_when_owner_set_is_left_out():
    sb = Sandbox(dialect="ours", seed=1, suppliers=10, clients=3)
    expected = [sb.owner_db_id, *sb.client_entity_ids]
    assert _entity_ids(client_for(sb)) == expected
    assert _entity_ids(client_for(sb), "ALL") == expected


def test_it_makes_the_owner_entity_its_own_owner():
    sb = Sandbox(dialect="ours", seed=1, suppliers=10, clients=2)
    _, body = gql(client_for(sb), ENTITIES % "")
    nodes = [e["node"] for e in body["data"]["entities"]["edges"]]
    assert nodes[0]["owner"]["dbId"] == sb.owner_db_id and nodes[0]["parent"] is None
    for node in nodes[1:]:
        assert node["owner"]["dbId"] == sb.owner_db_id
        assert node["parent"]["dbId"] == sb.owner_db_id


def test_it_limits_a_client_token_to_its_entity():
    sb = Sandbox(dialect="ours", seed=1, suppliers=300, clients=3, burst_limit=False)
    client = client_for(sb, "client")
    own = sb.client_entity_ids[0]
    assert _entity_ids(client) == [own]
    assert _entity_ids(client, "UPPER") == [sb.owner_db_id]
    assert _entity_ids(client, "LOWER") == []
    suppliers, _ = all_pages(client, "suppliers", "ownerDbId", first=1000)
    assert suppliers and {s["ownerDbId"] for s in suppliers} == {own}
    upper, _ = all_pages(client, "suppliers", "ownerDbId", first=1000, extra=", ownerSet: UPPER")
    assert upper and {s["ownerDbId"] for s in upper} == {sb.owner_db_id}


def test_it_spreads_suppliers_over_owner_and_clients():
    sb = Sandbox(dialect="ours", seed=1, suppliers=600, clients=3, burst_limit=False)
    client = client_for(sb)
    everything, _ = all_pages(client, "suppliers", "ownerDbId", first=10000)
    current, _ = all_pages(
        client, "suppliers", "ownerDbId", first=10000, extra=", ownerSet: CURRENT"
    )
    lower, _ = all_pages(client, "suppliers", "ownerDbId", first=10000, extra=", ownerSet: LOWER")
    assert len(everything) == 600 == len(current) + len(lower)
    assert {s["ownerDbId"] for s in current} == {sb.owner_db_id}
    assert {s["ownerDbId"] for s in lower} == set(sb.client_entity_ids)
    assert len(lower) > len(current) > 0
