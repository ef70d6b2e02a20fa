from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.models import (
    Account,
    ClientEntity,
    Currency,
    FixedAsset,
    ObjectKind,
    ObjectValue,
    Supplier,
    VatCode,
)
from portal.models import Customer
from tests.api.conftest import OWNER_DB_ID, add_rows
from tests.factories import make_connection, make_customer


def url(connection, path="suppliers", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/customers/{connection.customer_id}/{path}" + (f"?{query}" if query else "")


def fetch_all(api, connection, path="suppliers", **params):
    """Follow next_cursor to the end; returns (items, number of pages)."""
    items, cursor, pages = [], None, 0
    while True:
        extra = {**params, **({"cursor": cursor} if cursor else {})}
        body = api.get(url(connection, path, **extra)).json()
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


def test_it_pages_with_a_cursor(api, live_connection):
    rows = add_rows(Supplier, live_connection, 7, email="ap@example.com")
    items, pages = fetch_all(api, live_connection, limit=3)
    assert pages == 3
    assert sorted(i["dbId"] for i in items) == sorted(r.db_id for r in rows)
    first = api.get(url(live_connection, limit=3)).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    assert set(first["items"][0]) >= {
        "dbId", "ownerDbId", "code", "description", "modifiedAt", "updatedAt", "deleted",
        "deletedAt", "email", "bankAccount", "companyNumber",
    }  # fmt: skip


def test_it_ends_without_a_cursor_on_an_exactly_full_page(api, live_connection):
    add_rows(Supplier, live_connection, 4)
    body = api.get(url(live_connection, limit=4)).json()
    assert len(body["items"]) == 4 and body["next_cursor"] is None


def test_it_orders_ties_by_id_and_skips_nothing(api, live_connection):
    add_rows(Supplier, live_connection, 5)
    same_moment = timezone.now() - timedelta(hours=1)
    Supplier.objects.update(updated_at=same_moment)
    items, pages = fetch_all(api, live_connection, limit=2)
    assert pages == 3
    assert len({i["dbId"] for i in items}) == 5


def test_it_does_not_skip_rows_changed_while_paging(api, live_connection):
    rows = add_rows(Supplier, live_connection, 6)
    base = timezone.now() - timedelta(hours=1)
    for n, row in enumerate(rows):
        Supplier.objects.filter(pk=row.pk).update(updated_at=base + timedelta(seconds=n))

    first = api.get(url(live_connection, limit=2)).json()
    seen = {i["dbId"]: i for i in first["items"]}
    # Meanwhile a sync changes one row already returned and one not yet returned.
    Supplier.objects.filter(pk__in=[rows[0].pk, rows[4].pk]).update(
        description="changed", updated_at=timezone.now()
    )
    cursor = first["next_cursor"]
    while cursor:
        body = api.get(url(live_connection, limit=2, cursor=cursor)).json()
        seen.update({i["dbId"]: i for i in body["items"]})
        cursor = body["next_cursor"]
    assert set(seen) == {r.db_id for r in rows}
    assert seen[rows[0].db_id]["description"] == "changed"
    assert seen[rows[4].db_id]["description"] == "changed"


def test_it_takes_any_offset_in_updated_since(api, live_connection):
    add_rows(Supplier, live_connection, 1)
    offsets = ["2000-01-01T00:00:00%2B16:59", "2000-01-01T00:00:00-23:59", "9999-12-31T23:59:59Z"]
    for since in offsets:
        assert api.get(url(live_connection, updated_since=since)).status_code == 200, since


def test_it_refuses_forged_cursors(api, live_connection):
    from api.cursors import encode_cursor

    for stamp in [datetime(1, 1, 1, tzinfo=timezone.get_fixed_timezone(60)), datetime(2000, 1, 1)]:
        cursor = encode_cursor(stamp, 1)
        assert api.get(url(live_connection, cursor=cursor)).status_code == 422
    odd_offset = datetime(2000, 1, 1, tzinfo=timezone.get_fixed_timezone(16 * 60 + 59))
    assert api.get(url(live_connection, cursor=encode_cursor(odd_offset, 1))).status_code == 200


def test_it_filters_by_updated_since(api, live_connection):
    old, new = add_rows(Supplier, live_connection, 2)
    Supplier.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%f%%2B00:00")
    items = api.get(url(live_connection, updated_since=since)).json()["items"]
    assert [i["dbId"] for i in items] == [new.db_id]
    since_z = (timezone.now() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(api.get(url(live_connection, updated_since=since_z)).json()["items"]) == 2


def test_it_includes_deletions_as_tombstones(api, live_connection):
    kept, gone = add_rows(Supplier, live_connection, 2)
    deleted_at = timezone.now()
    Supplier.objects.filter(pk=gone.pk).update(
        is_deleted=True, deleted_at=deleted_at, updated_at=deleted_at
    )
    items = {i["dbId"]: i for i in api.get(url(live_connection)).json()["items"]}
    assert items[kept.db_id]["deleted"] is False and items[kept.db_id]["deletedAt"] is None
    assert items[gone.db_id]["deleted"] is True and items[gone.db_id]["deletedAt"]
    live_only = api.get(url(live_connection, include_deleted="false")).json()["items"]
    assert [i["dbId"] for i in live_only] == [kept.db_id]


def test_it_shows_one_entity_its_own_the_owners_and_shared_records(api, live_connection):
    ClientEntity.objects.create(connection=live_connection, db_id=20001, code="A")
    ClientEntity.objects.create(connection=live_connection, db_id=20002, code="B")
    (own,) = add_rows(Supplier, live_connection, 1, owner_db_id=20001)
    (owners,) = add_rows(Supplier, live_connection, 1, owner_db_id=OWNER_DB_ID)
    (shared,) = add_rows(Supplier, live_connection, 1, owner_db_id=None)
    (others,) = add_rows(Supplier, live_connection, 1, owner_db_id=20002)
    items = api.get(url(live_connection, entity=20001)).json()["items"]
    assert {i["dbId"] for i in items} == {own.db_id, owners.db_id, shared.db_id}
    assert others.db_id not in {i["dbId"] for i in items}
    everyone = api.get(url(live_connection)).json()["items"]
    assert len(everyone) == 4


@pytest.mark.parametrize(
    "params, loc",
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 1001}, ["query", "limit"]),
        ({"limit": "many"}, ["query", "limit"]),
        ({"cursor": "not-a-cursor"}, ["query", "cursor"]),
        ({"cursor": "x" * 300}, ["query", "cursor"]),
        ({"updated_since": "yesterday"}, ["query", "updated_since"]),
        ({"updated_since": "1700000000"}, ["query", "updated_since"]),  # not seconds since 1970
        ({"updated_since": "0.5"}, ["query", "updated_since"]),
        ({"updated_since": "2026-11-25T13:00:00"}, ["query", "updated_since"]),  # no offset
        ({"updated_since": "2026-11-25"}, ["query", "updated_since"]),
        ({"updated_since": "2026-13-25T13:00:00Z"}, ["query", "updated_since"]),
        ({"updated_since": "0001-01-01T00:00:00%2B01:00"}, ["query", "updated_since"]),
        ({"entity": "abc"}, ["query", "entity"]),
        ({"entity": 99999}, ["query", "entity"]),
        ({"include_deleted": "perhaps"}, ["query", "include_deleted"]),
    ],
)
def test_it_answers_bad_parameters_with_field_errors(api, live_connection, params, loc):
    response = api.get(url(live_connection, **params))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(e["loc"] == loc for e in detail), detail
    assert all(set(e) == {"loc", "msg", "type"} for e in detail)


