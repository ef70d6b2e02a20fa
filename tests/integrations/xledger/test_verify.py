"""verify(): the token checklist, against a scripted Xledger (the sandbox has its own tests)."""

import json

import httpx
import pytest

from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import RateLimited, TransientError
from integrations.xledger.verify import DATASET_CHECKS, Verification, verify

from .documents import root_fields

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
OWNER = {"dbId": 10001, "code": "SEM", "description": "Semine Demo AS"}
REVOKED = {"data": None, "errors": [{"message": "Access denied. The API token is not valid."}]}
# What the probe asks without fixed assets, and with them.
NEEDED = [
    "me",
    "clients",
    "objectKinds",
    "suppliers",
    "supplierDeltas",
    "currencies",
    "objectValues",
    "taxTableSetups",
    "accounts",
    "glImportItems",
]
WITH_ASSETS = [*NEEDED[:-1], "assets", "glImportItems"]


def entity(db_id, code, owner=OWNER):
    return {
        "dbId": db_id,
        "code": code,
        "description": f"Entity {code}",
        "company": {"companyNumber": f"9{db_id}"},
        "owner": owner,
        "parent": None,
    }


def connection(*nodes):
    return {"edges": [{"node": n} for n in nodes], "pageInfo": {"hasNextPage": False}}


def as_strings(value):
    """Every dbId as a string of digits, as an Int64String server answers them."""
    if isinstance(value, dict):
        return {k: str(v) if k == "dbId" else as_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_strings(v) for v in value]
    return value


WRITE_ANSWERS = {
    "ok": httpx.Response(200, json={"data": {"addGLImportItems": {"edges": []}}}),
    "forbidden": httpx.Response(
        200,
        json={
            "data": {"addGLImportItems": None},
            "errors": [{"message": "No", "code": "FORBIDDEN", "path": ["addGLImportItems"]}],
        },
    ),
    "http403": httpx.Response(403, json={"errors": [{"message": "Forbidden"}]}),
    "empty-invalid": httpx.Response(
        200,
        json={
            "data": None,
            "errors": [{"message": "inputs must not be empty", "code": "BAD_REQUEST.VALIDATION"}],
        },
    ),
    "invalid-value": httpx.Response(
        200, json={"errors": [{"message": "Expected a non-empty list", "code": "INVALID_VALUE"}]}
    ),
    "schema": httpx.Response(
        200,
        json={"errors": [{"message": "Cannot query field 'clientId' on type 'AddGLImportEdge'."}]},
    ),
    "unheard-of": httpx.Response(200, json={"errors": [{"message": "?", "code": "SOMETHING"}]}),
    "revoked": httpx.Response(200, json=REVOKED),
}


def fake_xledger(
    *,
    me=None,
    forbidden=(),
    write="ok",
    status=200,
    invalid=(),
    missing_scope="partial",
    string_ids=False,
):
    """Answers the verify probes as a server of that reading would.

    `forbidden` aliases get FORBIDDEN (with the other fields answered, or `data: null` for the
    whole request when `missing_scope="null"`); `invalid` aliases make the query fail validation,
    as a schema without that field would; so does asking an object kind's `code`. `write` picks
    the answer to the empty batch. `string_ids` answers dbIds as strings of digits.
    """
    me = me or entity(10001, "SEM")
    seen = []

    def handler(request):
        body = json.loads(request.content)
        seen.append(body["query"])
        if status != 200:
            return httpx.Response(status, json={"errors": [{"message": "Invalid API token"}]})
        if body["query"].lstrip().startswith("mutation"):
            return WRITE_ANSWERS[write]
        fields = {f.key: f for f in root_fields(body["query"])}
        bad = [a for a in fields if a in invalid]
        if "objectKinds" in fields and "code" in fields["objectKinds"].selected("edges", "node"):
            bad.append("ObjectKind.code")
        if bad:
            message = f"Cannot query field '{bad[0]}' on type 'Query'."
            return httpx.Response(200, json={"data": None, "errors": [{"message": message}]})
        values = {
            "me": connection(me),
            "clients": connection(entity(10002, "C1"), entity(10003, "C2")),
            "objectKinds": connection(
                {"dbId": 14, "name": "Merverdiavgift", "modifiedAt": "2026-01-01T00:00:00"},
                {"dbId": 2, "name": "Department", "modifiedAt": "2026-01-01T00:00:00"},
            ),
        }
        data, errors = {}, []
        for alias in fields:
            if alias in forbidden:
                data[alias] = None
                errors.append({"message": "No", "code": "FORBIDDEN", "path": [alias]})
            else:
                data[alias] = values.get(alias, connection({"dbId": 1}))
        if string_ids:
            data = as_strings(data)
        if errors and missing_scope == "null":
            return httpx.Response(200, json={"data": None, "errors": errors})
        answer = {"data": data}
        if errors:
            answer["errors"] = errors
        return httpx.Response(200, json=answer)

    return handler, seen


