"""Fixtures for the sync engine's tests: an in-process sandbox and a live connection on it."""

import pytest
from django.utils import timezone

from integrations import clients, dispatch
from integrations.models import ClientEntity, Connection, Run, Schedule
from integrations.services import run_create, run_execute
from integrations.xledger.sandbox import Sandbox
from tests.factories import make_connection


@pytest.fixture(autouse=True)
def quick_client(settings):
    """Retries stay on (two attempts) but never sleep long in tests."""
    settings.XLEDGER_MAX_ATTEMPTS = 2
    settings.XLEDGER_MAX_WAIT_SECONDS = 0.05


@pytest.fixture
def sandbox():
    return Sandbox(seed=7, suppliers=200, clients=3, burst_limit=False)


@pytest.fixture
def queued(monkeypatch):
    """Task ids the engine would have handed to django-q2 (nothing is really queued)."""
    sent = []
    monkeypatch.setattr(dispatch, "_async_task", lambda run_id, name: sent.append(run_id))
    return sent


@pytest.fixture
def connection(db, sandbox, monkeypatch, queued):
    monkeypatch.setattr(clients, "transport_factory", lambda connection: sandbox.transport())
    connection = make_connection(
        token=sandbox.demo_tokens["full"],
        owner_entity_id=sandbox.owner_db_id,
        live_since=timezone.now(),
        selected_dimensions=kind_keys(sandbox, "Prosjekt", "Avdeling"),
    )
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.OK)
    connection.refresh_from_db()
    for entity in sandbox.records("entities"):
        ClientEntity.objects.create(
            connection=connection,
            db_id=entity["dbId"],
            code=entity["code"] or "",
            is_owner=entity["dbId"] == sandbox.owner_db_id,
        )
    Schedule.objects.filter(connection=connection).update(enabled=True)
    return connection


def kind_keys(sandbox, *names) -> list[str]:
    """Our keys (dbIds as text) of the sandbox's object kinds with these names, in that order.
    Kinds are found by name: not every Xledger reading has a `code` on object kinds."""
    by_name = {k["name"]: str(int(k["dbId"])) for k in sandbox.records("objectKinds")}
    return [by_name[name] for name in names]


def sync_now(connection, dataset, *, full=False) -> Run:
    """Queue and run one sync in this process, as a worker would."""
    schedule = Schedule.objects.get(connection=connection, dataset=dataset)
    run = run_create(schedule=schedule, trigger=Run.Trigger.MANUAL, full=full)
    assert run is not None, "a run of this dataset is already active"
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run
