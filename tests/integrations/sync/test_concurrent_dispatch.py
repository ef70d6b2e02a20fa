"""Two dispatchers at once, each with its own database connection, never start a run twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection as db
from django.db import connections
from django.utils import timezone

from integrations import dispatch
from integrations.models import Connection, Run, Schedule
from integrations.services import run_execute
from tests.factories import make_connection, make_customer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        db.vendor != "postgresql", reason="SKIP LOCKED and real concurrency need PostgreSQL"
    ),
]


def _live_connections(count):
    now = timezone.now()
    for i in range(count):
        connection = make_connection(customer=make_customer(f"Kunde {i} AS"))
        Connection.objects.filter(pk=connection.pk).update(
            status=Connection.Status.OK, live_since=now
        )
    Schedule.objects.update(enabled=True, next_run_at=now - timedelta(minutes=1))
    # The invoices dataset is due only when the outbox has work: these have none.
    return Schedule.objects.exclude(dataset="invoices").count()


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    errors = []

    def target():
        try:
            barrier.wait()
            work()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_it_never_queues_a_schedule_twice(monkeypatch):
    due = _live_connections(40)
    sent, lock = [], threading.Lock()

    def record(run_id, name):
        with lock:
            sent.append(run_id)

    monkeypatch.setattr(dispatch, "_async_task", record)
    now = timezone.now()

    _in_threads(4, lambda: [dispatch.claim_due(now) for _ in range(3)])

    runs = list(Run.objects.values_list("pk", "connection_id", "dataset"))
    assert len(runs) == due  # every due schedule once...
    assert len({(c, d) for _, c, d in runs}) == due  # ...never twice
    assert sorted(sent) == sorted(pk for pk, _, _ in runs)  # each task sent once


def test_it_never_runs_a_run_twice(monkeypatch):
    _live_connections(1)
    schedule = Schedule.objects.get(dataset="currencies")
    run = Run.objects.create(
        connection=schedule.connection, schedule=schedule, dataset="currencies"
    )
    started = []
    monkeypatch.setattr(
        "integrations.services.dataset_module",
        lambda name: type("M", (), {"sync": staticmethod(lambda **kw: started.append(1))}),
    )
    monkeypatch.setattr("integrations.services.client_for", lambda c: _NoClient())

    _in_threads(4, lambda: run_execute(run_id=run.pk))

    assert started == [1]
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED


class _NoClient:
    request_count = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None