def run(handler, owner=10001, **kwargs):
    client = XledgerClient(
        TOKEN,
        url="https://xledger.test/graphql",
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        max_attempts=2,
    )
    with client:
        return verify(client, owner, **kwargs)


def checks(result):
    return {c.key: c for c in result.checks}


def asked(document):
    return [f.key for f in root_fields(document)]


def test_it_passes_a_good_token_in_two_requests():
    handler, seen = fake_xledger()
    result = run(handler)
    assert result.ok
    assert result.requests == 2
    assert len(seen) == 2
    assert result.owner == {"dbId": 10001, "code": "SEM", "description": "Semine Demo AS"}
    assert result.owner_matches
    assert [(e["dbId"], e["is_owner"]) for e in result.entities] == [
        (10001, True),
        (10002, False),
        (10003, False),
    ]
    assert result.entities[1]["companyNumber"] == "910002"
    assert all(c.ok and c.fix == "" for c in result.checks)


def test_it_keys_object_kinds_by_their_db_id_without_asking_for_a_code():
    handler, seen = fake_xledger()  # a schema whose ObjectKind has no code: asking would fail
    result = run(handler)
    assert result.object_kinds == [
        {"dbId": 14, "code": "14", "name": "Merverdiavgift"},
        {"dbId": 2, "code": "2", "name": "Department"},
    ]
    assert result.requests == 2


def test_it_probes_only_the_scopes_the_customer_needs():
    handler, seen = fake_xledger()
    run(handler)
    run(handler, fixed_assets=True)
    assert asked(seen[0]) == NEEDED
    assert asked(seen[2]) == WITH_ASSETS
    assert "assets" not in seen[0]


def test_it_checks_every_required_dataset_and_fixed_assets_only_when_asked():
    handler, _ = fake_xledger()
    required = {d.key for d in DATASET_CHECKS if d.required}
    assert required == {
        "suppliers",
        "currencies",
        "dimensions",
        "vat_codes",
        "accounts",
        "invoices",
    }
    assert required <= set(checks(run(handler)))
    assert "fixed_assets" not in checks(run(handler))
    assert checks(run(handler, fixed_assets=True))["fixed_assets"].ok


def test_it_says_which_owner_the_token_belongs_to():
    handler, _ = fake_xledger()
    result = run(handler, owner=20002)
    assert not result.ok
    assert not result.owner_matches
    owner_check = checks(result)["owner"]
    assert not owner_check.ok
    assert "10001" in owner_check.fix
    assert "20002" in owner_check.fix


def test_it_reads_db_ids_given_as_strings_of_digits():
    handler, _ = fake_xledger(string_ids=True)
    result = run(handler, owner="10001")
    assert result.ok, [c.fix for c in result.checks if not c.ok]
    assert checks(result)["owner"].ok
    assert checks(result)["token_entity"].ok
    assert result.owner_matches
    assert result.owner["dbId"] == 10001
    assert [(e["dbId"], e["is_owner"]) for e in result.entities] == [
        (10001, True),
        (10002, False),
        (10003, False),
    ]
    assert [(k["dbId"], k["code"]) for k in result.object_kinds] == [(14, "14"), (2, "2")]


def test_it_names_a_string_db_id_owner_that_differs():
    handler, _ = fake_xledger(string_ids=True)
    result = run(handler, owner=20002)
    assert not checks(result)["owner"].ok
    assert checks(result)["owner"].params["found"] == 10001


def test_it_fails_a_token_made_in_a_client_entity():
    handler, _ = fake_xledger(me=entity(10002, "C1"))
    result = run(handler)
    assert result.owner_matches
    token_entity = checks(result)["token_entity"]
    assert not token_entity.ok
    assert "10002" in token_entity.fix
    assert not result.ok


def test_it_fails_a_token_made_in_a_client_entity_with_string_db_ids():
    handler, _ = fake_xledger(me=entity(10002, "C1"), string_ids=True)
    result = run(handler)
    token_entity = checks(result)["token_entity"]
    assert not token_entity.ok
    assert token_entity.params["entity"] == 10002
    assert token_entity.params["owner"] == 10001


def test_it_names_the_missing_read_scope_in_the_fix():
    handler, _ = fake_xledger(forbidden=("suppliers",))
    result = run(handler)
    assert not result.ok
    suppliers = checks(result)["suppliers"]
    assert not suppliers.ok
    assert "Administration → Access Control → GraphQL → API tokens" in suppliers.fix
    assert "read access for Suppliers" in suppliers.fix
    assert checks(result)["currencies"].ok
    assert result.requests == 2


def test_it_probes_one_by_one_when_a_missing_scope_empties_the_whole_answer():
    handler, seen = fake_xledger(forbidden=("suppliers",), missing_scope="null")
    result = run(handler)
    assert [c.key for c in result.checks if not c.ok] == ["suppliers"]
    assert checks(result)["suppliers"].params == {
        "problem": "scope",
        "scopes": "Suppliers (and Supplier deltas)",
        "access": "read",
    }
    assert result.owner_matches
    assert [asked(q) for q in seen[1:-1]] == [[alias] for alias in NEEDED]
    assert result.requests == 1 + len(NEEDED) + 1


