from datetime import UTC, datetime, timedelta

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.clock import parse_datetime
from integrations.xledger.sandbox.testing import all_pages, client_for, gql

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_it_filters_suppliers_by_modified_at():
    sb = Sandbox(dialect="ours", seed=5, suppliers=400, now=NOW, burst_limit=False)
    client = client_for(sb)
    everything, _ = all_pages(client, "suppliers", "dbId modifiedAt", first=1000)
    since = "2025-12-01T00:00:00+01:00"
    recent, _ = all_pages(
        client,
        "suppliers",
        "dbId modifiedAt",
        first=1000,
        extra=f', filter: {{modifiedAt_gte: "{since}"}}',
    )
    expected = [n for n in everything if parse_datetime(n["modifiedAt"]) >= parse_datetime(since)]
    assert recent == expected
    assert 0 < len(recent) < len(everything)


def test_it_reads_a_filter_time_without_offset_as_oslo_time():
    sb = Sandbox(dialect="ours", seed=5, suppliers=5, now=NOW)
    db_id = sb.add_record("suppliers", code="X1", description="Ny")
    # NOW is 13:00 in Oslo: a naive 12:30 is before it, a naive 13:30 after it.
    query = (
        "query($t: DateTime) { suppliers(filter: {modifiedAt_gte: $t}) "
        "{ edges { node { dbId } } } }"
    )
    _, body = gql(client_for(sb), query, {"t": "2026-03-01T12:30:00"})
    assert [e["node"]["dbId"] for e in body["data"]["suppliers"]["edges"]] == [db_id]
    _, body = gql(client_for(sb), query, {"t": "2026-03-01T13:30:00"})
    assert body["data"]["suppliers"]["edges"] == []


def test_it_filters_object_values_by_kind():
    sb = Sandbox(dialect="ours", seed=5, suppliers=5)
    kinds = {k["code"]: k["dbId"] for k in sb.records("objectKinds")}
    assert {"AVDELING", "PROSJEKT", "35", "TAX_RULE"} <= kinds.keys()
    query = (
        "query($k: Int) { objectValues(first: 1000, filter: {objectKindDbId: $k}) "
        "{ edges { node { code objectKindDbId } } } }"
    )
    _, body = gql(client_for(sb), query, {"k": kinds["TAX_RULE"]})
    codes = [e["node"]["code"] for e in body["data"]["objectValues"]["edges"]]
    assert {"1", "3", "5", "11", "31"} <= set(codes)
    assert {e["node"]["objectKindDbId"] for e in body["data"]["objectValues"]["edges"]} == {
        kinds["TAX_RULE"]
    }


def test_it_filters_accounts_and_object_kinds_by_modified_at():
    sb = Sandbox(dialect="ours", seed=5, suppliers=5, now=NOW)
    later = NOW + timedelta(days=1)
    sb.set_now(later)
    account = sb.records("accounts")[0]["dbId"]
    sb.change_record("accounts", account, description="Ny tekst")
    query = '{ accounts(filter: {modifiedAt_gte: "%s"}) { edges { node { dbId description } } } }'
    _, body = gql(client_for(sb), query % later.isoformat())
    assert [e["node"] for e in body["data"]["accounts"]["edges"]] == [
        {"dbId": account, "description": "Ny tekst"}
    ]
    _, body = gql(
        client_for(sb),
        "query($t: DateTime) { objectKinds(filter: {modifiedAt_gte: $t}) { edges { cursor } } }",
        {"t": later.isoformat()},
    )
    assert body["data"]["objectKinds"]["edges"] == []


def test_it_seeds_a_norwegian_chart_with_the_default_posting_accounts():
    sb = Sandbox(dialect="ours", seed=5, suppliers=5)
    accounts = {a["code"]: a for a in sb.records("accounts")}
    assert 100 <= len(accounts) <= 300
    assert accounts["2400"]["description"] == "Leverandørgjeld"
    assert accounts["1500"]["balanceSheet"] is True


def test_it_pairs_each_vat_code_with_a_tax_table_setup():
    sb = Sandbox(dialect="ours", seed=5, suppliers=5)
    setups = {s["objectValueDbId"]: s for s in sb.records("taxTableSetups")}
    values = {v["dbId"]: v for v in sb.records("objectValues")}
    rates = {values[k]["code"]: s["taxPercent"] for k, s in setups.items()}
    assert rates["1"] == 25.0 and rates["11"] == 15.0 and rates["5"] == 0.0
