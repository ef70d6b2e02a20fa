"""A customer with several Xledger connections (one per owner entity): the API lists them, and
every read and the invoice intake name one with /api/connections/{id}/…; the customer-level paths
keep working for a customer with one connection and answer 422 for one with several."""

import pytest
from django.utils import timezone

from integrations.models import (
    Account,
    ApiKey,
    ClientEntity,
    Currency,
    Invoice,
    ObjectKind,
    ObjectValue,
    Supplier,
    VatCode,
)
from tests.api.conftest import OWNER_DB_ID, ApiClient, add_rows, make_live_connection
from tests.factories import make_connection, make_customer
from tests.integrations.invoices.test_intake_api import body, make_intake_connection

SECOND_OWNER_DB_ID = 20001


@pytest.fixture
def two(db):
    """The two live connections of one customer (owner entities 10001 and 10002)."""
    first = make_live_connection()
    second = make_live_connection(customer=first.customer)
    return first, second


def several_message(response, *connections):
    assert response.status_code == 422, response.content
    (error,) = response.json()["detail"]
    assert error["loc"] == ["path", "customer_id"]
    assert error["type"] == "several_connections"
    for connection in connections:
        assert (
            f"connection {connection.pk} is owner entity {connection.owner_entity_id}"
            in (error["msg"])
        )
    assert "/api/connections/{connection_id}/" in error["msg"]
    return error["msg"]


def test_it_lists_a_customer_once_with_both_connections(api, two):
    first, second = two
    ClientEntity.objects.create(connection=second, db_id=30001, code="B", description="Bravo")
    first.verification = {"entities": [{"is_owner": True, "description": "Fjordbåt Holding"}]}
    first.save()
    single = make_live_connection("Alene AS")

    items = {c["id"]: c for c in api.get("/api/customers").json()["items"]}
    assert set(items) == {first.customer_id, single.customer_id}
    customer = items[first.customer_id]
    assert [c["id"] for c in customer["connections"]] == [first.pk, second.pk]
    one, other = customer["connections"]
    assert one["ownerEntityId"] == first.owner_entity_id
    assert one["ownerEntityName"] == "Fjordbåt Holding"
    assert one["environment"] == "production" and one["liveSince"]
    assert one["customerId"] == first.customer_id
    assert other["ownerEntityId"] == second.owner_entity_id
    assert {e["dbId"] for e in other["entities"]} == {second.owner_entity_id, 30001}
    # The top-level fields of a one-connection customer are null when there are several.
    for field in ["ownerEntityId", "environment", "liveSince", "entities"]:
        assert customer[field] is None, field
    assert items[single.customer_id]["ownerEntityId"] == single.owner_entity_id
    assert [c["id"] for c in items[single.customer_id]["connections"]] == [single.pk]

    detail = api.get(f"/api/customers/{first.customer_id}")
    assert detail.status_code == 200
    assert [c["id"] for c in detail.json()["connections"]] == [first.pk, second.pk]


def test_it_describes_one_connection(api, two):
    _, second = two
    body = api.get(f"/api/connections/{second.pk}").json()
    assert body["id"] == second.pk and body["customerId"] == second.customer_id
    assert body["ownerEntityId"] == second.owner_entity_id
    assert [e["dbId"] for e in body["entities"]] == [second.owner_entity_id]


@pytest.mark.parametrize("path, model", [("suppliers", Supplier), ("vat-codes", VatCode)])
def test_it_reads_each_connections_own_mirror(api, two, path, model):
    first, second = two
    first_rows = add_rows(model, first, 2)
    second_rows = add_rows(model, second, 3)
    for connection, rows in [(first, first_rows), (second, second_rows)]:
        response = api.get(f"/api/connections/{connection.pk}/{path}")
        assert response.status_code == 200
        assert {i["dbId"] for i in response.json()["items"]} == {r.db_id for r in rows}


def test_it_takes_the_entity_filter_against_the_named_connection(api, two):
    first, second = two
    ClientEntity.objects.create(connection=second, db_id=30001, code="B")
    assert api.get(f"/api/connections/{second.pk}/suppliers?entity=30001").status_code == 200
    refused = api.get(f"/api/connections/{first.pk}/suppliers?entity=30001")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "entity"]


