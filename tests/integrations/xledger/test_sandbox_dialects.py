"""The sandbox's dialects: each knob, as each preset plays it (raw HTTP against the sandbox)."""

import re
import uuid
from datetime import UTC, date, datetime

import orjson
import pytest

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.dialects import (
    CHOICES,
    DIALECTS,
    ENV_VAR,
    OURS,
    XLEDGER,
    Dialect,
    dialect_from_env,
    dialect_named,
)
from integrations.xledger.sandbox.testing import all_pages, client_for, gql

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
BOTH = pytest.mark.parametrize("name", ["ours", "xledger"])
WALL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
MUTATION = """
mutation($inputs: [AddGLImportItemsInput!]!) {
  addGLImportItems(inputs: $inputs) { edges { clientId node { dbId } } }
}
"""


def sandbox(dialect, **kwargs) -> Sandbox:
    kwargs = {"seed": 2, "suppliers": 30, "burst_limit": False, "now": NOW, **kwargs}
    return Sandbox(dialect=dialect, **kwargs)


def db_id(sb, value):
    """A dbId as the dialect writes it in a request."""
    return str(value) if sb.dialect.dbid_type == "Int64String" else value


def item(sb, client_id="1", **node):
    owner = sb.owner_db_id
    supplier = next(s["code"] for s in sb.records("suppliers") if s["ownerDbId"] == owner)
    base = {
        "transactionSource": {"code": "SEMINE"},
        "postedDate": "2026-02-01",
        "invoiceNumber": "INV-100",
        "amount": "-1250.00",
        "currency": {"code": "NOK"},
        "account": {"code": "2400"},
        "taxRule": {"code": "1"},
        "subledger": {"code": supplier},
        "owner": {"dbId": db_id(sb, owner)},
        "extIdentifier": "semine-42",
    }
    base.update(node)
    return {"clientId": client_id, "node": base}


def send(sb, inputs, token="full"):
    return gql(client_for(sb, token), MUTATION, {"inputs": inputs})


# --- the presets and how to choose one ----------------------------------------------------------


def test_it_offers_three_presets_with_ours_as_the_default():
    assert set(DIALECTS) == {"ours", "xledger", "mixed"}
    assert DIALECTS["ours"] == OURS == Dialect()
    assert DIALECTS["xledger"] is XLEDGER
    for knob, values in CHOICES.items():
        assert getattr(OURS, knob) == values[0], knob
        assert getattr(XLEDGER, knob) != getattr(OURS, knob), knob
    mixed = DIALECTS["mixed"].knobs()
    # "mixed" takes some readings from each side, and the third batch-error reading.
    assert {k for k, v in mixed.items() if v == getattr(OURS, k)}
    assert {k for k, v in mixed.items() if v == getattr(XLEDGER, k)}
    assert mixed["batch_errors"] == "partial_by_index"
    assert XLEDGER.batch_errors == "whole"


def test_it_reads_the_dialect_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert dialect_from_env() is OURS
    assert Sandbox(suppliers=1).dialect is OURS
    monkeypatch.setenv(ENV_VAR, "xledger")
    assert dialect_from_env() is XLEDGER
    sb = Sandbox(suppliers=1)
    assert sb.dialect is XLEDGER and sb.dialect.name == "xledger"
    assert Sandbox(suppliers=1, dialect="ours").dialect is OURS  # an explicit choice wins
    monkeypatch.setenv(ENV_VAR, "marsian")
    with pytest.raises(ValueError, match="ours, xledger"):
        dialect_from_env()


def test_it_accepts_overrides_after_the_preset_name(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "xledger,page_order=dbid, end_cursor=true")
    dialect = dialect_from_env()
    assert dialect.page_order == "dbid" and dialect.end_cursor is True
    assert dialect.dbid_type == "Int64String"
    assert dialect.name == "xledger,page_order=dbid,end_cursor=true"
    assert dialect_named("ours,batch_errors=partial_by_index").batch_errors == "partial_by_index"
    for bad in ("ours,page_order=random", "ours,colour=red", "ours,end_cursor=maybe", "ours,x"):
        with pytest.raises(ValueError):
            dialect_named(bad)
    with pytest.raises(ValueError):
        Dialect(revoked="http418")


