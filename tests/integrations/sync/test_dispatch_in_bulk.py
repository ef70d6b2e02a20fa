"""The dispatcher in bulk: a tick claims, writes run rows and hands tasks to the broker in a
constant number of statements per batch, skips idle outboxes, and two dispatcher processes on
PostgreSQL never double a run."""

from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import OrmQ

from integrations import dispatch
from integrations.models import ClientEntity, Connection, Invoice, Run, Schedule
from tests.factories import make_connection, make_customer

from .processes import Processes, database_url, wait_for


def _live(count, now):
    for i in range(count):
        connection = make_connection(customer=make_customer(f"Kunde {i} AS"))
        Connection.objects.filter(pk=connection.pk).update(
            status=Connection.Status.OK, live_since=now
        )
    Schedule.objects.update(enabled=True, next_run_at=now - timedelta(minutes=1))


def _statements(queries):
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.django_db
def test_a_tick_costs_the_same_statements_for_few_or_many_connections(
    monkeypatch, django_capture_on_commit_callbacks
):
    """Each tick: the reaper's read, the due read, one claim UPDATE, one run INSERT, one broker
    INSERT and the tick record — whatever the number of due schedules (within a batch). Django
    splits a multi-row INSERT on SQLite at 999 parameters (about 35 runs), so there the batch is
    smaller; PostgreSQL takes a batch of 1,000 in one INSERT."""
    monkeypatch.setattr(dispatch, "SQLITE_CLAIM_CHUNK", 1000)
    now = timezone.now()
    counts = []
    for size in (1, 3) if db.vendor == "sqlite" else (5, 150):
        Run.objects.all().delete()
        OrmQ.objects.all().delete()
        _live(size, now)
        with (
            CaptureQueriesContext(db) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            runs = dispatch.tick(now).runs
        assert len(runs) == Schedule.objects.exclude(dataset="invoices").count()
        assert OrmQ.objects.count() == len(runs)  # every run handed over, in one write
        counts.append(_statements(queries))
    assert len(counts[0]) == len(counts[1]), "\n\n".join("\n".join(c) for c in counts)


@pytest.mark.django_db
def test_an_idle_outbox_costs_no_run_and_an_invoice_is_queued_at_intake(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(dispatch, "_async_task", lambda run_id, name: sent.append(run_id))
    now = timezone.now()
    _live(1, now)
    connection = Connection.objects.get()

    runs = dispatch.tick(now).runs
    assert "invoices" not in {run.dataset for run in runs}  # nothing to send: no run, no task

    Run.objects.update(status=Run.Status.SUCCEEDED)
    entity = ClientEntity.objects.create(connection=connection, db_id=1, code="1", is_owner=True)
    Invoice.objects.create(
        connection=connection, entity=entity, external_id="A-1", request_hash="x",
        supplier_code="1", invoice_number="1", invoice_date=now.date(), due_date=now.date(),
        currency="NOK", amount=1, vat_amount=0,
    )  # fmt: skip
    later = now + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        run = dispatch.send_soon(connection_id=connection.pk, now=later)

    assert run is not None and run.dataset == "invoices" and run.queued_at == later
    assert sent[-1] == run.pk
    # A second invoice while that run is queued: taken by the same run, nothing new queued.
    assert dispatch.send_soon(connection_id=connection.pk, now=later) is None
    assert Run.objects.filter(dataset="invoices").count() == 1


@pytest.mark.postgres
@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(db.vendor != "postgresql", reason="two dispatchers racing need PostgreSQL")
def test_two_dispatcher_processes_never_double_a_run(tmp_path):
    now = timezone.now()
    _live(150, now)
    due = Schedule.objects.exclude(dataset="invoices").count()
    procs = Processes({"DATABASE_URL": database_url()}, tmp_path)
    try:
        for name in ("one", "two"):
            procs.start(name, "dispatcher", "--every", "0.05", "--ticks", "40", "-v", "2")
        for name in ("one", "two"):
            wait_for(lambda n=name: procs.started[n].poll() is not None, timeout=120, what=name)
            assert procs.started[name].returncode == 0, procs.log(name)
    finally:
        procs.stop_all()

    runs = list(Run.objects.values_list("pk", "connection_id", "dataset"))
    assert len(runs) == due  # every due schedule once...
    assert len({(c, d) for _, c, d in runs}) == due  # ...never twice
    assert OrmQ.objects.count() == due  # one task each