def test_it_refuses_customer_level_calls_when_the_customer_has_several(api, two):
    first, second = two
    base = f"/api/customers/{first.customer_id}"
    for path in [
        "suppliers",
        "currencies",
        "dimensions/kinds",
        "dimensions/values",
        "vat-codes",
        "accounts",
        "fixed-assets",
        "invoices",
        "invoices/semine-1",
    ]:
        several_message(api.get(f"{base}/{path}"), first, second)
    posted = api.post(f"{base}/invoices", body(), content_type="application/json")
    message = several_message(posted, first, second)
    assert message.startswith("This customer has 2 Xledger connections")
    assert Invoice.objects.count() == 0


def test_it_keeps_customer_level_calls_for_a_customer_with_one_connection(api, two):
    single = make_live_connection("Alene AS")
    (row,) = add_rows(Currency, single, 1)
    by_customer = api.get(f"/api/customers/{single.customer_id}/currencies").json()
    by_connection = api.get(f"/api/connections/{single.pk}/currencies").json()
    assert by_customer == by_connection
    assert [i["dbId"] for i in by_customer["items"]] == [row.db_id]


def copy_mirror(source, target):
    """Give `target` the entities and mirror rows of `source`, its owner entity's records moved
    to `target`'s owner entity, so an invoice `body()` passes against either."""
    owner = {source.owner_entity_id: target.owner_entity_id}
    for entity in ClientEntity.objects.filter(connection=source):
        entity.pk, entity.connection = None, target
        entity.db_id = owner.get(entity.db_id, entity.db_id)
        entity.save()
    for model in [Supplier, Currency, Account, VatCode, ObjectKind, ObjectValue]:
        for row in model.objects.filter(connection=source):
            row.pk, row.connection = None, target
            row.owner_db_id = owner.get(row.owner_db_id, row.owner_db_id)
            row.save()
    target.selected_dimensions = source.selected_dimensions
    target.save()


@pytest.fixture
def intake_pair(db):
    """Two live connections of one customer, each with a mirror an invoice `body()` fits."""
    first = make_intake_connection()
    second = make_connection(
        customer=first.customer, owner_entity_id=SECOND_OWNER_DB_ID, live_since=timezone.now()
    )
    copy_mirror(first, second)
    return first, second


def test_it_takes_each_connections_invoices_into_its_own_outbox(api, intake_pair):
    first, second = intake_pair
    for connection in [first, second]:
        url = f"/api/connections/{connection.pk}/invoices"
        # The same externalId in both: it is unique per connection.
        response = api.post(url, body(externalId="semine-1"), content_type="application/json")
        assert response.status_code == 201, response.json()
        assert response.json()["connectionId"] == connection.pk
        assert response.json()["customerId"] == connection.customer_id
        again = api.get(f"{url}/semine-1").json()
        assert again["connectionId"] == connection.pk
        listed = api.get(url).json()["items"]
        assert [i["connectionId"] for i in listed] == [connection.pk]
    invoices = Invoice.objects.order_by("pk")
    assert [i.connection_id for i in invoices] == [first.pk, second.pk]
    assert [i.entity.connection_id for i in invoices] == [first.pk, second.pk]
    several_message(api.get(f"/api/customers/{first.customer_id}/invoices/semine-1"), first, second)


def test_it_takes_invoices_by_customer_for_a_customer_with_one_connection(api, db):
    connection = make_intake_connection()
    url = f"/api/customers/{connection.customer_id}/invoices"
    response = api.post(url, body(), content_type="application/json")
    assert response.status_code == 201
    assert response.json()["connectionId"] == connection.pk
    assert Invoice.objects.get().connection == connection


def test_it_keeps_a_key_to_its_own_customers_connections(two):
    first, _ = two
    other = make_live_connection("Annen Kunde AS")
    _, plaintext = ApiKey.issue(name="Only Fjordbåt", customer=first.customer)
    client = ApiClient(plaintext)
    assert client.get(f"/api/connections/{first.pk}/suppliers").status_code == 200
    for response in [
        client.get(f"/api/connections/{other.pk}"),
        client.get(f"/api/connections/{other.pk}/suppliers"),
        client.get(f"/api/connections/{other.pk}/invoices"),
        client.post(
            f"/api/connections/{other.pk}/invoices", body(), content_type="application/json"
        ),
    ]:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}
    assert [c["id"] for c in client.get("/api/customers").json()["items"]] == [first.customer_id]