def test_it_builds_one_schema_per_dialect_and_shares_it():
    a, b, c = sandbox("ours"), sandbox("ours"), sandbox("xledger")
    assert a.schema is b.schema
    assert a.schema is not c.schema
    assert "DateTimeString" in c.schema.type_map and "DateTime" not in c.schema.type_map
    assert "Upload" in a.schema.type_map and "Upload" not in c.schema.type_map


def test_it_reports_its_dialect_on_the_control_surface():
    import httpx

    sb = sandbox("xledger")
    with sb.serve(port=0) as url, httpx.Client(timeout=5) as http:
        info = http.get(url.removesuffix("graphql") + "_sandbox/info").json()
    assert info["dialect"]["name"] == "xledger"
    assert info["dialect"]["page_order"] == "shuffled"


# --- datetime_scalar ---------------------------------------------------------------------------


@BOTH
def test_it_names_the_date_time_scalar(name):
    sb = sandbox(name)
    scalar = sb.dialect.datetime_scalar
    query = "query($t: %s) { suppliers(filter: {modifiedAt_gte: $t}) { edges { cursor } } }"
    since = "2026-01-01T00:00:00+01:00" if name == "ours" else "2026-01-01T00:00:00"
    status, body = gql(client_for(sb), query % scalar, {"t": since})
    assert status == 200 and "errors" not in body, body
    other = "DateTimeString" if name == "ours" else "DateTime"
    status, body = gql(client_for(sb), query % other, {"t": since})
    assert status == 200 and "data" not in body
    assert body["errors"][0]["message"].startswith(f"Unknown type '{other}'")
    assert body["errors"][0]["code"] == "GRAPHQL_VALIDATION_FAILED"
    _, body = gql(client_for(sb), '{ __type(name: "Supplier") { fields { name type { name } } } }')
    types = {f["name"]: f["type"]["name"] for f in body["data"]["__type"]["fields"]}
    assert types["modifiedAt"] == scalar


# --- datetime_offsets --------------------------------------------------------------------------

SINCE = "query($t: %s) { suppliers(first: 1000, filter: {modifiedAt_gte: $t}) { edges { node { dbId modifiedAt } } } }"  # noqa: E501


def _since(sb, value):
    return gql(client_for(sb), SINCE % sb.dialect.datetime_scalar, {"t": value})


def test_it_writes_and_compares_instants_with_offsets_in_ours():
    sb = sandbox("ours")
    status, body = _since(sb, "2025-06-01T00:00:00Z")
    assert status == 200 and "errors" not in body
    assert all(
        re.search(r"[+-]\d\d:\d\d$", e["node"]["modifiedAt"])
        for e in body["data"]["suppliers"]["edges"]
    )


def test_it_writes_wall_time_and_refuses_offsets_in_xledger():
    sb = sandbox("xledger")
    for value in ("2025-06-01T00:00:00Z", "2025-06-01T00:00:00+02:00"):
        status, body = _since(sb, value)
        assert status == 200
        assert body["data"]["suppliers"] is None
        assert body["errors"][0]["code"] == "BAD_REQUEST"
    status, body = _since(sb, "2025-06-01T00:00:00")
    nodes = [e["node"] for e in body["data"]["suppliers"]["edges"]]
    assert nodes and all(WALL_TIME.match(n["modifiedAt"]) for n in nodes)
    assert all(WALL_TIME.match(s["modifiedAt"]) for s in sb.records("suppliers"))


def _changed_in_the_repeated_hour(sb):
    """Supplier A changed at 02:40 CEST (first pass), B at 02:05 CET (second pass, later)."""
    ids = [s["dbId"] for s in sb.records("suppliers")]
    sb.set_now(datetime(2026, 10, 25, 0, 40, tzinfo=UTC))  # 02:40 +02:00
    sb.change_record("suppliers", ids[0], description="A")
    sb.set_now(datetime(2026, 10, 25, 1, 5, tzinfo=UTC))  # 02:05 +01:00, 25 minutes later
    sb.change_record("suppliers", ids[1], description="B")
    return ids[0], ids[1]


def _ids(body):
    return {int(e["node"]["dbId"]) for e in body["data"]["suppliers"]["edges"]}


