"""The connection's admin form holds the same line as the customer's own form: a token must look
like an Xledger token, and a connection stays with the customer it was made for."""

from integrations.models import Connection
from portal.models import AuditEntry
from tests.factories import TOKEN, make_connection, make_customer

MALFORMED = [
    "not a token",
    "Zx9-Qm_4TtR2pL8vWc3n Yb7Ks1Ha5Ge0Ud6J",
    "Bearer Zx9-Qm_4TtR2pL8vWc3nYb7Ks1Ha5Ge0Ud6J",
    "<script>",
    "x",
    "Zx9-Qm_4TtR2pL8vWc3n\u200bYb7Ks1Ha5Ge0Ud6J",
]


def _change(client, conn, **fields):
    data = {
        "customer": conn.customer_id,
        "environment": "production",
        "owner_entity_id": str(conn.owner_entity_id),
        "selected_dimensions": "[]",
        "transaction_source_code": "SEMINE",
        "new_token": "",
        "entities-TOTAL_FORMS": "0",
        "entities-INITIAL_FORMS": "0",
        "schedules-TOTAL_FORMS": "0",
        "schedules-INITIAL_FORMS": "0",
        **fields,
    }
    return client.post(f"/admin/integrations/connection/{conn.pk}/change/", data)


def test_it_refuses_a_replacement_token_that_cannot_be_a_token(db, client, superuser):
    conn = make_connection()
    fingerprint = conn.token_fingerprint
    client.force_login(superuser)
    for malformed in MALFORMED:
        response = _change(client, conn, new_token=malformed)
        assert response.status_code == 200, malformed  # the form again, with the error
        errors = response.context["adminform"].form.errors
        assert "does not look like an Xledger API token" in str(errors["new_token"]), malformed
        if len(malformed) > 10:
            assert malformed not in response.content.decode()  # never shown back
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.token_fingerprint == fingerprint and fresh.reveal_token() == TOKEN
    assert not AuditEntry.objects.filter(action="token_changed").exists()


def test_it_stores_a_pasted_token_without_the_white_space_around_it(db, client, superuser):
    conn = make_connection()
    client.force_login(superuser)
    new = "Replaced_token-abcdefghijklmnopqrstu"
    response = _change(client, conn, new_token=f"  {new}\t")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Connection.objects.get(pk=conn.pk).reveal_token() == new


def test_it_refuses_a_malformed_token_on_a_new_connection(db, client, superuser):
    customer = make_customer()
    client.force_login(superuser)
    response = client.post(
        "/admin/integrations/connection/add/",
        {
            "customer": customer.pk,
            "environment": "production",
            "owner_entity_id": "10001",
            "new_token": "not a token",
            "entities-TOTAL_FORMS": "0",
            "entities-INITIAL_FORMS": "0",
            "schedules-TOTAL_FORMS": "0",
            "schedules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "new_token" in response.context["adminform"].form.errors
    assert not Connection.objects.exists()


def test_a_connection_cannot_be_moved_to_another_customer(db, client, superuser):
    conn = make_connection()
    owner = conn.customer
    other = make_customer("Annen Kunde AS")
    client.force_login(superuser)
    page = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert 'name="customer"' not in page  # shown, not editable
    assert str(owner) in page

    response = _change(client, conn, customer=other.pk)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Connection.objects.get(pk=conn.pk).customer == owner
    assert not other.connections.exists()
    # A new connection still chooses its customer.
    add = client.get("/admin/integrations/connection/add/").content.decode()
    assert 'name="customer"' in add
