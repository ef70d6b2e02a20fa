from integrations.models import Connection
from tests.factories import TOKEN, make_connection


def test_it_never_shows_the_token_on_the_change_page(db, superuser, client):
    conn = make_connection()
    client.force_login(superuser)
    html = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert TOKEN not in html
    assert conn.api_token.ciphertext not in html
    assert conn.token_fingerprint in html  # what staff see instead


def test_it_never_shows_the_token_in_the_list(db, superuser, client):
    make_connection()
    client.force_login(superuser)
    html = client.get("/admin/integrations/connection/").content.decode()
    assert TOKEN not in html


def test_staff_cannot_replace_the_token(db, superuser, client):
    """Staff send a replace-token link instead (#16); a posted token is ignored."""
    conn = make_connection()
    client.force_login(superuser)
    new = "Replaced_token-abcdefghijklmnopqrstu"
    response = client.post(
        f"/admin/integrations/connection/{conn.pk}/change/",
        {
            "customer": conn.customer_id,
            "environment": "production",
            "owner_entity_id": "10001",
            "status": "unverified",
            "selected_dimensions": "[]",
            "transaction_source_code": "SEMINE",
            "new_token": new,
            "entities-TOTAL_FORMS": "0",
            "entities-INITIAL_FORMS": "0",
            "schedules-TOTAL_FORMS": "0",
            "schedules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.reveal_token() == TOKEN
    assert fresh.token_fingerprint == conn.token_fingerprint and fresh.token_set_by is None
    page = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert new not in page and 'name="new_token"' not in page
