from integrations.models import Issue
from portal.models import AuditEntry
from tests.admin_builders import make_issue
from tests.factories import make_connection, make_customer

URL = "/admin/integrations/issue/"


def _act(client, action, issues):
    return client.post(URL, {"action": action, "_selected_action": [i.pk for i in issues]})


def test_the_inbox_shows_unresolved_issues_by_default(db, client, support_user):
    conn = make_connection()
    make_issue(conn, title="Suppliers failing since Monday")
    make_issue(conn, kind="auth_failed", dataset="", status="resolved", title="Old token problem")
    client.force_login(support_user)
    html = client.get(URL).content.decode()
    assert "Suppliers failing since Monday" in html
    assert "Old token problem" not in html
    assert "Old token problem" in client.get(URL + "?state=all").content.decode()


def test_support_acknowledges_mutes_and_resolves_with_audit(db, client, support_user):
    conn = make_connection()
    a = make_issue(conn, dataset="suppliers")
    b = make_issue(conn, dataset="accounts")
    c = make_issue(conn, dataset="currencies")
    client.force_login(support_user)
    assert _act(client, "acknowledge", [a]).status_code == 302
    assert _act(client, "mute", [b]).status_code == 302
    assert _act(client, "resolve", [c]).status_code == 302
    a.refresh_from_db(), b.refresh_from_db(), c.refresh_from_db()
    assert a.status == "acknowledged" and a.acknowledged_by == support_user
    assert b.status == "muted"
    assert c.status == "resolved" and c.resolved_at is not None
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert actions == {"issue_acknowledged", "issue_muted", "issue_resolved"}
    entry = AuditEntry.objects.get(action="issue_muted")
    assert entry.before == {"status": "open"} and entry.after == {"status": "muted"}
    assert entry.actor == support_user


def test_the_inbox_filters_by_connection(db, client, pm_user):
    one = make_connection(customer=make_customer("En AS"))
    two = make_connection(customer=make_customer("To AS"), owner_entity_id=2)
    make_issue(one, title="Issue of En")
    make_issue(two, title="Issue of To")
    client.force_login(pm_user)
    html = client.get(f"{URL}?connection={one.pk}").content.decode()
    assert "Issue of En" in html and "Issue of To" not in html


def test_a_viewer_without_change_issue_gets_no_actions(db, client):
    from django.contrib.auth.models import Permission, User

    viewer = User.objects.create_user("viewer", "v@semine.example", "pw-123456789", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_issue"))
    issue = make_issue(make_connection())
    client.force_login(viewer)
    html = client.get(URL).content.decode()
    assert "Acknowledge selected issues" not in html
    _act(client, "resolve", [issue])
    issue.refresh_from_db()
    assert issue.status == Issue.Status.OPEN
    assert not AuditEntry.objects.exists()


def test_support_confirms_a_held_mass_deletion(
    db, client, support_user, django_capture_on_commit_callbacks, monkeypatch
):
    from integrations import dispatch
    from integrations.models import Run

    monkeypatch.setattr(dispatch, "_async_task", lambda run_id, name: None)
    conn = make_connection()
    issue = make_issue(
        conn,
        kind="mass_deletion",
        dataset="suppliers",
        data={"missing": 900, "live": 1000, "run": 1},
    )
    client.force_login(support_user)
    with django_capture_on_commit_callbacks(execute=True):
        _act(client, "confirm_mass_deletion", [issue])
    issue.refresh_from_db()
    assert issue.status == "acknowledged" and issue.data["confirmed"] is True
    run = Run.objects.get(connection=conn, dataset="suppliers")
    assert run.full and run.triggered_by == support_user
    entry = AuditEntry.objects.get(action="mass_deletion_confirmed")
    assert entry.after["run"] == run.pk and entry.after["missing"] == 900


def test_a_project_manager_cannot_confirm_a_mass_deletion(db, client, pm_user):
    issue = make_issue(make_connection(), kind="mass_deletion", dataset="suppliers")
    client.force_login(pm_user)
    assert "confirm_mass_deletion" not in client.get(URL).content.decode()
    _act(client, "confirm_mass_deletion", [issue])
    issue.refresh_from_db()
    assert issue.status == "open"
