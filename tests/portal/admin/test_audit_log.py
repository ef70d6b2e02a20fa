from portal.models import AuditEntry
from tests.factories import TOKEN, make_connection


def test_the_audit_log_is_read_only_even_for_superusers(db, client, superuser):
    entry = AuditEntry.record(
        actor=superuser, action="resync", target="x", after={"dataset": "suppliers"}
    )
    client.force_login(superuser)
    assert client.get("/admin/portal/auditentry/").status_code == 200
    html = client.get(f"/admin/portal/auditentry/{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in html
    assert client.get("/admin/portal/auditentry/add/").status_code == 403
    assert (
        client.post(f"/admin/portal/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_pm_and_support_can_read_it(db, client, pm_user, support_user):
    for user in (pm_user, support_user):
        client.force_login(user)
        assert client.get("/admin/portal/auditentry/").status_code == 200


def test_a_token_change_is_audited_by_fingerprint_never_by_value(db, client, support_user):
    conn = make_connection()
    old_fingerprint = conn.token_fingerprint
    client.force_login(support_user)
    new = "Replaced_token-abcdefghijklmnopqrstu"
    response = client.post(
        f"/admin/integrations/connection/{conn.pk}/change/",
        {
            "customer": conn.customer_id,
            "environment": "production",
            "owner_entity_id": "10001",
            "selected_dimensions": "[]",
            "new_token": new,
            "entities-TOTAL_FORMS": "0",
            "entities-INITIAL_FORMS": "0",
            "schedules-TOTAL_FORMS": "0",
            "schedules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="token_changed")
    conn.refresh_from_db()
    assert entry.actor == support_user
    assert entry.before == {"fingerprint": old_fingerprint}
    assert entry.after["fingerprint"] == conn.token_fingerprint != old_fingerprint
    dumped = str(entry.before) + str(entry.after) + entry.comment + entry.target
    assert new not in dumped and TOKEN not in dumped
    page = client.get(f"/admin/portal/auditentry/{entry.pk}/change/").content.decode()
    assert new not in page
