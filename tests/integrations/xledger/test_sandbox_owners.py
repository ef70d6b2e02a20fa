"""Several owner entities on one sandbox: independent domains that no other's token can see.

Run under every dialect here (not only the one XLEDGER_SANDBOX_DIALECT names): what a token sees
must not depend on the reading of the contract.
"""

import hashlib
import uuid
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from integrations.xledger.sandbox import DIALECTS, OWNERS_ENV_VAR, Sandbox, owners_from_env
from integrations.xledger.sandbox.records import KINDS
from integrations.xledger.sandbox.testing import all_pages, client_for, gql

NOW = datetime(2026, 6, 1, tzinfo=UTC)
FIRST, SECOND = 10001, 20001
SUPPLIERS = 120

# sha256 of every record and the demo tokens of Sandbox(seed=1, suppliers=200, clients=3,
# now=NOW, dialect="ours"), taken before the sandbox could hold several owners. It changes only
# when the seeded data does on purpose; then take it anew (see _fingerprint).
ONE_OWNER_FINGERPRINT = "26cddb7deac1895893495ba8859b10fc641972e09b15bc920a663f322399c431"

MUTATION = """
mutation($inputs: [AddGLImportItemsInput!]!) {
  addGLImportItems(inputs: $inputs) { edges { clientId node { dbId } } }
}
"""


@pytest.fixture(params=list(DIALECTS))
def sb(request):
    return Sandbox(
        seed=3,
        suppliers=SUPPLIERS,
        clients=2,
        owners=2,
        burst_limit=False,
        now=NOW,
        dialect=request.param,
    )


def _client(sb, owner, name="full"):
    return client_for(sb, token=sb.owner_tokens[owner][name])


def _domain(sb, owner):
    return {owner, *sb.owner_client_ids[owner]}


def _nodes(sb, owner, field, selection, name="full"):
    nodes, _ = all_pages(_client(sb, owner, name), field, selection, first=1000)
    return nodes


def _ids(nodes, key="dbId"):
    return {int(node[key]) for node in nodes}


def _db_id(sb, value):
    """A dbId as this dialect's input takes it (Int64String: a string of digits)."""
    return str(value) if sb.dialect.dbid_type == "Int64String" else value


def _fingerprint(sb):
    digest = hashlib.sha256()
    for kind in KINDS:
        digest.update(orjson.dumps(sb.records(kind), option=orjson.OPT_SORT_KEYS))
    digest.update(orjson.dumps(sb.demo_tokens))
    digest.update(orjson.dumps([sb.owner_db_id, sb.client_entity_ids]))
    return digest.hexdigest()


# --- one owner, as before ------------------------------------------------------------------------


def test_it_seeds_one_owner_exactly_as_before():
    default = Sandbox(seed=1, suppliers=200, clients=3, now=NOW, dialect="ours")
    explicit = Sandbox(seed=1, suppliers=200, clients=3, now=NOW, dialect="ours", owners=1)
    assert _fingerprint(default) == _fingerprint(explicit) == ONE_OWNER_FINGERPRINT
    assert default.owners == [FIRST]
    assert default.owner_tokens == {FIRST: default.demo_tokens}
    assert default.client_entity_ids == default.owner_client_ids[FIRST] == [10002, 10003, 10004]


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_it_seeds_the_first_owner_the_same_whatever_follows_it(dialect):
    one = Sandbox(seed=5, suppliers=80, clients=3, now=NOW, dialect=dialect)
    two = Sandbox(seed=5, suppliers=80, clients=3, now=NOW, dialect=dialect, owners=2)
    assert two.demo_tokens == one.demo_tokens
    assert (two.owner_db_id, two.client_entity_ids) == (one.owner_db_id, one.client_entity_ids)
    first = _domain(two, FIRST)
    for kind in KINDS:
        table = two.store.tables[kind]
        mine = {r.dbId for r in table.records if r.ownerDbId in first}
        assert [r for r in two.records(kind) if r["dbId"] in mine] == one.records(kind), kind


# --- two owners ----------------------------------------------------------------------------------


def test_it_gives_each_owner_its_clients_and_tokens(sb):
    assert sb.owners == [FIRST, SECOND]
    assert sb.owner_db_id == FIRST
    assert sb.owner_client_ids == {FIRST: [10002, 10003], SECOND: [20002, 20003]}
    assert sb.client_entity_ids == [10002, 10003]
    assert sb.owner_tokens[FIRST] == sb.demo_tokens
    assert {"full", "revoked", "client", "read_only"} <= sb.owner_tokens[SECOND].keys()
    assert not set(sb.owner_tokens[FIRST].values()) & set(sb.owner_tokens[SECOND].values())
    assert sb.owner_name(FIRST).endswith(" AS") and sb.owner_name(SECOND).endswith(" AB")
    assert sb.owner_of(20003) == SECOND and sb.owner_of(10002) == FIRST


