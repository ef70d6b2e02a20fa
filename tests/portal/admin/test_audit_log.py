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


def test_staff_cannot_change_a_token_so_nothing_of_a_token_is_audited(db, client, support_user):
    """The admin takes no token (#16): the break-glass command's audit is tested with it
    (tests/portal/test_break_glass_token.py)."""
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
            "transaction_source_code": "SEMINE",
            "new_token": new,
            "entities-TOTAL_FORMS": "0",
            "entities-INITIAL_FORMS": "0",
            "schedules-TOTAL_FORMS": "0",
            "schedules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    conn.refresh_from_db()
    assert conn.token_fingerprint == old_fingerprint and conn.reveal_token() == TOKEN
    assert not AuditEntry.objects.filter(action__startswith="token").exists()
    dumped = str(list(AuditEntry.objects.values()))
    assert new not in dumped and TOKEN not in dumped


def test_edits_of_a_connection_are_audited(db, client, superuser):
    # (Only a superuser may change entities; PMs and support see them read-only.)
    conn = make_connection()
    entity = conn.entities.create(db_id=501, code="C1", description="Datter AS", in_scope=True)
    client.force_login(superuser)
    response = client.post(
        f"/admin/integrations/connection/{conn.pk}/change/",
        {
            "customer": conn.customer_id,
            "environment": "production",
            "owner_entity_id": "10002",
            "selected_dimensions": "[]",
            "transaction_source_code": "SEMINE",
            "entities-TOTAL_FORMS": "1",
            "entities-INITIAL_FORMS": "1",
            "entities-0-id": entity.pk,
            "entities-0-connection": conn.pk,
            "entities-0-db_id": "501",
            "entities-0-code": "C1",
            "entities-0-description": "Datter AS",
            "schedules-TOTAL_FORMS": "0",
            "schedules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    changed = AuditEntry.objects.get(action="connection_changed")
    assert changed.before == {"owner_entity_id": 10001}
    assert changed.after == {"owner_entity_id": 10002}
    entities = AuditEntry.objects.get(action="cliententity_changed")
    assert entities.after["edited"] == {"C1 Datter AS": ["in_scope"]}
    assert not AuditEntry.objects.filter(action="token_changed").exists()


def test_edits_of_a_customer_are_audited(db, client, pm_user):
    from tests.admin_builders import make_submitted_customer

    customer = make_submitted_customer()
    client.force_login(pm_user)
    page = client.get(f"/admin/portal/customer/{customer.pk}/change/")
    form = page.context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data = {k: v for k, v in data.items() if k in form.fields}
    data.update({"supplier_posting_account": "2401", "project_manager": pm_user.pk})
    for key in ("fixed_assets_apply", "fixed_assets_as_dimension"):
        data.pop(key, None)
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        prefix = formset.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = management.initial["TOTAL_FORMS"]
        data[f"{prefix}-INITIAL_FORMS"] = management.initial["INITIAL_FORMS"]
        for i, inline_form in enumerate(formset.formset.forms):
            for name, field in inline_form.fields.items():
                value = inline_form.initial.get(name, field.initial)
                if value is not None and name != "DELETE":
                    data[f"{prefix}-{i}-{name}"] = getattr(value, "pk", value)
    response = client.post(f"/admin/portal/customer/{customer.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get(action="customer_changed")
    assert entry.before["supplier_posting_account"] == ""
    assert entry.after["supplier_posting_account"] == "2401"
    assert entry.after["project_manager"] == str(pm_user)
