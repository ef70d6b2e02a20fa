"""Go-live, manual resync, pause/resume and the monthly request estimate."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from integrations import services
from integrations.datasets import INITIAL_SYNC_ORDER
from integrations.models import ClientEntity, Connection, Run, Schedule, Supplier
from integrations.selectors import (
    estimated_monthly_requests,
    last_success_by_dataset,
    open_issues,
)
from integrations.services import (
    connection_go_live,
    connection_pause,
    connection_resume,
    resync,
    run_execute,
)

from .conftest import sync_now


def test_it_goes_live_with_initial_full_syncs(connection, superuser):
    Connection.objects.filter(pk=connection.pk).update(live_since=None)
    Schedule.objects.filter(connection=connection).update(enabled=False, next_run_at=None)
    connection.refresh_from_db()

    runs = connection_go_live(connection=connection, by=superuser)

    expected = [d for d in INITIAL_SYNC_ORDER if d != "fixed_assets"]  # not for this customer
    assert [r.dataset for r in runs] == expected
    assert all(r.full and r.trigger == Run.Trigger.GO_LIVE for r in runs)
    connection.refresh_from_db()
    assert connection.is_live
    schedules = {s.dataset: s for s in connection.schedules.all()}
    assert not schedules["fixed_assets"].enabled and schedules["suppliers"].enabled
    assert schedules["suppliers"].next_run_at == schedules["suppliers"].next_due_after(
        connection.live_since
    )
    for run in runs:
        run_execute(run_id=run.pk)
    assert set(last_success_by_dataset(connection)) == set(expected)


def test_it_resyncs_on_demand_without_queueing_twice(connection, superuser):
    first = resync(connection=connection, dataset="suppliers", full=True, by=superuser)
    again = resync(connection=connection, dataset="suppliers", by=superuser)

    assert first == again and first[0].full and first[0].triggered_by == superuser
    assert len(resync(connection=connection, by=superuser)) == 5  # every enabled mirror dataset


def test_it_refuses_a_resync_of_a_paused_connection(connection, superuser, queued):
    connection_pause(connection=connection, by=superuser)
    Schedule.objects.filter(connection=connection).update(next_run_at=None)
    with pytest.raises(ValidationError):
        resync(connection=connection, by=superuser)

    connection_resume(connection=connection, by=superuser)
    assert connection.status == Connection.Status.OK
    assert resync(connection=connection, dataset="currencies", by=superuser)


def test_it_resyncs_from_the_command_line(connection, sandbox, monkeypatch, capsys):
    # A worker that takes each run as soon as it is queued.
    monkeypatch.setattr(services, "enqueue_run", lambda run: run_execute(run_id=run.pk))

    call_command("resync", connection.customer.legal_name, "--dataset", "suppliers", "--wait")
    call_command("resync", str(connection.customer_id), "--full", "--dataset", "currencies")

    out = capsys.readouterr().out
    assert "suppliers: succeeded" in out and "(full)" in out
    assert Supplier.objects.filter(connection=connection).count() == 200


def test_it_estimates_monthly_requests(connection):
    sync_now(connection, "suppliers", full=True)
    # suppliers every 30 min: 1,440 runs a month, 30 of them full (1 page each): 1,440;
    # currencies daily (1); dimensions 6-hourly (1: kinds and values in one document, or the
    # changed values only): 120; VAT daily (1: setups and values in one document): 30;
    # accounts daily, full (1); invoices 0; fixed assets do not apply.
    assert estimated_monthly_requests(connection) == 1440 + 30 + 120 + 30 + 30

    cheaper = estimated_monthly_requests(connection, overrides={"suppliers": timedelta(hours=1)})
    assert cheaper == 720 + 30 + 120 + 30 + 30


def test_it_lists_open_issues(connection, sandbox):
    sandbox.revoke_token(sandbox.demo_tokens["full"])
    sync_now(connection, "suppliers")
    assert [i.kind for i in open_issues(connection)] == ["auth_failed"]


def test_it_reverifies_a_malformed_token_without_calling_xledger(connection, sandbox):
    before = sandbox.request_count
    connection.set_token("not a token: has spaces")
    connection.save()
    verification = services.connection_reverify(connection=connection)
    assert sandbox.request_count == before
    assert not verification.ok
    stored = Connection.objects.get(pk=connection.pk).verification["checks"]
    assert stored[0]["key"] == "token" and stored[0]["params"]["problem"] == "rejected"
    assert "not a token" not in str(stored)


def test_it_reverifies_into_the_client_entities_keeping_the_scope_choices(connection, sandbox):
    out = sandbox.client_entity_ids[0]
    ClientEntity.objects.filter(connection=connection, db_id=out).update(in_scope=False)
    ClientEntity.objects.filter(connection=connection).exclude(db_id=out).first().delete()
    ClientEntity.objects.filter(connection=connection).update(description="stale")

    verification = services.connection_reverify(connection=connection)

    assert verification.ok, verification.to_dict()
    stored = {e.db_id: e for e in ClientEntity.objects.filter(connection=connection)}
    assert set(stored) == {e["dbId"] for e in verification.entities}
    assert not stored[out].in_scope
    assert sum(e.in_scope for e in stored.values()) == len(stored) - 1
    assert [e.db_id for e in stored.values() if e.is_owner] == [sandbox.owner_db_id]
    assert "stale" not in {e.description for e in stored.values()}