def test_it_answers_a_bad_customer_id_with_a_field_error(api, db):
    for bad in ["abc", "0", str(2**64)]:
        response = api.get(f"/api/customers/{bad}/suppliers")
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["path", "customer_id"]


def test_it_hides_customers_that_are_not_live(api, live_connection):
    onboarding = make_connection(customer=make_customer("Not Yet AS"))
    add_rows(Supplier, onboarding, 1)
    assert api.get(url(onboarding)).status_code == 404
    assert api.get(f"/api/customers/{onboarding.customer_id}").status_code == 404
    assert api.get("/api/customers/987654/suppliers").status_code == 404
    ids = [c["id"] for c in api.get("/api/customers").json()["items"]]
    assert ids == [live_connection.customer_id]


def test_it_treats_onboarding_status_live_as_live(api, db):
    connection = make_connection(
        customer=make_customer("Live AS", onboarding_status=Customer.Status.LIVE)
    )
    assert connection.live_since is None
    assert api.get(url(connection)).status_code == 200


def test_it_describes_a_customer_with_its_entities(api, live_connection):
    ClientEntity.objects.create(
        connection=live_connection, db_id=20001, code="A", description="Alfa"
    )
    body = api.get(f"/api/customers/{live_connection.customer_id}").json()
    assert body["name"] == "Fjordbåt Shipping AS"
    assert body["ownerEntityId"] == OWNER_DB_ID
    assert {e["dbId"]: e["isOwner"] for e in body["entities"]} == {OWNER_DB_ID: True, 20001: False}


