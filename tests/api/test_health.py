from datetime import timedelta

from django.db import OperationalError
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_q.tasks import async_task

from api import health
from integrations.models import DispatcherTick


def record_tick(ago):
    DispatcherTick.record(ticked_at=timezone.now() - ago)


def first_migrated(ago):
    """As if this database's first `migrate` ran `ago` ago (the test database's ran at setup)."""
    MigrationRecorder.Migration.objects.update(applied=timezone.now() - ago)


def test_it_is_healthy_with_a_recent_tick(client, db):
    record_tick(timedelta(seconds=30))
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["dispatcher"]["ok"] is True
    assert 29 <= body["checks"]["dispatcher"]["age_seconds"] < 60
    assert body["checks"]["dispatcher"]["max_age_seconds"] == 180
    assert body["checks"]["tasks"] == {"ok": True, "queued": 0, "in_progress": 0}
    assert "no-cache" in response["Cache-Control"]


def test_it_counts_queued_tasks(client, db):
    record_tick(timedelta(seconds=5))
    async_task("math.floor", 1.5)
    async_task("math.floor", 2.5)
    assert client.get("/health/").json()["checks"]["tasks"]["queued"] == 2


def test_it_fails_when_the_tick_is_stale(client, db):
    record_tick(timedelta(minutes=4))
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.json()["checks"]["dispatcher"]["ok"] is False


def test_it_follows_the_max_tick_age_setting(client, db, settings):
    settings.HEALTH_MAX_TICK_AGE = timedelta(minutes=10)
    record_tick(timedelta(minutes=4))
    assert client.get("/health/").status_code == 200


def test_a_fresh_install_waits_for_its_first_tick(client, db):
    first_migrated(timedelta(seconds=20))
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    dispatcher = body["checks"]["dispatcher"]
    assert dispatcher["ok"] is True
    assert dispatcher["waiting"] == "no tick yet"
    assert dispatcher["last_tick_at"] is None
    assert "error" not in dispatcher


def test_the_first_tick_is_owed_within_the_max_tick_age_of_the_first_migrate(client, db, settings):
    settings.HEALTH_MAX_TICK_AGE = timedelta(minutes=10)
    first_migrated(timedelta(minutes=9))
    assert client.get("/health/").status_code == 200
    first_migrated(timedelta(minutes=11))
    assert client.get("/health/").status_code == 503


def test_it_fails_when_the_dispatcher_never_ticked(client, db):
    first_migrated(timedelta(minutes=4))
    response = client.get("/health/")
    assert response.status_code == 503
    dispatcher = response.json()["checks"]["dispatcher"]
    assert dispatcher["ok"] is False
    assert dispatcher["error"] == "the dispatcher has never ticked"
    assert "waiting" not in dispatcher


def test_a_later_migrate_does_not_restart_the_wait(client, db):
    first_migrated(timedelta(days=30))
    MigrationRecorder.Migration.objects.create(app="integrations", name="9999_later")
    assert client.get("/health/").status_code == 503


def test_once_it_has_ticked_a_stopped_dispatcher_fails_even_on_a_fresh_install(client, db):
    first_migrated(timedelta(seconds=20))
    record_tick(timedelta(minutes=4))
    assert client.get("/health/").status_code == 503


class UnreachableDatabase:
    def cursor(self):
        raise OperationalError("could not connect to server")


def test_it_fails_when_the_database_is_unreachable(client, db, monkeypatch):
    record_tick(timedelta(seconds=5))
    first_migrated(timedelta(seconds=5))  # neither a tick nor a fresh install hides it
    monkeypatch.setattr(health, "connection", UnreachableDatabase())
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"ok": False}
    assert body["checks"]["dispatcher"]["ok"] is False


def test_it_needs_no_login_and_only_reads(client, db):
    assert client.get("/health/").status_code in (200, 503)
    assert client.post("/health/").status_code == 405


def test_it_is_healthy_after_a_real_dispatcher_tick(client, db):
    from integrations.dispatch import tick

    tick()
    assert client.get("/health/").status_code == 200