def test_it_compares_wall_time_naively_in_the_repeated_hour_in_xledger():
    sb = sandbox("xledger")
    a, b = _changed_in_the_repeated_hour(sb)
    modified = {int(s["dbId"]): s["modifiedAt"] for s in sb.records("suppliers")}
    assert (modified[a], modified[b]) == ("2026-10-25T02:40:00", "2026-10-25T02:05:00")
    # A client that read at 02:45 (first pass) and overlaps 15 minutes misses B...
    _, body = _since(sb, "2026-10-25T02:30:00")
    assert a in _ids(body) and b not in _ids(body)
    # ...unless it reaches back over the whole repeated hour.
    _, body = _since(sb, "2026-10-25T02:00:00")
    assert {a, b} <= _ids(body)


def test_it_compares_instants_in_the_repeated_hour_in_ours():
    sb = sandbox("ours")
    a, b = _changed_in_the_repeated_hour(sb)
    _, body = _since(sb, "2026-10-25T02:30:00+02:00")
    assert {a, b} <= _ids(body)


# --- dbid_type ---------------------------------------------------------------------------------

DB_IDS = """{
  suppliers(first: 2) { edges { cursor node { dbId ownerDbId owner { dbId } } } }
  entities(ownerSet: LOWER) { edges { node { dbId owner { dbId } parent { dbId } } } }
  objectValues(first: 3) { edges { node { dbId objectKindDbId ownerDbId } } }
  taxTableSetups(first: 3) { edges { node { dbId objectValueDbId accountDbId } } }
  accounts(first: 2) { edges { node { dbId chartOfAccountDbId ownerDbId } } }
  assets(first: 2) { edges { node { dbId ownerDbId assetGroup { dbId } owner { dbId } } } }
  supplier_deltas(first: 2) { edges { cursor node { dbId } } }
  glImportItemErrors { edges { node { dbId transactionDbId } } }
}"""


def _leaves(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v, key)
    elif value is not None:
        yield key, value


@BOTH
def test_it_writes_every_db_id_in_the_dialects_type(name):
    sb = sandbox(name)
    sb.add_record("glImportItemErrors", message="Sperret", transactionDbId=123)
    sb.add_record("suppliers", code="NY", description="Ny AS")  # one delta
    status, body = gql(client_for(sb), DB_IDS)
    assert status == 200 and "errors" not in body, body
    leaves = [(k, v) for k, v in _leaves(body["data"]) if k != "cursor"]
    assert len({k for k, _ in leaves}) == 7
    wanted = str if name == "xledger" else int
    for key, value in leaves:
        assert key.endswith(("dbId", "DbId")), key
        assert type(value) is wanted, (key, value)
        assert int(value) > 0
    cursors = [v for k, v in _leaves(body["data"]) if k == "cursor"]
    assert cursors and all(isinstance(c, str) for c in cursors)
    _, body = send(sb, [item(sb)])
    assert type(body["data"]["addGLImportItems"]["edges"][0]["node"]["dbId"]) is wanted


def test_it_takes_db_id_arguments_as_ints_in_ours():
    sb = sandbox("ours")
    _, body = gql(
        client_for(sb), "{ objectValues(filter: {objectKindDbId: 604}) { edges { cursor } } }"
    )
    assert body["data"]["objectValues"]["edges"]
    _, body = gql(
        client_for(sb), '{ objectValues(filter: {objectKindDbId: "604"}) { edges { cursor } } }'
    )
    assert body["errors"][0]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_it_takes_db_id_arguments_only_as_strings_of_digits_in_xledger():
    sb = sandbox("xledger")
    client = client_for(sb)
    literal = "{ objectValues(filter: {objectKindDbId: %s}) { edges { node { objectKindDbId } } } }"
    _, body = gql(client, literal % '"604"')
    assert {e["node"]["objectKindDbId"] for e in body["data"]["objectValues"]["edges"]} == {"604"}
    for refused in ("604", '"6O4"'):
        status, body = gql(client, literal % refused)
        assert status == 200 and "data" not in body
        assert body["errors"][0]["code"] == "GRAPHQL_VALIDATION_FAILED"
    variable = (
        "query($k: Int64String) { objectValues(filter: {objectKindDbId: $k}) { edges { cursor } } }"  # noqa: E501
    )
    assert gql(client, variable, {"k": "604"})[1]["data"]["objectValues"]["edges"]
    status, body = gql(client, variable, {"k": 604})
    assert status == 200 and "data" not in body
    # an Int variable where Int64String belongs is refused at validation
    _, body = gql(client, variable.replace("Int64String", "Int"), {"k": 604})
    assert body["errors"][0]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # inputs too: owner { dbId } as a number is refused, as a string accepted
    bad = item(sb, owner={"dbId": sb.owner_db_id})
    status, body = send(sb, [bad])
    assert status == 200 and "data" not in body and sb.imports == []
    _, body = send(sb, [item(sb)])
    assert "errors" not in body and len(sb.imports) == 1


