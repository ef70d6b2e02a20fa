from datetime import timedelta

from integrations.models import Run
from portal.models import AuditEntry
from tests.admin_builders import make_customer_user, make_run
from tests.factories import make_connection


def _stuck(conn=None):
    conn = conn or make_connection()
    return make_run(
        conn,
        "suppliers",
        status="running",
        ago=timedelta(hours=3),
        heartbeat_at=None,
        worker="host-a:123",
    )


def test_support_releases_a_stuck_run_with_audit(db, client, support_user):
    run = _stuck()
    client.force_login(support_user)
    page = client.get(f"/admin/integrations/run/{run.pk}/change/").content.decode()
    assert "Release stuck run" in page
    response = client.post(f"/admin/integrations/run/{run.pk}/release/")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Run.Status.ABANDONED
    assert run.error_kind == "released"
    entry = AuditEntry.objects.get(action="run_released")
    assert entry.actor == support_user
    assert entry.before["status"] == "running" and entry.before["worker"] == "host-a:123"
    assert entry.after == {"status": "abandoned"}


def test_support_releases_from_the_list(db, client, support_user):
    run = _stuck()
    done = make_run(run.connection, "accounts")
    client.force_login(support_user)
    client.post(
        "/admin/integrations/run/",
        {"action": "release_selected", "_selected_action": [run.pk, done.pk]},
    )
    run.refresh_from_db(), done.refresh_from_db()
    assert run.status == "abandoned" and done.status == "succeeded"
    assert AuditEntry.objects.filter(action="run_released").count() == 1


def test_a_finished_run_cannot_be_released(db, client, support_user):
    run = make_run(make_connection(), "suppliers")
    client.force_login(support_user)
    client.post(f"/admin/integrations/run/{run.pk}/release/")
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert not AuditEntry.objects.exists()


def test_a_project_manager_cannot_release_locks(db, client, pm_user):
    run = _stuck()
    client.force_login(pm_user)
    page = client.get(f"/admin/integrations/run/{run.pk}/change/").content.decode()
    assert "Release stuck run" not in page
    assert "release_selected" not in client.get("/admin/integrations/run/").content.decode()
    assert client.post(f"/admin/integrations/run/{run.pk}/release/").status_code == 403
    client.post(
        "/admin/integrations/run/", {"action": "release_selected", "_selected_action": [run.pk]}
    )
    run.refresh_from_db()
    assert run.status == "running"
    assert not AuditEntry.objects.exists()


def test_a_customer_user_cannot_release(db, client):
    run = _stuck()
    client.force_login(make_customer_user(run.connection.customer))
    response = client.post(f"/admin/integrations/run/{run.pk}/release/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    run.refresh_from_db()
    assert run.status == "running"
