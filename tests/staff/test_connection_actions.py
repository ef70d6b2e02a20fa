from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from integrations.models import Connection, Issue, Run
from portal.models import AuditEntry
from tests.admin_builders import make_customer_user, make_run, make_submitted_customer
from tests.factories import TOKEN


def _url(conn, action):
    return f"/admin/integrations/connection/{conn.pk}/{action}/"


def _live_connection():
    customer = make_submitted_customer()
    conn = customer.connections.get()
    conn.live_since = timezone.now()
    conn.save()
    conn.schedules.exclude(dataset="fixed_assets").update(
        enabled=True, last_full_sync_at=timezone.now()
    )
    return conn


def test_support_resyncs_one_dataset_incrementally_or_fully(
    db, client, support_user, queued, django_capture_on_commit_callbacks
):
    conn = _live_connection()
    client.force_login(support_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(conn, "resync"), {"dataset": "accounts"})
    assert response.status_code == 302
    run = Run.objects.get(connection=conn)
    assert (run.dataset, run.trigger, run.triggered_by) == ("accounts", "manual", support_user)
    assert not run.full
    assert queued == [run.pk]
    entry = AuditEntry.objects.get(action="resync")
    assert entry.actor == support_user
    assert entry.after["dataset"] == "accounts" and entry.after["full"] is False
    assert entry.after["runs"] == [{"id": run.pk, "dataset": "accounts"}]
    run.status = "succeeded"
    run.save()
    client.post(_url(conn, "resync"), {"dataset": "suppliers", "full": "on"})
    full = Run.objects.get(connection=conn, dataset="suppliers")
    assert full.full
    assert AuditEntry.objects.filter(action="resync").count() == 2


def test_support_resyncs_everything(db, client, support_user, queued):
    conn = _live_connection()
    client.force_login(support_user)
    client.post(_url(conn, "resync"), {"dataset": ""})
    datasets = set(Run.objects.filter(connection=conn).values_list("dataset", flat=True))
    assert datasets == {"currencies", "accounts", "vat_codes", "dimensions", "suppliers"}
    assert AuditEntry.objects.get(action="resync").after["dataset"] == "all"


def test_a_paused_connection_is_not_resynced(db, client, support_user, queued):
    conn = _live_connection()
    Connection.objects.filter(pk=conn.pk).update(status="paused")
    client.force_login(support_user)
    response = client.post(_url(conn, "resync"), {"dataset": "suppliers"}, follow=True)
    assert "fix that before a resync" in response.content.decode()
    assert not Run.objects.exists() and not AuditEntry.objects.exists()


def test_support_pauses_and_resumes_with_audit(db, client, support_user):
    conn = _live_connection()
    client.force_login(support_user)
    assert client.post(_url(conn, "pause")).status_code == 302
    conn.refresh_from_db()
    assert conn.status == "paused"
    assert "Resume connection" in client.get(_url(conn, "change")).content.decode()
    client.post(_url(conn, "resume"))
    conn.refresh_from_db()
    assert conn.status == "ok"
    paused = AuditEntry.objects.get(action="connection_paused")
    resumed = AuditEntry.objects.get(action="connection_resumed")
    assert paused.before == {"status": "ok"} and paused.after == {"status": "paused"}
    assert resumed.before == {"status": "paused"} and resumed.after == {"status": "ok"}
    assert paused.actor == resumed.actor == support_user


def test_actions_need_post(db, client, support_user):
    conn = _live_connection()
    client.force_login(support_user)
    assert client.get(_url(conn, "pause")).status_code == 405
    conn.refresh_from_db()
    assert conn.status == "ok"


def test_support_reverifies_the_token_against_xledger(db, client, support_user, sandbox):
    customer = make_submitted_customer()
    conn = customer.connections.get()
    conn.set_token(sandbox.demo_tokens["full"])
    conn.owner_entity_id = sandbox.owner_db_id
    conn.status = "needs_attention"
    conn.verification = {}
    conn.save()
    client.force_login(support_user)
    assert client.post(_url(conn, "reverify")).status_code == 302
    conn.refresh_from_db()
    assert conn.status == "ok" and conn.verification["ok"] is True
    entry = AuditEntry.objects.get(action="connection_reverified")
    assert entry.before == {"status": "needs_attention", "verified_ok": False}
    assert entry.after == {"status": "ok", "verified_ok": True}
    assert sandbox.demo_tokens["full"] not in str(entry.before) + str(entry.after)


def test_a_revoked_token_fails_the_reverify_and_opens_an_issue(db, client, support_user, sandbox):
    conn = make_submitted_customer().connections.get()
    conn.set_token(sandbox.demo_tokens["revoked"])
    conn.owner_entity_id = sandbox.owner_db_id
    conn.status = "ok"
    conn.save()
    client.force_login(support_user)
    client.post(_url(conn, "reverify"))
    conn.refresh_from_db()
    assert conn.status == "needs_attention"
    assert Issue.objects.filter(connection=conn).exclude(status="resolved").exists()
    assert AuditEntry.objects.get(action="connection_reverified").after["status"] == (
        "needs_attention"
    )


def test_the_connection_page_shows_health_chart_and_actions(db, client, support_user):
    conn = _live_connection()
    make_run(conn, "suppliers", fetched=77)
    make_run(conn, "suppliers", status="failed", ago=timedelta(minutes=30))
    conn.schedules.filter(dataset="suppliers").update(failure_streak=2)
    client.force_login(support_user)
    html = client.get(_url(conn, "change")).content.decode()
    assert "<svg" in html and "Records fetched" in html
    assert "Resync" in html and "Re-verify token" in html and "Pause connection" in html
    assert '<strong style="color:#b83232">2</strong>' in html  # failure streak
    assert TOKEN not in html


def test_permission_checks(db, client, pm_user, queued):
    conn = _live_connection()
    viewer = User.objects.create_user("viewer", "v@semine.example", "pw-123456789", is_staff=True)
    client.force_login(pm_user)  # PMs do not resync or re-verify (support does)
    assert client.post(_url(conn, "resync"), {"dataset": "suppliers"}).status_code == 403
    assert client.post(_url(conn, "reverify")).status_code == 403
    client.force_login(viewer)
    for action in ("resync", "pause", "resume", "reverify", "intervals"):
        assert client.post(_url(conn, action)).status_code == 403, action
    client.force_login(make_customer_user(conn.customer))
    response = client.post(_url(conn, "pause"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    conn.refresh_from_db()
    assert conn.status == "ok"
    assert not Run.objects.exists() and not AuditEntry.objects.exists()