# --- end_cursor, object_kind_code, import_item_client_id ---------------------------------------


@BOTH
def test_it_offers_end_and_start_cursors_only_in_ours(name):
    sb = sandbox(name)
    for field in ("endCursor", "startCursor"):
        _, body = gql(
            client_for(sb), f"{{ suppliers(first: 2) {{ pageInfo {{ hasNextPage {field} }} }} }}"
        )
        if name == "ours":
            assert body["data"]["suppliers"]["pageInfo"][field]
        else:
            assert body["errors"][0]["message"].startswith(f"Cannot query field '{field}'")
    _, body = gql(
        client_for(sb), "{ suppliers(first: 2) { pageInfo { hasNextPage hasPreviousPage } } }"
    )
    assert body["data"]["suppliers"]["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}


@BOTH
def test_it_offers_an_object_kind_code_only_in_ours(name):
    sb = sandbox(name)
    _, body = gql(client_for(sb), "{ objectKinds { edges { node { dbId name modifiedAt } } } }")
    assert "TAX_RULE" not in str(body) and len(body["data"]["objectKinds"]["edges"]) == 5
    _, body = gql(client_for(sb), "{ objectKinds { edges { node { code } } } }")
    if name == "ours":
        assert {e["node"]["code"] for e in body["data"]["objectKinds"]["edges"]} >= {"TAX_RULE"}
    else:
        assert body["errors"][0]["message"].startswith("Cannot query field 'code'")


@BOTH
def test_it_answers_a_stored_items_client_id_only_in_ours(name):
    sb = sandbox(name)
    _, body = send(sb, [item(sb, "c-1")])
    assert body["data"]["addGLImportItems"]["edges"][0]["clientId"] == "c-1"  # edges keep it
    query = "{ glImportItems { edges { node { extIdentifier clientId } } } }"
    _, body = gql(client_for(sb), query)
    if name == "ours":
        assert body["data"]["glImportItems"]["edges"][0]["node"]["clientId"] == "c-1"
    else:
        assert body["errors"][0]["message"].startswith("Cannot query field 'clientId'")
        _, body = gql(client_for(sb), query.replace(" clientId", ""))
        assert body["data"]["glImportItems"]["edges"][0]["node"]["extIdentifier"] == "semine-42"


# --- multipart ---------------------------------------------------------------------------------

PDF = b"%PDF-1.4 faktura " + bytes(range(256)) * 4


def _multipart(sb, parts):
    """POST a multipart body with the parts in exactly this order.

    parts: (name, filename or None, content type or None, bytes).
    """
    boundary = uuid.uuid4().hex
    chunks = []
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type is not None:
            head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + data + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    response = client_for(sb).post(
        "/graphql",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    return response.status_code, orjson.loads(response.content)


def _operations(sb, file_name):
    return orjson.dumps(
        {"query": MUTATION, "variables": {"inputs": [item(sb, invoiceFile=file_name)]}}
    )


MAP = orjson.dumps({"0": ["variables.inputs.0.node.invoiceFile"]})


def _stored_file(sb):
    (stored,) = sb.imports
    return stored["invoiceFile"], stored["invoiceFileSize"]


def test_it_reads_the_spec_form_in_ours():
    sb = sandbox("ours")
    status, body = _multipart(
        sb,
        [
            ("operations", None, None, _operations(sb, None)),
            ("map", None, None, MAP),
            ("0", "faktura.pdf", "application/pdf", PDF),
        ],
    )
    assert status == 200 and "errors" not in body, body
    assert _stored_file(sb) == ("faktura.pdf", len(PDF))


def test_it_reads_xledgers_form_in_ours_too_when_it_names_its_parts_like_the_spec():
    sb = sandbox("ours")
    status, body = _multipart(
        sb,
        [
            ("0", "faktura.pdf", "application/pdf", PDF),
            ("operations", "operations.json", "application/json", _operations(sb, "faktura.pdf")),
        ],
    )
    assert status == 200 and "errors" not in body, body
    assert _stored_file(sb) == ("faktura.pdf", len(PDF))


def test_it_reads_files_first_and_the_json_part_last_in_xledger():
    sb = sandbox("xledger")
    status, body = _multipart(
        sb,
        [
            ("file", "faktura.pdf", "application/pdf", PDF),
            ("request", "request.json", "application/json", _operations(sb, "faktura.pdf")),
        ],
    )
    assert status == 200 and "errors" not in body, body
    assert _stored_file(sb) == ("faktura.pdf", len(PDF))


def test_it_loses_a_file_sent_after_the_json_part_in_xledger():
    sb = sandbox("xledger")
    status, body = _multipart(
        sb,
        [
            ("request", None, "application/json", _operations(sb, "faktura.pdf")),
            ("file", "faktura.pdf", "application/pdf", PDF),
        ],
    )
    assert status == 200 and "errors" not in body, body
    assert _stored_file(sb) == (None, None)  # imported, but without its file


def test_it_loses_the_file_of_a_spec_client_in_xledger():
    sb = sandbox("xledger")
    status, body = _multipart(
        sb,
        [
            ("operations", None, "application/json", _operations(sb, None)),
            ("map", None, None, MAP),
            ("0", "faktura.pdf", "application/pdf", PDF),
        ],
    )
    assert status == 200 and "errors" not in body, body
    assert _stored_file(sb) == (None, None)


@BOTH
def test_it_takes_a_file_named_in_the_mutation_with_a_map_in_both(name):
    """The contract's form: files first, a map, the JSON part last, and the name in the node."""
    sb = sandbox(name)
    status, body = _multipart(
        sb,
        [
            ("0", "faktura.pdf", "application/pdf", PDF),
            ("map", None, "application/json", MAP),
            ("operations", "operations.json", "application/json", _operations(sb, "faktura.pdf")),
        ],
    )
    assert status == 200 and "errors" not in body, body
    assert _stored_file(sb) == ("faktura.pdf", len(PDF))


# --- missing_scope and revoked -----------------------------------------------------------------

PROBE = "{ s: suppliers(first: 1) { edges { cursor } } c: currencies(first: 1) { edges { cursor } } d: supplier_deltas { edges { cursor } } }"  # noqa: E501


def test_it_answers_the_fields_in_scope_and_nulls_the_others_in_ours():
    sb = sandbox("ours")
    status, body = gql(client_for(sb, "no_suppliers"), PROBE)
    assert status == 200
    assert body["data"]["s"] is None and body["data"]["d"] is None and body["data"]["c"]
    assert sorted(e["path"] for e in body["errors"]) == [["d"], ["s"]]


def test_it_answers_data_null_when_any_field_is_out_of_scope_in_xledger():
    sb = sandbox("xledger")
    status, body = gql(client_for(sb, "no_suppliers"), PROBE)
    assert status == 200
    assert body["data"] is None
    assert sorted(e["path"] for e in body["errors"]) == [["d"], ["s"]]
    assert {e["code"] for e in body["errors"]} == {"FORBIDDEN"}
    _, body = gql(
        client_for(sb, "no_suppliers"), "{ c: currencies(first: 1) { edges { cursor } } }"
    )
    assert body["data"]["c"]["edges"]


@BOTH
def test_it_answers_an_unknown_or_revoked_token_in_the_dialects_way(name):
    sb = sandbox(name)
    for token in (sb.demo_tokens["revoked"], "A" * 36):
        status, body = gql(client_for(sb, token=token), "{ currencies { edges { cursor } } }")
        if name == "ours":
            assert status == 401
            assert body == {"errors": [{"message": "Invalid API token", "code": "UNAUTHENTICATED"}]}
        else:
            assert status == 200
            assert body == {
                "data": None,
                "errors": [{"message": "Access denied. The API token is not valid."}],
            }
    response = client_for(sb).post(
        "/graphql",
        json={"query": "{ currencies { edges { cursor } } }"},
        headers={"Authorization": "Bearer x"},
    )
    assert response.status_code == 401  # a malformed header is refused alike in both


# --- batch_errors, transaction sources, empty batch -------------------------------------------


def _batch(sb):
    return send(
        sb,
        [
            item(sb, "ok-1", extIdentifier="e-1"),
            item(sb, "bad-account", account={"code": "9999"}),
            item(sb, "ok-2", extIdentifier="e-2"),
        ],
    )


def test_it_stores_the_good_inputs_and_names_the_bad_ones_by_client_id_in_ours():
    sb = sandbox("ours")
    status, body = _batch(sb)
    assert status == 200
    assert [e["clientId"] for e in body["data"]["addGLImportItems"]["edges"]] == ["ok-1", "ok-2"]
    (error,) = body["errors"]
    assert error["extensions"] == {"clientId": "bad-account"}
    assert error["path"] == ["addGLImportItems"]
    assert len(sb.imports) == 2


def test_it_refuses_the_whole_batch_in_xledger():
    sb = sandbox("xledger")
    status, body = _batch(sb)
    assert status == 200
    assert body["data"] == {"addGLImportItems": None}
    (error,) = body["errors"]
    assert error["code"] == "BAD_REQUEST.VALIDATION"
    assert error["path"] == ["addGLImportItems", "inputs", 1]
    assert "extensions" not in error and "9999" in error["message"]
    assert sb.imports == []
    _, body = send(sb, [item(sb, "ok-1"), item(sb, "ok-2")])
    assert len(body["data"]["addGLImportItems"]["edges"]) == 2 and len(sb.imports) == 2


def test_it_stores_the_good_inputs_and_names_the_bad_ones_by_index_when_asked():
    sb = sandbox("ours,batch_errors=partial_by_index")
    _, body = _batch(sb)
    assert [e["clientId"] for e in body["data"]["addGLImportItems"]["edges"]] == ["ok-1", "ok-2"]
    (error,) = body["errors"]
    assert error["path"] == ["addGLImportItems", "inputs", 1] and "extensions" not in error
    assert len(sb.imports) == 2


def test_it_takes_any_transaction_source_in_ours():
    sb = sandbox("ours")
    _, body = send(sb, [item(sb, transactionSource={"code": "AP"})])
    assert "errors" not in body and len(sb.imports) == 1


def test_it_requires_a_known_transaction_source_in_xledger():
    sb = sandbox("xledger")
    assert set(sb.transaction_sources) >= {"LEV", "IMP", "SEMINE"}
    _, body = send(sb, [item(sb, transactionSource={"code": "AP"})])
    assert "unknown transactionSource 'AP'" in body["errors"][0]["message"]
    _, body = send(sb, [item(sb, "2")])  # SEMINE
    assert "errors" not in body and len(sb.imports) == 1
    sb.set_transaction_sources(["LEV", "IMP"])
    _, body = send(sb, [item(sb, "3")])
    assert "unknown transactionSource 'SEMINE'" in body["errors"][0]["message"]
    assert len(sb.imports) == 1


EMPTY = "mutation { addGLImportItems(inputs: []) { edges { clientId } } }"


def test_it_answers_an_empty_batch_with_no_edges_in_ours():
    sb = sandbox("ours")
    assert gql(client_for(sb), EMPTY) == (200, {"data": {"addGLImportItems": {"edges": []}}})
    _, body = gql(client_for(sb, "read_only"), EMPTY)
    assert body["errors"][0]["code"] == "FORBIDDEN"


def test_it_refuses_an_empty_batch_before_any_permission_check_in_xledger():
    sb = sandbox("xledger")
    for token in ("full", "read_only"):
        status, body = gql(client_for(sb, token), EMPTY)
        assert status == 200
        assert body["data"] == {"addGLImportItems": None}
        assert body["errors"][0]["code"] == "BAD_REQUEST.VALIDATION"
        assert "empty" in body["errors"][0]["message"]


@BOTH
def test_it_forbids_a_non_empty_batch_without_the_write_scope(name):
    sb = sandbox(name)
    status, body = send(sb, [item(sb)], token="read_only")
    assert status == 200
    assert body["errors"][0]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["addGLImportItems"]
    assert sb.imports == []


# --- page_order and last_semantics ------------------------------------------------------------


def test_it_pages_in_db_id_order_with_db_id_cursors_in_ours():
    sb = sandbox("ours", suppliers=120)
    _, body = gql(client_for(sb), "{ suppliers(first: 50) { edges { cursor node { dbId } } } }")
    edges = body["data"]["suppliers"]["edges"]
    ids = [e["node"]["dbId"] for e in edges]
    assert ids == sorted(ids)
    assert all(e["cursor"] == str(e["node"]["dbId"]) for e in edges)


def test_it_pages_in_a_stable_shuffled_order_with_opaque_cursors_in_xledger():
    sb = sandbox("xledger", suppliers=120)
    client = client_for(sb)
    _, body = gql(client, "{ suppliers(first: 50) { edges { cursor node { dbId } } } }")
    edges = body["data"]["suppliers"]["edges"]
    ids = [int(e["node"]["dbId"]) for e in edges]
    assert ids != sorted(ids)
    assert all(e["cursor"] != e["node"]["dbId"] and not e["cursor"].isdigit() for e in edges)
    assert gql(client, "{ suppliers(first: 50) { edges { cursor node { dbId } } } }")[1] == body
    nodes, requests = all_pages(client, "suppliers", "dbId", first=25)
    assert requests == 5 and len(nodes) == len({n["dbId"] for n in nodes}) == 120
    # records added later are still reached by paging
    added = {sb.add_record("suppliers", code=f"N{i}", description="Ny AS") for i in range(10)}
    nodes, _ = all_pages(client, "suppliers", "dbId", first=25)
    assert added <= {int(n["dbId"]) for n in nodes} and len(nodes) == 130
    # before: the records ahead of a cursor, in the same order
    after = [n["dbId"] for n in nodes]
    query = "query($b: String) { suppliers(last: 5, before: $b) { edges { node { dbId } } } }"
    _, page = gql(client, "{ suppliers(first: 30) { edges { cursor } } }")
    cursor = page["data"]["suppliers"]["edges"][29]["cursor"]
    _, body = gql(client, query, {"b": cursor})
    # (last_semantics="forward" changes only a last without before)
    assert [e["node"]["dbId"] for e in body["data"]["suppliers"]["edges"]] == after[24:29]
    _, body = gql(client, '{ suppliers(after: "1000001") { edges { cursor } } }')
    assert body["errors"][0]["code"] == "BAD_REQUEST"


@BOTH
def test_it_reads_last_without_before_in_the_dialects_way(name):
    sb = sandbox(name, suppliers=40)
    client = client_for(sb)
    _, body = gql(client, "{ suppliers(first: 40) { edges { node { dbId } } } }")
    every = [e["node"]["dbId"] for e in body["data"]["suppliers"]["edges"]]
    _, body = gql(
        client,
        "{ suppliers(last: 3) { edges { node { dbId } } "
        "pageInfo { hasNextPage hasPreviousPage } } }",
    )
    page = body["data"]["suppliers"]
    got = [e["node"]["dbId"] for e in page["edges"]]
    if name == "ours":
        assert got == every[-3:]
        assert page["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    else:
        assert got == every[:3]
        assert page["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}


# --- reset_at ----------------------------------------------------------------------------------


@BOTH
def test_it_writes_reset_at_in_the_dialects_way(name):
    sb = sandbox(name)
    sb.set_fault("credits_exhausted", count=1)
    status, body = gql(client_for(sb), "{ currencies { edges { cursor } } }")
    assert status == 200 and body["data"] is None
    reset_at = body["errors"][0]["extensions"]["resetAt"]
    if name == "ours":
        assert datetime.fromisoformat(reset_at) == datetime(2026, 5, 1, 10, 20, tzinfo=UTC)
    else:
        assert reset_at == "2026-05-01T12:20:00"  # CEST wall time, no offset


# --- for every dialect: tax table setups over time, assets by owner, faults ----------------------


@BOTH
def test_it_seeds_vat_codes_with_rates_over_time(name):
    sb = sandbox(name)
    query = "{ taxTableSetups(first: 1000) { edges { node { dbId objectValueDbId taxPercent dateFrom } } } }"  # noqa: E501
    _, body = gql(client_for(sb), query)
    setups = [e["node"] for e in body["data"]["taxTableSetups"]["edges"]]
    by_value: dict = {}
    for setup in sorted(setups, key=lambda s: int(s["dbId"])):
        by_value.setdefault(setup["objectValueDbId"], []).append(setup)
    assert all(s["dateFrom"] for s in setups)
    several = {v: s for v, s in by_value.items() if len(s) >= 2}
    assert len(several) >= 3
    today = NOW.date()
    future = [s for s in setups if date.fromisoformat(s["dateFrom"]) > today]
    assert future, "a rate change announced for a date after the sandbox clock"
    for setup in future:
        history = by_value[setup["objectValueDbId"]]
        in_force = max(
            (s for s in history if date.fromisoformat(s["dateFrom"]) <= today),
            key=lambda s: s["dateFrom"],
        )
        assert in_force["taxPercent"] != setup["taxPercent"]
    unordered = [
        history
        for history in by_value.values()
        if [s["dateFrom"] for s in history] != sorted(s["dateFrom"] for s in history)
    ]
    assert unordered, "a later-dbId setup with an earlier dateFrom"
    values = {r["dbId"]: r["code"] for r in sb.records("objectValues")}
    rates = {
        values[int(v)]: [(s["taxPercent"], s["dateFrom"]) for s in history]
        for v, history in by_value.items()
    }
    assert rates["3"][0] == (25.0, "2016-01-01") and rates["3"][1][0] == 26.0
    assert rates["11"] == [(14.0, "2016-01-01"), (15.0, "2018-01-01")]


@BOTH
def test_it_gives_assets_an_owner_and_scopes_them(name):
    sb = sandbox(name, clients=3)
    query = "{ assets%s { edges { node { dbId ownerDbId owner { dbId code description } } } } }"
    _, body = gql(client_for(sb), query % "")
    nodes = [e["node"] for e in body["data"]["assets"]["edges"]]
    owners = [int(n["ownerDbId"]) for n in nodes]
    assert all(int(n["owner"]["dbId"]) == int(n["ownerDbId"]) and n["owner"]["code"] for n in nodes)
    on_clients = sum(1 for o in owners if o != sb.owner_db_id)
    assert on_clients > len(owners) - on_clients > 0
    _, body = gql(client_for(sb), query % "(ownerSet: CURRENT)")
    assert {int(e["node"]["ownerDbId"]) for e in body["data"]["assets"]["edges"]} == {
        sb.owner_db_id
    }
    _, body = gql(client_for(sb, "client"), query % "")
    assert {int(e["node"]["ownerDbId"]) for e in body["data"]["assets"]["edges"]} == {
        sb.client_entity_ids[0]
    }


@BOTH
@pytest.mark.parametrize("status", [None, 503])
def test_it_answers_maintenance(name, status):
    sb = sandbox(name)
    params = {} if status is None else {"status": status}
    sb.set_fault("maintenance", count=1, **params)
    code, body = gql(client_for(sb), "{ currencies { edges { cursor } } }")
    assert code == (status or 200)
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Xledger is undergoing maintenance. Please try again later.",
                "code": "SERVICE_UNAVAILABLE",
            }
        ],
    }
    assert gql(client_for(sb), "{ currencies { edges { cursor } } }")[0] == 200


TIMED = {
    "taxTableSetups": "taxTableSetups(first: %d) { edges { cursor } }",
    "objectKinds": "objectKinds(first: %d) { edges { cursor } }",
    "objectValues": "objectValues(first: %d) { edges { cursor } }",
    "glImportItems": "glImportItems(first: %d) { edges { cursor } }",
}


@BOTH
@pytest.mark.parametrize("field", TIMED)
def test_it_times_out_one_field_until_the_page_is_small_enough(name, field):
    sb = sandbox(name)
    sb.set_fault("query_timeout", field=field, min_first=500)
    client = client_for(sb)
    other = next(f for f in TIMED if f != field)
    assert "errors" not in gql(client, "{ %s }" % (TIMED[other] % 10000))[1]
    for first in (10000, 5000, 1000):
        _, body = gql(client, "{ %s }" % (TIMED[field] % first))
        assert body == {
            "data": None,
            "errors": [{"message": "Your query timed out.", "code": "BAD_REQUEST.QUERY_TIMEOUT"}],
        }
    _, body = gql(client, "{ %s }" % (TIMED[field] % 500))
    assert "errors" not in body and body["data"][field] is not None
    # a variable counts like a literal; no first means the default page (1,000)
    query = "query($n: Int) { " + (TIMED[field] % 0).replace("first: 0", "first: $n") + " }"
    assert gql(client, query, {"n": 800})[1]["data"] is None
    assert gql(client, query, {"n": 250})[1]["data"][field] is not None
    _, body = gql(client, f"{{ {field} {{ edges {{ cursor }} }} }}")
    assert body["data"] is None


def test_it_keeps_a_timeout_without_min_first_for_every_page_size():
    sb = sandbox("ours")
    sb.set_fault("query_timeout", count=2, field="objectValues")
    client = client_for(sb)
    assert gql(client, "{ objectValues(first: 1) { edges { cursor } } }")[1]["data"] is None
    assert gql(client, "{ objectValues(first: 1) { edges { cursor } } }")[1]["data"] is None
    assert gql(client, "{ objectValues(first: 1) { edges { cursor } } }")[1]["data"]