def test_it_shows_each_full_token_its_own_entities_only(sb):
    for owner in sb.owners:
        nodes = _nodes(sb, owner, "entities", "dbId owner { dbId } parent { dbId }")
        assert _ids(nodes) == _domain(sb, owner)
        assert {int(n["owner"]["dbId"]) for n in nodes} == {owner}
        parents = {int(n["parent"]["dbId"]) for n in nodes if n["parent"]}
        assert parents == {owner}


def test_it_shows_each_token_its_own_suppliers_only(sb):
    seen = {}
    for owner in sb.owners:
        nodes = _nodes(sb, owner, "suppliers", "dbId code description ownerDbId")
        assert len(nodes) == SUPPLIERS
        assert _ids(nodes, "ownerDbId") <= _domain(sb, owner)
        seen[owner] = nodes
    assert not _ids(seen[FIRST]) & _ids(seen[SECOND])
    first_words = {owner: {n["description"].split()[0] for n in seen[owner]} for owner in seen}
    assert not first_words[FIRST] & first_words[SECOND]  # a test can tell whose supplier it is
    assert not {n["code"] for n in seen[FIRST]} & {n["code"] for n in seen[SECOND]}


def test_it_gives_each_owner_a_chart_with_2400_and_1500(sb):
    seen = {}
    for owner in sb.owners:
        nodes = _nodes(sb, owner, "accounts", "dbId code ownerDbId")
        assert {"2400", "1500"} <= {n["code"] for n in nodes}
        assert _ids(nodes, "ownerDbId") <= _domain(sb, owner)
        seen[owner] = _ids(nodes)
    assert not seen[FIRST] & seen[SECOND]


def test_it_gives_each_owner_its_object_kinds_vat_codes_and_currencies(sb):
    seen = {}
    for owner in sb.owners:
        kinds = _ids(_nodes(sb, owner, "objectKinds", "dbId name"))
        store_kinds = sb.store.tables["objectKinds"].records
        assert kinds == {k.dbId for k in store_kinds if k.ownerDbId == owner}
        assert len(kinds) == 5
        tax_rule = next(
            k.dbId for k in store_kinds if k.ownerDbId == owner and k.code == "TAX_RULE"
        )
        values = _nodes(sb, owner, "objectValues", "dbId code objectKindDbId ownerDbId")
        assert _ids(values, "objectKindDbId") <= kinds
        vat = {n["code"] for n in values if int(n["objectKindDbId"]) == tax_rule}
        assert {"0", "1", "3", "11", "13"} <= vat
        setups = _nodes(sb, owner, "taxTableSetups", "dbId objectValueDbId accountDbId")
        assert setups and _ids(setups, "objectValueDbId") <= _ids(values)
        accounts = _ids(_nodes(sb, owner, "accounts", "dbId"))
        assert {int(s["accountDbId"]) for s in setups if s["accountDbId"]} <= accounts
        currencies = _nodes(sb, owner, "currencies", "dbId code")
        assert {"NOK", "SEK", "EUR"} <= {n["code"] for n in currencies}
        assets = _nodes(sb, owner, "assets", "dbId ownerDbId")
        assert assets and _ids(assets, "ownerDbId") <= _domain(sb, owner)
        seen[owner] = (kinds, _ids(values), _ids(setups), _ids(currencies), _ids(assets))
    for mine, theirs in zip(seen[FIRST], seen[SECOND], strict=True):
        assert not mine & theirs


def test_it_never_shares_a_db_id_between_owners(sb):
    for kind in KINDS:
        records = sb.store.tables[kind].records
        by_owner = {owner: set() for owner in sb.owners}
        for record in records:
            by_owner[sb.owner_of(record.ownerDbId)].add(record.dbId)
        assert not by_owner[FIRST] & by_owner[SECOND], kind
        assert len({r.dbId for r in records}) == len(records), kind
    assert all(e < 20000 for e in _domain(sb, FIRST))
    assert all(20000 < e < 30000 for e in _domain(sb, SECOND))


def test_it_keeps_a_client_token_of_the_second_owner_in_its_domain(sb):
    client = _client(sb, SECOND, "client")
    upper, _ = all_pages(client, "entities", "dbId", extra=", ownerSet: UPPER")
    assert _ids(upper) == {SECOND}
    own, _ = all_pages(client, "entities", "dbId")
    assert _ids(own) == {20002}


