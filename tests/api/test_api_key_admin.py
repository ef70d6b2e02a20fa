import re

from integrations.models import ApiKey
from portal.models import AuditEntry
from tests.api.conftest import ApiClient


def test_it_shows_a_new_key_once_and_never_again(client, superuser, live_connection):
    client.force_login(superuser)
    response = client.post(
        "/admin/integrations/apikey/add/",
        {"name": "SEMINE production", "customer": ""},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    plaintext = re.search(r'id="api-key"[^>]*value="([^"]+)"', html).group(1)

    api_key = ApiKey.objects.get()
    assert api_key.created_by == superuser
    entry = AuditEntry.objects.get(action="api_key_create")
    assert entry.actor == superuser and plaintext not in str(entry.after)
    assert api_key.prefix == plaintext[:8]
    assert plaintext not in str(ApiKey.objects.values().get())

    # The key works...
    url = f"/api/customers/{live_connection.customer_id}/suppliers"
    assert ApiClient(plaintext).get(url).status_code == 200
    # ...and no admin page shows it or its hash again.
    for page in [
        "/admin/integrations/apikey/",
        f"/admin/integrations/apikey/{api_key.pk}/change/",
        f"/admin/integrations/apikey/{api_key.pk}/history/",
    ]:
        html = client.get(page).content.decode()
        assert plaintext not in html, page
        assert api_key.key_hash not in html, page
        assert plaintext[:8] in html or page.endswith("history/")


def test_it_keeps_the_key_out_of_messages_and_the_session(client, superuser):
    client.force_login(superuser)
    response = client.post("/admin/integrations/apikey/add/", {"name": "k"})
    plaintext = re.search(r'value="([^"]{40,})"', response.content.decode()).group(1)
    assert all(plaintext not in morsel.value for morsel in response.cookies.values())
    assert plaintext not in str(dict(client.session))
    assert plaintext not in client.get("/admin/").content.decode()


def test_it_revokes_keys_with_an_action(client, superuser):
    api_key, plaintext = ApiKey.issue(name="old")
    client.force_login(superuser)
    response = client.post(
        "/admin/integrations/apikey/",
        {"action": "revoke_keys", "_selected_action": [api_key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert AuditEntry.objects.filter(action="api_key_revoke", target=str(api_key)).exists()
    assert ApiKey.authenticate(plaintext) is None


def test_it_lets_nobody_delete_a_key(client, superuser):
    api_key, _ = ApiKey.issue(name="kept")
    client.force_login(superuser)
    assert client.get(f"/admin/integrations/apikey/{api_key.pk}/delete/").status_code == 403