def test_it_refuses_removed_and_not_yet_live_connections_like_a_customer_that_is_not_live(api, two):
    first, second = two
    second.removed_at = timezone.now()
    second.save()
    waiting = make_connection(customer=first.customer, approval_requested_at=timezone.now())
    onboarding = make_connection(customer=make_customer("Not Yet AS"))
    for connection in [waiting, onboarding]:
        for path in ["", "/suppliers", "/invoices"]:
            response = api.get(f"/api/connections/{connection.pk}{path}")
            assert response.status_code == 404, (connection, path)
            assert response.json() == {"detail": "Not Found"}
    # An offboarded (removed) connection says so (410), for good; its invoice status feed still
    # answers, so SEMINE sees what was cancelled.
    for path in ["", "/suppliers"]:
        response = api.get(f"/api/connections/{second.pk}{path}")
        assert response.status_code == 410, path
        assert "offboarded" in response.json()["detail"]
    assert api.get(f"/api/connections/{second.pk}/invoices").status_code == 200
    listed = api.get("/api/customers").json()["items"]
    assert [[c["id"] for c in customer["connections"]] for customer in listed] == [[first.pk]]
    # With one live connection left, the customer-level paths address it again.
    assert api.get(f"/api/customers/{first.customer_id}/suppliers").status_code == 200
    assert api.get(f"/api/customers/{first.customer_id}").json()["ownerEntityId"] == OWNER_DB_ID


def test_it_serves_only_the_first_connection_of_a_customer_marked_live_by_hand(api, db):
    customer = make_customer("Live AS", onboarding_status="live")
    first = make_connection(customer=customer)
    added = make_connection(customer=customer)
    assert first.live_since is None and added.live_since is None
    assert api.get(f"/api/connections/{first.pk}/suppliers").status_code == 200
    assert api.get(f"/api/connections/{added.pk}/suppliers").status_code == 404
    assert api.get(f"/api/customers/{customer.pk}/suppliers").status_code == 200


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", str(2**63), str(2**64)])
def test_it_answers_a_bad_connection_id_with_a_field_error(api, db, bad):
    for path in ["", "/suppliers", "/invoices", "/invoices/semine-1"]:
        response = api.get(f"/api/connections/{bad}{path}")
        assert response.status_code == 422, (bad, path)
        assert response.json()["detail"][0]["loc"] == ["path", "connection_id"]
    assert api.get(f"/api/connections/{2**63 - 1}/suppliers").status_code == 404


def test_it_reads_by_connection_in_a_constant_number_of_queries(
    api, two, django_assert_num_queries
):
    first, _ = two
    add_rows(Supplier, first, 5)
    url = f"/api/connections/{first.pk}/suppliers"
    api.get(url)  # records the key's last use, once a minute
    with django_assert_num_queries(3):  # key, connection, page
        assert api.get(url).status_code == 200
    with django_assert_num_queries(2):  # key, the customer's connections
        assert api.get(f"/api/customers/{first.customer_id}/suppliers").status_code == 422


def test_the_openapi_description_shows_both_ways_of_naming_a_connection(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path, method in [
        ("suppliers", "get"),
        ("currencies", "get"),
        ("dimensions/kinds", "get"),
        ("dimensions/values", "get"),
        ("vat-codes", "get"),
        ("accounts", "get"),
        ("fixed-assets", "get"),
        ("invoices", "post"),
        ("invoices", "get"),
        ("invoices/{external_id}", "get"),
    ]:
        by_customer = paths[f"/api/customers/{{customer_id}}/{path}"][method]
        by_connection = paths[f"/api/connections/{{connection_id}}/{path}"][method]
        assert by_connection["responses"].keys() == by_customer["responses"].keys()
        assert "422" in by_customer["responses"]
        assert "several connections" in by_customer["description"], path
        assert by_connection["operationId"] == f"{by_customer['operationId']}_by_connection"
    assert "200" in paths["/api/connections/{connection_id}"]["get"]["responses"]
