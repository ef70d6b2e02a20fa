import httpx
import pytest

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for, gql


def test_it_adds_changes_and_deletes_records_from_python():
    sb = Sandbox(dialect="ours", suppliers=3, burst_limit=False)
    db_id = sb.add_record(
        "suppliers",
        code="77",
        description="Tromsø Snøbrøyting AS",
        company={"companyNumber": "987654321"},
        owner={"dbId": sb.client_entity_ids[1]},
    )
    record = next(r for r in sb.records("suppliers") if r["dbId"] == db_id)
    assert record["company"] == {"companyNumber": "987654321"}
    assert record["ownerDbId"] == sb.client_entity_ids[1]
    assert record["owner"]["dbId"] == sb.client_entity_ids[1]
    sb.change_record("suppliers", db_id, email="faktura@snø.no")
    _, body = gql(
        client_for(sb), "{ suppliers(ownerSet: LOWER) { edges { node { dbId email } } } }"
    )
    assert {"dbId": db_id, "email": "faktura@snø.no"} in [
        e["node"] for e in body["data"]["suppliers"]["edges"]
    ]
    sb.delete_record("suppliers", db_id)
    assert db_id not in [r["dbId"] for r in sb.records("suppliers")]


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("currencies", {"code": "THB", "description": "Thai baht"}),
        ("objectKinds", {"code": "AKTIVITET", "name": "Aktivitet"}),
        ("objectValues", {"code": "99", "description": "Ny avdeling", "objectKindDbId": 601}),
        ("taxTableSetups", {"objectValueDbId": 20001, "taxPercent": 25}),
        ("accounts", {"code": "6999", "description": "Annen kostnad"}),
        ("assets", {"code": "9001", "description": "Ny varebil", "assetStatus": "Aktiv"}),
    ],
)
def test_it_adds_every_editable_kind(kind, fields):
    sb = Sandbox(dialect="ours", suppliers=1)
    db_id = sb.add_record(kind, **fields)
    record = next(r for r in sb.records(kind) if r["dbId"] == db_id)
    assert record["code" if "code" in fields else "objectValueDbId"] == fields.get(
        "code", fields.get("objectValueDbId")
    )


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValueError):
        Sandbox(dialect="ours", suppliers=1).add_record("entities", code="x")


def test_it_offers_the_same_control_over_http():
    sb = Sandbox(dialect="ours", suppliers=3, burst_limit=False)
    token = sb.demo_tokens["full"]
    with sb.serve(port=0) as url, httpx.Client(timeout=5) as http:
        base = url.removesuffix("/graphql") + "/_sandbox"
        info = http.get(f"{base}/info").json()
        assert info["owner_db_id"] == sb.owner_db_id
        assert info["demo_tokens"] == sb.demo_tokens

        db_id = http.post(
            f"{base}/records/suppliers", json={"code": "H1", "description": "Via HTTP AS"}
        ).json()["dbId"]
        http.patch(f"{base}/records/suppliers/{db_id}", json={"email": "a@b.no"})
        records = http.get(f"{base}/records/suppliers").json()
        assert {"dbId": db_id, "email": "a@b.no"}.items() <= next(
            r for r in records if r["dbId"] == db_id
        ).items()
        http.delete(f"{base}/records/suppliers/{db_id}")
        assert db_id not in [r["dbId"] for r in http.get(f"{base}/records/suppliers").json()]

        http.post(f"{base}/faults", json={"name": "http_500", "count": 1})
        graphql = {"Authorization": f"token {token}"}
        assert (
            http.post(
                url, json={"query": "{ currencies { edges { cursor } } }"}, headers=graphql
            ).status_code
            == 500
        )
        http.post(f"{base}/faults", json={"name": "http_500"})
        http.delete(f"{base}/faults")
        assert (
            http.post(
                url, json={"query": "{ currencies { edges { cursor } } }"}, headers=graphql
            ).status_code
            == 200
        )

        counts = http.get(f"{base}/counts").json()
        assert counts == {"total": 2, "by_field": {"currencies": 2}}
        assert http.post(f"{base}/counts/token", json={"token": token}).json() == {"count": 2}
        http.post(f"{base}/counts/reset")
        assert http.get(f"{base}/counts").json()["total"] == 0

        new_token = http.post(f"{base}/tokens", json={"scopes": ["currencies"]}).json()["token"]
        http.post(f"{base}/tokens/revoke", json={"token": new_token})
        assert (
            http.post(
                url,
                json={"query": "{ currencies { edges { cursor } } }"},
                headers={"Authorization": f"token {new_token}"},
            ).status_code
            == 401
        )

        http.post(f"{base}/burst_limit", json={"enabled": False})
        assert sb.burst_limit is False
        assert http.post(f"{base}/clock", json={"now": "2026-01-01T00:00:00+00:00"}).json() == {
            "now": "2026-01-01T00:00:00+00:00"
        }
        assert http.get(f"{base}/imports").json() == []
        assert http.get(f"{base}/nothing").status_code == 404
        assert http.post(f"{base}/records/nothing", json={}).status_code == 400
