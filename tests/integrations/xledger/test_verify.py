"""verify(): the token checklist, against a scripted Xledger (the sandbox has its own tests)."""

import json

import httpx
import pytest

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import RateLimited, TransientError
from integrations.xledger.verify import DATASET_CHECKS, Verification, verify

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
OWNER = {"dbId": 10001, "code": "SEM", "description": "Semine Demo AS"}


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


def fake_xledger(*, me=None, forbidden=(), write_forbidden=False, status=200, invalid=()):
    """Answers the verify probes. `forbidden` aliases get FORBIDDEN; `invalid` aliases make
    the combined query fail validation, as a schema without that field would."""
    me = me or entity(10001, "SEM")
    seen = []

    def handler(request):
        body = json.loads(request.content)
        seen.append(body["query"])
        if status != 200:
            return httpx.Response(status, json={"errors": [{"message": "Invalid API token"}]})
        if "mutation" in body["query"]:
            if write_forbidden:
                return httpx.Response(
                    200,
                    json={
                        "data": {"addGLImportItems": None},
                        "errors": [
                            {"message": "No", "code": "FORBIDDEN", "path": ["addGLImportItems"]}
                        ],
                    },
                )
            return httpx.Response(200, json={"data": {"addGLImportItems": {"edges": []}}})
        aliases = [a for a in queries.VERIFY_READ_PROBES if f"{a}: " in body["query"]]
        bad = [a for a in aliases if a in invalid]
        if bad:
            return httpx.Response(
                200, json={"errors": [{"message": f'Cannot query field "{bad[0]}" on "Query".'}]}
            )
        values = {
            "me": connection(me),
            "clients": connection(entity(10002, "C1"), entity(10003, "C2")),
            "objectKinds": connection(
                {"dbId": 1, "code": "TAX_RULE", "name": "Tax rule"},
                {"dbId": 2, "code": "DEPT", "name": "Department"},
            ),
        }
        data, errors = {}, []
        for alias in aliases:
            if alias in forbidden:
                data[alias] = None
                errors.append({"message": "No", "code": "FORBIDDEN", "path": [alias]})
            else:
                data[alias] = values.get(alias, connection({"dbId": 1}))
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
    assert [k["code"] for k in result.object_kinds] == ["TAX_RULE", "DEPT"]
    assert all(c.ok and c.fix == "" for c in result.checks)


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


def test_it_fails_a_token_made_in_a_client_entity():
    handler, _ = fake_xledger(me=entity(10002, "C1"))
    result = run(handler)
    assert result.owner_matches
    token_entity = checks(result)["token_entity"]
    assert not token_entity.ok
    assert "10002" in token_entity.fix
    assert not result.ok


def test_it_names_the_missing_read_scope_in_the_fix():
    handler, _ = fake_xledger(forbidden=("suppliers",))
    result = run(handler)
    assert not result.ok
    suppliers = checks(result)["suppliers"]
    assert not suppliers.ok
    assert "Administration → Access Control → GraphQL → API tokens" in suppliers.fix
    assert "read access for Suppliers" in suppliers.fix
    assert checks(result)["currencies"].ok


def test_it_fails_fixed_assets_only_when_the_customer_has_them():
    handler, _ = fake_xledger(forbidden=("assets",))
    assert run(handler).ok
    assert not run(handler, fixed_assets=True).ok


def test_it_names_the_missing_write_scope():
    handler, _ = fake_xledger(write_forbidden=True)
    result = run(handler)
    invoices = checks(result)["invoices"]
    assert not invoices.ok
    assert "write access for GL import items" in invoices.fix


def test_it_returns_a_rejected_token_as_a_failed_check():
    handler, seen = fake_xledger(status=401)
    result = run(handler)
    assert not result.ok
    assert [c.key for c in result.checks] == ["token"]
    assert "did not accept the token" in result.checks[0].fix
    assert len(seen) == 1


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
    assert "SEMINE support" in suppliers.fix
    assert checks(result)["currencies"].ok
    assert result.owner_matches
    assert result.requests == 1 + len(queries.VERIFY_READ_PROBES) + 1


def test_it_round_trips_through_json():
    handler, _ = fake_xledger(forbidden=("accounts",))
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