def test_it_refuses_the_second_owners_revoked_token(sb):
    status, body = gql(_client(sb, SECOND, "revoked"), "{ entities { edges { cursor } } }")
    assert status == 401 or body.get("data") is None


def test_the_fast_path_and_the_plain_executor_agree_for_the_second_owner(sb):
    query = "{ suppliers(first: 50) { edges { cursor node { dbId description owner { dbId } } } } }"
    _, fast = gql(_client(sb, SECOND), query)
    sb.fast_path = False
    _, plain = gql(_client(sb, SECOND), query)
    assert fast == plain and fast["data"]["suppliers"]["edges"]


# --- imports -------------------------------------------------------------------------------------

PDF = b"%PDF-1.4 faktura " + bytes(range(256)) * 4
MAP = orjson.dumps({"0": ["variables.inputs.0.node.invoiceFile"]})


def _item(sb, entity, client_id="c-1", **node):
    owner = sb.owner_of(entity)
    supplier = next(
        r.code for r in sb.store.tables["suppliers"].records if r.ownerDbId in (entity, owner)
    )
    base = {
        "transactionSource": {"code": "SEMINE"},
        "postedDate": "2026-05-20",
        "invoiceDate": "2026-05-18",
        "dueDate": "2026-06-17",
        "invoiceNumber": f"F-{entity}",
        "text": "Städning maj",
        "amount": "-1250.00",
        "invoiceAmount": "1250.00",
        "taxAmount": "250.00",
        "currency": {"code": "SEK"},
        "account": {"code": "2400"},
        "taxRule": {"code": "1"},
        "subledger": {"code": supplier},
        "owner": {"dbId": _db_id(sb, entity)},
        "extIdentifier": f"semine-{entity}-{client_id}",
        "invoiceFile": "faktura.pdf",
    }
    base.update(node)
    return {"clientId": client_id, "node": base}


