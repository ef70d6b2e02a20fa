"""End to end: a real qcluster, the dispatcher loop and the sandbox as its own HTTP process.

The schedules run on their own (intervals of a few seconds, the dispatcher ticking twice a
second), the mirror ends up equal to the sandbox, changes and deletions arrive, a worker killed
mid-run leaves an abandoned run and a later good one, and a revoked token stops all requests.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Connection, Currency, Issue, Run, Schedule, Supplier
from integrations.services import connection_go_live
from tests.factories import make_connection

from .processes import Processes, SandboxControl, database_url, free_port, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

INTERVALS = {"suppliers": 3, "currencies": 5, "accounts": 5, "dimensions": 5, "vat_codes": 5}


@pytest.fixture
def world(tmp_path):
    port = free_port()
    sandbox = SandboxControl(port)
    procs = Processes(
        {
            "DATABASE_URL": database_url(),
            "XLEDGER_API_URL": sandbox.url,
            "RUN_HEARTBEAT_STALE_SECONDS": "3",
            "XLEDGER_MAX_ATTEMPTS": "2",
            "XLEDGER_MAX_WAIT_SECONDS": "1",
            "Q_WORKERS": "2",
        },
        tmp_path,
    )
    try:
        procs.start(
            "sandbox",
            "xledger_sandbox",
            "--port",
            str(port),
            "--suppliers",
            "300",
            "--seed",
            "3",
            "--no-burst-limit",
        )
        wait_for(sandbox.ready, what="the sandbox")
        yield procs, sandbox
    finally:
        procs.stop_all()
        print(procs.logs())  # shown with a failing test's report


def _go_live(sandbox):
    info = sandbox.call("GET", "info")
    connection = make_connection(
        token=info["demo_tokens"]["full"],
        owner_entity_id=info["owner_db_id"],
        selected_dimensions=[],
    )
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.OK)
    connection.refresh_from_db()
    for dataset, seconds in INTERVALS.items():
        Schedule.objects.filter(connection=connection, dataset=dataset).update(
            interval_override=timedelta(seconds=seconds), override_reason="e2e"
        )
    connection_go_live(connection=connection, by=None)
    Schedule.objects.filter(connection=connection, dataset="invoices").update(enabled=False)
    return connection, info


def _done(connection, dataset, after_pk=0):
    return (
        Run.objects.filter(
            connection=connection,
            dataset=dataset,
            pk__gt=after_pk,
            status__in=[Run.Status.SUCCEEDED, Run.Status.PARTIAL],
        )
        .order_by("-pk")
        .first()
    )


def _mirror(connection, model=Supplier):
    return {
        row.db_id: (row.code, row.description)
        for row in model.objects.filter(connection=connection, is_deleted=False)
    }


def _sandbox_records(sandbox, kind):
    return {
        r["dbId"]: (r["code"], r["description"]) for r in sandbox.call("GET", f"records/{kind}")
    }


def test_it_syncs_on_its_own_and_survives_a_killed_worker(world):
    procs, sandbox = world
    connection, _info = _go_live(sandbox)
    procs.start("qcluster", "qcluster")
    procs.start("dispatcher", "dispatcher", "--every", "0.5")

    # The initial full syncs, then scheduled ones, with the right counts.
    for dataset in INTERVALS:
        wait_for(lambda d=dataset: _done(connection, d), what=f"a {dataset} run")
    first = Run.objects.filter(connection=connection, dataset="suppliers").order_by("pk").first()
    assert first.trigger == Run.Trigger.GO_LIVE and first.full
    assert (first.fetched, first.created, first.status) == (300, 300, Run.Status.SUCCEEDED)
    scheduled = wait_for(
        lambda: Run.objects.filter(
            connection=connection,
            dataset="suppliers",
            trigger=Run.Trigger.SCHEDULED,
            status=Run.Status.SUCCEEDED,
        ).first(),
        what="a scheduled supplier run",
    )
    assert not scheduled.full and scheduled.requests == 1
    assert _mirror(connection) == _sandbox_records(sandbox, "suppliers")
    assert _mirror(connection, Currency) == _sandbox_records(sandbox, "currencies")

    # Changes and deletions in Xledger reach the mirror by themselves.
    ids = sorted(_sandbox_records(sandbox, "suppliers"))
    sandbox.call("PATCH", f"records/suppliers/{ids[7]}", {"description": "Endret AS"})
    sandbox.call("DELETE", f"records/suppliers/{ids[8]}")
    new_id = sandbox.call("POST", "records/suppliers", {"code": "77777", "description": "Ny AS"})[
        "dbId"
    ]
    wait_for(
        lambda: _mirror(connection) == _sandbox_records(sandbox, "suppliers"),
        what="the change, the deletion and the new supplier",
    )
    assert Supplier.objects.get(connection=connection, db_id=ids[8]).is_deleted
    assert _mirror(connection)[new_id] == ("77777", "Ny AS")

    # Kill the worker in the middle of a supplier run.
    sandbox.call("POST", "faults", {"name": "slow", "seconds": 30, "field": "suppliers"})
    stuck = wait_for(
        lambda: Run.objects.filter(
            connection=connection, dataset="suppliers", status=Run.Status.RUNNING
        ).first(),
        what="a supplier run in progress",
    )
    procs.kill("qcluster")
    sandbox.call("DELETE", "faults")
    wait_for(
        lambda: Run.objects.get(pk=stuck.pk).status == Run.Status.ABANDONED,
        what="the reaper to abandon the killed run",
    )
    procs.start("qcluster-2", "qcluster")
    later = wait_for(lambda: _done(connection, "suppliers", after_pk=stuck.pk), what="a later run")
    assert later.status == Run.Status.SUCCEEDED
    assert Run.objects.get(pk=stuck.pk).error_kind == "abandoned"
    assert not Run.objects.filter(
        status=Run.Status.RUNNING, heartbeat_at__lt=timezone.now() - timedelta(seconds=10)
    ).exists()


def test_it_stops_calling_xledger_when_the_token_is_revoked(world):
    procs, sandbox = world
    connection, info = _go_live(sandbox)
    procs.start("qcluster", "qcluster")
    procs.start("dispatcher", "dispatcher", "--every", "0.5")
    token = info["demo_tokens"]["full"]
    wait_for(lambda: _done(connection, "suppliers"), what="a first supplier run")

    sandbox.call("POST", "tokens/revoke", {"token": token})
    wait_for(
        lambda: (
            Connection.objects.get(pk=connection.pk).status == Connection.Status.NEEDS_ATTENTION
        ),
        what="the connection to need attention",
    )
    wait_for(
        lambda: (
            not Run.objects.filter(connection=connection, status__in=Run.ACTIVE_STATUSES).exists()
        ),
        what="runs in flight to end",
    )
    requests = sandbox.call("POST", "counts/token", {"token": token})["count"]
    import time

    time.sleep(4)  # several ticks and several supplier intervals

    assert sandbox.call("POST", "counts/token", {"token": token})["count"] == requests
    issue = Issue.objects.get(connection=connection)
    assert issue.kind == Issue.Kind.AUTH_FAILED and issue.notified_at is not None
