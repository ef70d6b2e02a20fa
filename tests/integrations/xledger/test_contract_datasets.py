"""The client against the sandbox: every dataset query, pages, filters, owner sets, invoices.

These run under whichever reading of the contract `XLEDGER_SANDBOX_DIALECT` names (CI runs every
one); a test about one reading builds its Sandbox with an explicit `dialect=`.
"""

from datetime import UTC, datetime, timedelta

import pytest

from integrations.xledger import queries, timestamps
from integrations.xledger.client import XledgerClient
from integrations.xledger.sandbox import Sandbox

from .documents import top_level_fields

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # the sandbox's clock stands still here


@pytest.fixture
def sb():
    return Sandbox(seed=1, suppliers=25, clients=3, burst_limit=False, now=NOW)


def connect(sb):
    return XledgerClient(
        sb.demo_tokens["full"], url=sb.url, transport=sb.transport(), sleep=lambda s: None
    )


@pytest.fixture
def client(sb):
    with connect(sb) as client:
        yield client


def db_ids(rows) -> list[int]:
    """dbIds as integers, sorted: a dbId may come as a number or a string of digits [known]."""
    return sorted(int(row["dbId"]) for row in rows)


def all_nodes(client, query, **kwargs):
    return [node for page in client.paginate(query, **kwargs) for node in page.nodes]


DATASETS = [
    (queries.ENTITIES, "entities"),
    (queries.SUPPLIERS, "suppliers"),
    (queries.CURRENCIES, "currencies"),
    (queries.OBJECT_KINDS, "objectKinds"),
    (queries.OBJECT_VALUES, "objectValues"),
    (queries.TAX_TABLE_SETUPS, "taxTableSetups"),
    (queries.ACCOUNTS, "accounts"),
    (queries.ASSETS, "assets"),
]