def _send_with_pdf(sb, token, inputs):
    """The form every dialect reads: the file first, a map, the JSON part last, and the file's
    name in the node."""
    operations = orjson.dumps({"query": MUTATION, "variables": {"inputs": inputs}})
    parts = [
        ("0", "faktura.pdf", "application/pdf", PDF),
        ("map", None, "application/json", MAP),
        ("operations", "operations.json", "application/json", operations),
    ]
    boundary = uuid.uuid4().hex
    chunks = []
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + data + b"\r\n")
    response = client_for(sb, token=token).post(
        "/graphql",
        content=b"".join(chunks) + f"--{boundary}--\r\n".encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    return response.status_code, orjson.loads(response.content)


def test_it_stores_an_import_with_the_second_owners_token_under_the_second_owner(sb):
    entity = sb.owner_client_ids[SECOND][0]
    status, body = _send_with_pdf(sb, sb.owner_tokens[SECOND]["full"], [_item(sb, entity)])
    assert status == 200 and not body.get("errors"), body
    (stored,) = sb.imports
    assert stored["ownerDbId"] == entity
    assert (stored["invoiceFile"], stored["invoiceFileSize"]) == ("faktura.pdf", len(PDF))

    listed = _nodes(sb, SECOND, "glImportItems", "dbId extIdentifier ownerDbId")
    assert [(int(n["ownerDbId"]), n["extIdentifier"]) for n in listed] == [
        (entity, stored["extIdentifier"])
    ]
    assert _nodes(sb, FIRST, "glImportItems", "dbId") == []


def test_it_keeps_imports_of_both_owners_apart(sb):
    for owner in sb.owners:
        entity = sb.owner_client_ids[owner][1]
        currency = "NOK" if owner == FIRST else "SEK"
        inputs = [_item(sb, entity, currency={"code": currency})]
        status, body = _send_with_pdf(sb, sb.owner_tokens[owner]["full"], inputs)
        assert status == 200 and not body.get("errors"), body
    for owner in sb.owners:
        listed = _nodes(sb, owner, "glImportItems", "dbId ownerDbId currency { code }")
        assert [int(n["ownerDbId"]) for n in listed] == [sb.owner_client_ids[owner][1]]
    assert [i["ownerDbId"] for i in sb.imports] == [10003, 20003]


def test_it_refuses_an_import_for_another_owners_entity(sb):
    inputs = [_item(sb, sb.owner_client_ids[SECOND][0])]
    status, body = gql(_client(sb, FIRST), MUTATION, {"inputs": inputs})
    assert status == 200 and body["errors"], body
    assert sb.imports == []


def test_it_checks_codes_against_the_entitys_own_domain(sb):
    entity = sb.owner_client_ids[SECOND][0]
    first_supplier = next(
        r.code for r in sb.store.tables["suppliers"].records if r.ownerDbId == FIRST
    )
    first_account = next(
        r.dbId
        for r in sb.store.tables["accounts"].records
        if r.ownerDbId == FIRST and r.code == "2400"
    )
    inputs = [
        _item(sb, entity, "their-supplier", subledger={"code": first_supplier}),
        _item(sb, entity, "their-account", account={"dbId": _db_id(sb, first_account)}),
    ]
    status, body = gql(_client(sb, SECOND), MUTATION, {"inputs": inputs})
    assert status == 200 and len(body["errors"]) == 2, body
    assert sb.imports == []


def test_it_keeps_transaction_sources_per_owner():
    sb = Sandbox(
        seed=3, suppliers=10, clients=1, owners=2, dialect="ours,transaction_source_required=true"
    )
    sb.set_transaction_sources(["LEV"], owner_db_id=SECOND)
    assert sb.transaction_sources == sb.transaction_sources_of(FIRST) == ["IMP", "LEV", "SEMINE"]
    assert sb.transaction_sources_of(20002) == ["LEV"]
    _, body = gql(_client(sb, SECOND), MUTATION, {"inputs": [_item(sb, 20002)]})
    assert "transactionSource" in body["errors"][0]["message"]
    _, body = gql(_client(sb, FIRST), MUTATION, {"inputs": [_item(sb, 10002)]})
    assert "errors" not in body, body
    sb.set_transaction_sources(["SEMINE"])
    assert sb.transaction_sources_of(FIRST) == sb.transaction_sources_of(SECOND) == ["SEMINE"]


# --- control surface -----------------------------------------------------------------------------


def test_it_lists_every_owner_in_info_and_keeps_the_other_keys():
    sb = Sandbox(seed=3, suppliers=10, clients=2, owners=2, burst_limit=False)
    with sb.serve(port=0) as url, httpx.Client(timeout=5) as http:
        base = url.removesuffix("/graphql")
        info = http.get(f"{base}/_sandbox/info").json()
        assert info["owner_db_id"] == FIRST
        assert info["client_entity_ids"] == [10002, 10003]
        assert info["demo_tokens"] == sb.demo_tokens
        assert [o["db_id"] for o in info["owners"]] == [FIRST, SECOND]
        second = info["owners"][1]
        assert second["client_ids"] == [20002, 20003]
        assert second["name"] == sb.owner_name(SECOND)
        assert second["tokens"]["full"] == sb.owner_tokens[SECOND]["full"]
        assert info["owners"][0]["tokens"] == sb.demo_tokens

        response = http.post(
            f"{base}/_sandbox/transaction_sources", json={"codes": ["IMP"], "owner_db_id": SECOND}
        )
        assert response.status_code == 200
        assert http.get(f"{base}/_sandbox/transaction_sources/{SECOND}").json() == ["IMP"]
        assert http.get(f"{base}/_sandbox/transaction_sources").json() == ["IMP", "LEV", "SEMINE"]

        response = http.post(
            url,
            json={"query": "{ entities { edges { node { dbId } } } }"},
            headers={"Authorization": f"token {second['tokens']['full']}"},
        )
        edges = response.json()["data"]["entities"]["edges"]
        assert {int(e["node"]["dbId"]) for e in edges} == {SECOND, 20002, 20003}


def test_it_adds_records_for_the_second_owner_when_asked(sb):
    db_id = sb.add_record("suppliers", code="X-1", description="Nytt AB", ownerDbId=20002)
    first_default = sb.add_record("suppliers", code="X-2", description="Nytt AS")
    assert sb.store.tables["suppliers"].by_id[first_default].ownerDbId == FIRST
    assert db_id in _ids(_nodes(sb, SECOND, "suppliers", "dbId"))
    assert db_id not in _ids(_nodes(sb, FIRST, "suppliers", "dbId"))


def test_it_refuses_too_few_owners():
    with pytest.raises(ValueError):
        Sandbox(suppliers=1, owners=0)


def test_it_reads_the_owner_count_for_its_own_process_from_the_environment(monkeypatch):
    monkeypatch.delenv(OWNERS_ENV_VAR, raising=False)
    assert owners_from_env() == 1
    monkeypatch.setenv(OWNERS_ENV_VAR, "2")
    assert owners_from_env() == 2
    assert Sandbox(suppliers=1).owners == [FIRST]  # the constructor never reads it
    for bad in ("0", "two"):
        monkeypatch.setenv(OWNERS_ENV_VAR, bad)
        with pytest.raises(ValueError, match=OWNERS_ENV_VAR):
            owners_from_env()