def test_it_uses_a_constant_number_of_queries_per_page(
    api, live_connection, django_assert_num_queries
):
    ClientEntity.objects.create(connection=live_connection, db_id=20001, code="A")
    add_rows(Supplier, live_connection, 3, owner_db_id=20001)
    api.get(url(live_connection))  # records the key's last use, once a minute

    def queries_for(**params):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url(live_connection, **params)).status_code == 200
        return len(ctx)

    small = queries_for(limit=2, entity=20001)
    add_rows(Supplier, live_connection, 120, owner_db_id=20001)
    large = queries_for(limit=100, entity=20001)
    assert small == large == 4  # key, connection, entity, page
    with django_assert_num_queries(3):
        api.get(url(live_connection, limit=1000))


ROWS = {
    "currencies": (Currency, {}, {}),
    "dimensions/kinds": (ObjectKind, {}, {}),
    "dimensions/values": (
        ObjectValue,
        {"object_kind_db_id": 77, "date_from": date(2024, 1, 1)},
        {"objectKindDbId": 77, "dateFrom": "2024-01-01", "dateTo": None},
    ),
    "vat-codes": (
        VatCode,
        {"tax_percent": Decimal("25.000"), "account_db_id": 5},
        {"taxPercent": "25.000", "accountDbId": 5},
    ),
    "accounts": (
        Account,
        {"chart_of_account_db_id": 3, "posting": "Yes", "vat": "Input", "balance_sheet": "B"},
        {"chartOfAccountDbId": 3, "posting": "Yes", "vat": "Input", "balanceSheet": "B"},
    ),
    "fixed-assets": (
        FixedAsset,
        {"date_purchased": date(2023, 5, 1), "asset_group_db_id": 9, "asset_status": "Active"},
        {"datePurchased": "2023-05-01", "assetGroupDbId": 9, "assetStatus": "Active"},
    ),
}


@pytest.mark.parametrize("path", ROWS)
def test_it_lists_every_dataset(api, live_connection, path):
    model, fields, expected = ROWS[path]
    (row,) = add_rows(model, live_connection, 1, **fields)
    body = api.get(url(live_connection, path)).json()
    (item,) = body["items"]
    assert item["dbId"] == row.db_id and item["code"] == row.code
    assert {k: item[k] for k in expected} == expected


def test_it_filters_dimension_values_by_kind(api, live_connection):
    add_rows(ObjectValue, live_connection, 2, object_kind_db_id=1)
    add_rows(ObjectValue, live_connection, 3, object_kind_db_id=2)
    items = api.get(url(live_connection, "dimensions/values", kind=2)).json()["items"]
    assert len(items) == 3 and {i["objectKindDbId"] for i in items} == {2}


def test_it_keeps_each_customers_mirror_apart(api, live_connection):
    from tests.api.conftest import make_live_connection

    other = make_live_connection("Other AS")
    add_rows(Currency, other, 2)
    assert api.get(url(live_connection, "currencies")).json()["items"] == []