@pytest.mark.parametrize(("query", "kind"), DATASETS, ids=[d[1] for d in DATASETS])
def test_it_reads_every_record_of_each_dataset_in_several_pages(sb, client, query, kind):
    expected = sb.records(kind)
    first = max(1, len(expected) // 3)
    pages = list(client.paginate(query, first=first))
    nodes = [n for p in pages for n in p.nodes]
    assert len(pages) >= 3
    assert db_ids(nodes) == db_ids(expected)  # each exactly once
    assert all(set(n) == top_level_fields(query.fields) for n in nodes)
    assert client.request_count == sb.request_count == len(pages)


def test_it_pages_by_opaque_cursors_in_an_order_of_the_servers_choosing():
    # Xledger's reading: nodes in no promised order, cursors that are not dbIds, no endCursor.
    sb = Sandbox(seed=1, suppliers=25, clients=3, burst_limit=False, now=NOW, dialect="xledger")
    with connect(sb) as client:
        pages = list(client.paginate(queries.SUPPLIERS, first=4))
    nodes = [n for p in pages for n in p.nodes]
    assert db_ids(nodes) == db_ids(sb.records("suppliers"))
    assert [int(n["dbId"]) for n in nodes] != db_ids(nodes)  # really not in dbId order
    assert {p.end_cursor for p in pages}.isdisjoint({str(i) for i in db_ids(nodes)})


def test_it_reads_the_object_values_of_one_kind_filtering_on_our_side(sb, client):
    tax_rule = next(k for k in sb.records("objectKinds") if k["code"] == "TAX_RULE")
    nodes = [
        n
        for n in all_nodes(client, queries.OBJECT_VALUES, first=5)
        if int(n["objectKindDbId"]) == tax_rule["dbId"]
    ]
    expected = [v for v in sb.records("objectValues") if v["objectKindDbId"] == tax_rule["dbId"]]
    assert nodes
    assert db_ids(nodes) == db_ids(expected)


def test_it_reads_only_what_changed_since_a_watermark(sb, client):
    watermark = NOW
    changed = sb.records("suppliers")[3]["dbId"]
    sb.set_now(NOW + timedelta(minutes=5))
    sb.change_record("suppliers", changed, description="Renamed AS")
    since = timestamps.modified_since(watermark)
    nodes = all_nodes(client, queries.SUPPLIERS.where(modifiedAt_gte=since))
    assert [(int(n["dbId"]), n["description"]) for n in nodes] == [(changed, "Renamed AS")]
    assert timestamps.parse_datetime(nodes[0]["modifiedAt"]) == NOW + timedelta(minutes=5)


def test_it_catches_a_change_just_before_the_watermark_within_the_overlap(sb, client):
    changed = sb.records("accounts")[0]["dbId"]
    sb.set_now(NOW - timedelta(minutes=10))  # saved while the last run was reading
    sb.change_record("accounts", changed, description="Late")
    since = timestamps.modified_since(NOW)
    nodes = all_nodes(client, queries.ACCOUNTS.where(modifiedAt_gte=since))
    assert db_ids(nodes) == [changed]


def test_it_reads_nothing_changed_after_a_future_moment(sb, client):
    future = timestamps.modified_since(NOW + timedelta(days=3650))
    for query in (queries.ACCOUNTS, queries.OBJECT_KINDS, queries.OBJECT_VALUES):
        assert all_nodes(client, query.where(modifiedAt_gte=future)) == []


def test_it_catches_a_change_in_the_repeated_autumn_hour_from_a_wall_time_server():
    # Summer time ends 2026-10-25 01:00 UTC: Oslo's clock goes 02:59:59 CEST -> 02:00:00 CET.
    # The last run reached 02:50 CEST; a supplier then changed at 02:10 CET (an hour later).
    # A server comparing wall times sees "02:10" < "02:35" (watermark - 15 min): the window
    # must open early enough to include it.
    watermark = datetime(2026, 10, 25, 0, 50, tzinfo=UTC)
    changed_at = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    sb = Sandbox(
        seed=1, suppliers=25, clients=3, burst_limit=False, now=watermark, dialect="xledger"
    )
    changed = int(sb.records("suppliers")[0]["dbId"])
    sb.set_now(changed_at)
    sb.change_record("suppliers", changed, description="Changed in the second pass")
    naive_start = timestamps.wall_time(watermark - timestamps.INCREMENTAL_OVERLAP)
    assert timestamps.wall_time(changed_at) < naive_start  # the trap is real
    with connect(sb) as client:
        since = timestamps.modified_since(watermark)
        nodes = all_nodes(client, queries.SUPPLIERS.where(modifiedAt_gte=since))
    assert changed in db_ids(nodes)


def test_it_sees_deletions_in_the_supplier_deltas(sb, client):
    gone = sb.records("suppliers")[0]["dbId"]
    sb.delete_record("suppliers", gone)
    nodes = all_nodes(client, queries.SUPPLIER_DELTAS)
    assert (gone, "DELETED") in [(int(n["dbId"]), n["mutationType"]) for n in nodes]


def test_it_sees_the_token_entity_and_the_ones_below_by_owner_set(sb, client):
    current = all_nodes(client, queries.ENTITIES.owned_by("CURRENT"))
    lower = all_nodes(client, queries.ENTITIES.owned_by("LOWER"))
    everything = all_nodes(client, queries.ENTITIES)
    assert db_ids(current) == [sb.owner_db_id]
    assert db_ids(lower) == sorted(sb.client_entity_ids)
    assert db_ids(everything) == sorted([sb.owner_db_id, *sb.client_entity_ids])


def test_it_reads_suppliers_of_every_entity_with_owner_set_all(sb, client):
    nodes = all_nodes(client, queries.SUPPLIERS)
    assert {int(n["ownerDbId"]) for n in nodes} > {sb.owner_db_id}
    assert db_ids(nodes) == db_ids(sb.records("suppliers"))


def test_the_supplier_documents_of_a_sync_read_both_sides_in_one_request(sb, client):
    since = timestamps.modified_since(NOW)
    gone = sb.records("suppliers")[1]["dbId"]
    sb.delete_record("suppliers", gone)
    document = queries.supplier_changes(
        first=100, since=since, after=None, delta_after=None, with_suppliers=True, with_deltas=True
    )
    data, first = client.read_shrinking(lambda size: document, first=100)
    assert first == 100
    assert set(data) == {"suppliers", "supplier_deltas"}
    assert gone in db_ids(e["node"] for e in data["supplier_deltas"]["edges"])
    full = client.execute(queries.suppliers_full(first=10, after=None))
    assert len(full["suppliers"]["edges"]) == 10
    assert full["deltaTail"]["edges"][0]["cursor"]
    assert client.request_count == 2


def import_item(ext, number, client_id, file_name=None):
    return {
        "clientId": client_id,
        "node": {
            "transactionSource": {"code": "SEMINE"},
            "invoiceNumber": number,
            "extIdentifier": ext,
            "postedDate": "2025-03-01",
            "invoiceDate": "2025-03-01",
            "dueDate": "2025-03-31",
            "text": "Office chairs",
            "amount": "-1250.00",
            "invoiceAmount": "-1250.00",
            "currency": {"code": "NOK"},
            "invoiceFile": file_name,
        },
    }


def test_it_sends_an_invoice_with_its_pdf_and_finds_it_by_ext_identifier(sb, client):
    pdf = b"%PDF-1.4 an invoice"
    data, errors = client.execute_partial(
        queries.ADD_GL_IMPORT_ITEMS,
        {"inputs": [import_item("semine-42", "F-42", "line-1", file_name="F-42.pdf")]},
        mutation=True,
        files={"variables.inputs.0.node.invoiceFile": ("F-42.pdf", pdf, "application/pdf")},
    )
    if errors:  # the sandbox may want more fields than this minimal item: show why
        pytest.fail(f"the sandbox refused the item: {[e.message for e in errors]}")
    edges = data["addGLImportItems"]["edges"]
    assert [e["clientId"] for e in edges] == ["line-1"]
    found = all_nodes(
        client, queries.gl_import_items_by_ext_identifier(["semine-42", "semine-unknown"])
    )
    assert [(int(n["dbId"]), n["extIdentifier"], n["invoiceFile"]) for n in found] == [
        (int(edges[0]["node"]["dbId"]), "semine-42", "F-42.pdf")
    ]
    (stored,) = sb.imports
    assert stored["invoiceFile"] == "F-42.pdf"
    assert stored["invoiceFileSize"] == len(pdf)  # the file itself arrived, not just its name


def test_it_counts_the_same_requests_as_the_server(sb, client):
    all_nodes(client, queries.SUPPLIERS, first=10)
    client.execute(queries.VERIFY_READ_PROBE)
    assert client.request_count == sb.request_count == 4
