"""End to end, a group with two Xledger owner entities: one customer, two connections.

The sandbox runs as its own HTTP process holding two owner entities. The customer is onboarded
through the portal's own actions (each token checked live over HTTP), approved once, and then a
real qcluster and the dispatcher sync both and send each its invoices: each mirror and outbox
stays its own, and revoking one owner entity's token pauses only that connection.
"""

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.models import Connection, Invoice, Issue, Run, Schedule, Supplier
from portal import golive, services
from portal.models import Contact, Customer, Membership
from tests.integrations.invoices.conftest import invoice_rows

from .processes import Processes, SandboxControl, database_url, free_port, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xledger, pytest.mark.django_db(transaction=True)]

INTERVALS = {
    "suppliers": 3,
    "currencies": 30,
    "accounts": 30,
    "dimensions": 30,
    "vat_codes": 30,
    "invoices": 2,
}


@pytest.fixture
def world(tmp_path, settings):
    port = free_port()
    sandbox = SandboxControl(port)
    settings.XLEDGER_API_URL = sandbox.url
    procs = Processes(
        {
            "DATABASE_URL": database_url(),
            "XLEDGER_API_URL": sandbox.url,
            "XLEDGER_MAX_ATTEMPTS": "2",
            "XLEDGER_MAX_WAIT_SECONDS": "1",
            "INVOICE_IN_DOUBT_SETTLE_SECONDS": "0",
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
            "60",
            "--seed",
            "5",
            "--owners",
            "2",
            "--no-burst-limit",
        )
        wait_for(sandbox.ready, what="the sandbox")
        yield procs, sandbox
    finally:
        procs.stop_all()
        print(procs.logs())  # shown with a failing test's report


def _customer(pm):
    customer = Customer.objects.create(
        legal_name="Nordlys Konsern AS",
        organisation_number="974760673",
        country="NO",
        street_address="Strandgata 1",
        postal_code="5013",
        city="Bergen",
        expected_invoice_volume=400,
        supplier_posting_account="2400",
        customer_posting_account="1500",
        desired_go_live="2027-01-04",
        project_manager=pm,
        onboarding_status=Customer.Status.IN_PROGRESS,
    )
    for role, name in (("project", "Kari Nordmann"), ("finance", "Ola Nordmann")):
        Contact.objects.create(
            customer=customer, role=role, name=name, email=f"{role}@nordlys.example"
        )
    user = User.objects.create_user("it@nordlys.example", "it@nordlys.example", "x-9-long-pass")
    Membership.objects.create(user=user, customer=customer)
    return customer, user


def _onboard(customer, user, owner, token, connection=None):
    check = services.connection_save_token(
        customer=customer,
        connection=connection,
        by=user,
        owner_entity_id=owner,
        environment="production",
        token=token,
    )
    assert check.outcome == "verified", check
    connection = check.connection
    entities = {e["dbId"]: {"in_scope": True} for e in connection.verification["entities"]}
    services.connection_save_scope(
        customer=customer, connection=connection, by=user, entities=entities, dimensions=[]
    )
    return connection


def _done(connection, dataset):
    return Run.objects.filter(
        connection=connection, dataset=dataset, status=Run.Status.SUCCEEDED
    ).exists()


def _mirror(connection):
    return {
        row.db_id: row.code for row in Supplier.objects.filter(connection=connection, is_deleted=0)
    }


def _sandbox_suppliers(sandbox, visible):
    return {
        r["dbId"]: r["code"]
        for r in sandbox.call("GET", "records/suppliers")
        if r["ownerDbId"] in visible
    }


def test_a_group_with_two_owner_entities_runs_as_two_connections(world, pm_user):
    procs, sandbox = world
    info = sandbox.call("GET", "info")
    (first_owner, second_owner) = info["owners"][:2]
    customer, user = _customer(pm_user)

    # Onboarding: the first owner entity, then "add another owner entity"; both checked live.
    first = _onboard(customer, user, first_owner["db_id"], first_owner["tokens"]["full"])
    second = _onboard(customer, user, second_owner["db_id"], second_owner["tokens"]["full"])
    assert first.pk != second.pk and customer.connections.count() == 2
    services.customer_confirm_setup(customer=customer, by=user)
    golive.customer_approve_golive(customer=customer, by=pm_user)
    for connection in (first, second):
        for dataset, seconds in INTERVALS.items():
            # Short intervals, due from now (go-live set each on its own grid).
            Schedule.objects.filter(connection=connection, dataset=dataset).update(
                interval_override=timedelta(seconds=seconds),
                override_reason="e2e",
                next_run_at=timezone.now(),
            )

    # One invoice to each owner entity's client entity, each in its own outbox.
    invoices = {}
    for connection, owner in ((first, first_owner), (second, second_owner)):
        entity = connection.entities.get(db_id=owner["client_ids"][0])
        supplier = next(
            r["code"]
            for r in sandbox.call("GET", "records/suppliers")
            if r["ownerDbId"] in (owner["db_id"], entity.db_id)
        )
        (invoices[connection.pk],) = invoice_rows(
            connection, 1, entity=entity, supplier=supplier, prefix=f"O{owner['db_id']}"
        )

    procs.start("qcluster", "qcluster")
    procs.start("dispatcher", "dispatcher", "--every", "0.5")
    for connection in (first, second):
        wait_for(lambda c=connection: _done(c, "suppliers"), timeout=60, what="supplier syncs")
        wait_for(
            lambda c=connection: (
                Invoice.objects.get(pk=invoices[c.pk].pk).status == Invoice.Status.SENT
            ),
            timeout=60,
            what="each invoice sent",
        )

    # Each mirror is its own owner entity's data, and nothing of the other's.
    for connection, owner in ((first, first_owner), (second, second_owner)):
        visible = {owner["db_id"], *owner["client_ids"]}
        assert _mirror(connection) == _sandbox_suppliers(sandbox, visible)
    assert not set(_mirror(first)) & set(_mirror(second))
    # Each invoice reached Xledger once, under its own owner entity.
    stored = sandbox.call("GET", "imports")
    for connection, owner in ((first, first_owner), (second, second_owner)):
        invoice = Invoice.objects.get(pk=invoices[connection.pk].pk)
        mine = [i for i in stored if i["clientId"] in invoice.xledger_db_ids]
        assert mine and all(i["ownerDbId"] == owner["client_ids"][0] for i in mine), mine

    # Revoking the second owner entity's token pauses that connection only.
    token = second_owner["tokens"]["full"]
    sandbox.call("POST", "tokens/revoke", {"token": token})
    wait_for(
        lambda: Connection.objects.get(pk=second.pk).status == Connection.Status.NEEDS_ATTENTION,
        timeout=30,
        what="the second connection to need attention",
    )
    wait_for(
        lambda: not Run.objects.filter(connection=second, status__in=Run.ACTIVE_STATUSES).exists(),
        what="its runs in flight to end",
    )
    requests = sandbox.call("POST", "counts/token", {"token": token})["count"]
    since = Run.objects.filter(connection=first).order_by("-pk").first().pk
    time.sleep(4)  # several ticks and supplier intervals
    assert sandbox.call("POST", "counts/token", {"token": token})["count"] == requests
    assert Connection.objects.get(pk=first.pk).status == Connection.Status.OK
    wait_for(
        lambda: Run.objects.filter(
            connection=first, pk__gt=since, dataset="suppliers", status=Run.Status.SUCCEEDED
        ).exists(),
        what="the first connection to keep syncing",
    )
    assert not Issue.objects.filter(connection=first, kind=Issue.Kind.AUTH_FAILED).exists()
    assert Issue.objects.filter(connection=second, kind=Issue.Kind.AUTH_FAILED).count() == 1
