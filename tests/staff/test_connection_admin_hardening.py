"""The connection's admin form takes no token (staff send a replace-token link instead: #16), and
a connection stays with the customer it was made for."""

from integrations.models import Connection
from portal.models import AuditEntry
from tests.factories import TOKEN, make_connection, make_customer

POSTED = ["Replaced_token-abcdefghijklmnopqrstu", "  Replaced_token-abcdefghijklmnopqrstu\t"]


def _change(client, conn, **fields):
    data = {
        "customer": conn.customer_id,
        "environment": "production",
        "owner_entity_id": str(conn.owner_entity_id),
        "selected_dimensions": "[]",
        "transaction_source_code": "SEMINE",
        "entities-TOTAL_FORMS": "0",
        "entities-INITIAL_FORMS": "0",
        "schedules-TOTAL_FORMS": "0",
        "schedules-INITIAL_FORMS": "0",
        **fields,
    }
    return client.post(f"/admin/integrations/connection/{conn.pk}/change/", data)


def test_it_ignores_a_posted_token(db, client, superuser):
    conn = make_connection()
    fingerprint = conn.token_fingerprint
    client.force_login(superuser)
    page = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert 'name="new_token"' not in page and 'type="password"' not in page
    for posted in POSTED:
        response = _change(client, conn, new_token=posted, token=posted)
        assert response.status_code == 302, response.content.decode()[:2000]
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.token_fingerprint == fingerprint and fresh.reveal_token() == TOKEN
    assert not AuditEntry.objects.filter(action__startswith="token").exists()


def test_a_new_connection_gets_no_token_from_the_admin(db, client, superuser):
    customer = make_customer()
    client.force_login(superuser)
    add = client.get("/admin/integrations/connection/add/").content.decode()
    assert 'name="new_token"' not in add and 'type="password"' not in add
    response = client.post(
        "/admin/integrations/connection/add/",
        {
            "customer": customer.pk,
            "environment": "production",
            "owner_entity_id": "10001",
            "new_token": POSTED[0],
            "entities-TOTAL_FORMS": "0",
            "entities-INITIAL_FORMS": "0",
            "schedules-TOTAL_FORMS": "0",
            "schedules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = Connection.objects.get()
    assert not added.has_token and not added.token_fingerprint


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
