from datetime import UTC, datetime, timedelta

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for, gql

DELTAS = """query($after: String) { supplier_deltas(first: 100, after: $after)
  { edges { cursor node { dbId mutationType } } pageInfo { hasNextPage endCursor } } }"""


def _deltas(sb, after=None):
    _, body = gql(client_for(sb), DELTAS, {"after": after})
    return body["data"]["supplier_deltas"]


def test_it_records_added_updated_and_deleted_suppliers():
    sb = Sandbox(dialect="ours", suppliers=5, burst_limit=False)
    assert _deltas(sb)["edges"] == []
    new = sb.add_record("suppliers", code="NY1", description="Ny Leverandør AS")
    old = sb.records("suppliers")[0]["dbId"]
    sb.change_record("suppliers", old, email="post@endret.no")
    sb.delete_record("suppliers", old)
    nodes = [e["node"] for e in _deltas(sb)["edges"]]
    assert nodes == [
        {"dbId": new, "mutationType": "ADDED"},
        {"dbId": old, "mutationType": "UPDATED"},
        {"dbId": old, "mutationType": "DELETED"},
    ]


def test_it_pages_deltas_by_an_increasing_sequence():
    sb = Sandbox(dialect="ours", suppliers=5, burst_limit=False)
    first = sb.add_record("suppliers", code="A", description="A AS")
    page = _deltas(sb)
    cursor = page["pageInfo"]["endCursor"]
    second = sb.add_record("suppliers", code="B", description="B AS")
    later = _deltas(sb, cursor)
    assert [e["node"]["dbId"] for e in page["edges"]] == [first]
    assert [e["node"]["dbId"] for e in later["edges"]] == [second]
    assert int(later["edges"][0]["cursor"]) > int(cursor)


def test_it_forgets_deltas_after_three_days():
    start = datetime(2026, 4, 1, tzinfo=UTC)
    sb = Sandbox(dialect="ours", suppliers=5, now=start, burst_limit=False)
    sb.add_record("suppliers", code="A", description="A AS")
    sb.set_now(start + timedelta(days=2))
    kept = sb.add_record("suppliers", code="B", description="B AS")
    sb.set_now(start + timedelta(days=3, seconds=1))
    assert [e["node"]["dbId"] for e in _deltas(sb)["edges"]] == [kept]


def test_it_moves_modified_at_when_a_supplier_changes():
    now = datetime(2026, 4, 1, 10, tzinfo=UTC)
    sb = Sandbox(dialect="ours", suppliers=5, now=now)
    db_id = sb.records("suppliers")[0]["dbId"]
    sb.change_record("suppliers", db_id, description="Nytt navn AS")
    changed = next(s for s in sb.records("suppliers") if s["dbId"] == db_id)
    assert changed["modifiedAt"] == "2026-04-01T12:00:00+02:00"
    assert changed["description"] == "Nytt navn AS"