def test_it_fails_fixed_assets_only_when_the_customer_has_them():
    handler, seen = fake_xledger(forbidden=("assets",))
    assert run(handler).ok
    assert not any("assets" in q for q in seen)
    assert not run(handler, fixed_assets=True).ok


@pytest.mark.parametrize("write", ["forbidden", "http403"])
def test_it_names_the_missing_write_scope_on_a_permission_answer(write):
    handler, _ = fake_xledger(write=write)
    result = run(handler)
    invoices = checks(result)["invoices"]
    assert not invoices.ok
    assert invoices.params["access"] == "write"
    assert "write access for GL import items" in invoices.fix
    assert not result.ok


@pytest.mark.parametrize(
    ("write", "requests"),
    [
        ("empty-invalid", 2),
        ("invalid-value", 2),
        ("schema", 2),
        ("unheard-of", 3),  # an unexplained error is retried (max_attempts=2) before giving up
    ],
)
def test_it_calls_the_write_scope_unknown_on_any_other_answer_and_does_not_block(write, requests):
    handler, seen = fake_xledger(write=write)
    result = run(handler)
    invoices = checks(result)["invoices"]
    assert invoices.ok
    assert invoices.params["problem"] == "write_unknown"
    assert invoices.params["message"]
    assert "cannot tell whether the token may write" in invoices.fix
    assert "first invoice confirms it" in invoices.describe()[1]
    assert result.ok
    assert len(seen) == result.requests == requests


def test_an_unknown_write_scope_does_not_hide_a_missing_read_scope():
    handler, _ = fake_xledger(write="empty-invalid", forbidden=("glImportItems",))
    invoices = checks(run(handler))["invoices"]
    assert not invoices.ok
    assert invoices.params == {"problem": "scope", "scopes": "GL import items", "access": "read"}


def test_a_missing_write_and_read_scope_asks_for_both():
    handler, _ = fake_xledger(write="forbidden", forbidden=("glImportItems",))
    invoices = checks(run(handler))["invoices"]
    assert invoices.params["access"] == "read_write"
    assert "read and write access for GL import items" in invoices.fix


def test_it_returns_a_rejected_token_as_a_failed_check():
    handler, seen = fake_xledger(status=401)
    result = run(handler)
    assert not result.ok
    assert [c.key for c in result.checks] == ["token"]
    assert "did not accept the token" in result.checks[0].fix
    assert len(seen) == 1


def test_it_returns_a_token_revoked_with_http_200_as_a_failed_check():
    def handler(request):
        return httpx.Response(200, json=REVOKED)

    result = run(handler)
    assert [(c.key, c.ok) for c in result.checks] == [("token", False)]
    assert "The API token is not valid" in result.checks[0].params["message"]
    assert result.requests == 1


def test_it_returns_a_token_revoked_before_the_write_probe_as_a_failed_check():
    handler, seen = fake_xledger(write="revoked")
    result = run(handler)
    assert [(c.key, c.ok) for c in result.checks] == [("token", False)]
    assert len(seen) == 2


def test_it_raises_when_xledger_cannot_be_reached():
    def handler(request):
        raise httpx.ConnectError("refused")

    with pytest.raises(TransientError):
        run(handler)


def test_it_raises_rate_limits():
    def handler(request):
        return httpx.Response(429, headers={"Retry-After": "600"})

    with pytest.raises(RateLimited):
        run(handler)


def test_it_falls_back_to_one_probe_at_a_time_when_the_schema_differs():
    handler, seen = fake_xledger(invalid=("supplierDeltas",))
    result = run(handler)
    suppliers = checks(result)["suppliers"]
    assert not suppliers.ok
    assert suppliers.params["problem"] == "refused"
    assert "SEMINE support" in suppliers.fix
    assert checks(result)["currencies"].ok
    assert result.owner_matches
    assert result.requests == 1 + len(NEEDED) + 1


def test_it_round_trips_through_json():
    handler, _ = fake_xledger(forbidden=("accounts",), write="empty-invalid")
    result = run(handler)
    as_json = json.loads(json.dumps(result.to_dict()))
    assert Verification.from_dict(as_json) == result
    assert as_json["checks"][0] == {
        "key": "token",
        "label": "The API token is accepted",
        "ok": True,
        "fix": "",
        "params": {},
    }
    accounts = next(c for c in as_json["checks"] if c["key"] == "accounts")
    assert accounts["params"] == {"problem": "scope", "scopes": "Accounts", "access": "read"}
    invoices = next(c for c in as_json["checks"] if c["key"] == "invoices")
    assert invoices["ok"]
    assert invoices["params"]["problem"] == "write_unknown"
    assert invoices["fix"]  # the note, in English, for staff screens
