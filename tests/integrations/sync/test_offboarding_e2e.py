"""End to end, a customer who leaves: the sandbox runs as its own HTTP process, a real qcluster
and the dispatcher sync two live customers; one, with pending invoices and a full mirror, is
offboarded. The sandbox then counts no further request with its token (while the other customer
keeps syncing, the witness that time passed with workers busy), its invoices end cancelled, its
API calls are refused, its users cannot sign in, and its token's ciphertext is in no byte of the
database (the SQLite file and its log, or pg_dump)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from integrations.models import ApiKey, Connection, DispatcherTick, Invoice, Run, Schedule, Supplier
from portal import golive, offboarding
from portal.models import Customer, Membership
from tests.api.conftest import ApiClient
from tests.integrations.invoices.conftest import invoice_rows
from tests.portal.test_offboarding import _ciphertext, _raw_database

from .processes import wait_for
from .test_two_owner_entities_e2e import INTERVALS, _customer, _done, _onboard
from .test_two_owner_entities_e2e import world as _two_owner_sandbox

world = _two_owner_sandbox  # the fixture: a sandbox with two owner entities, and the processes

pytestmark = [pytest.mark.e2e, pytest.mark.xledger, pytest.mark.django_db(transaction=True)]


def _live(customer, user, owner, pm):
    connection = _onboard(customer, user, owner["db_id"], owner["tokens"]["full"])
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.SUBMITTED)
    customer.refresh_from_db()
    golive.customer_approve_golive(customer=customer, by=pm)
    for dataset, seconds in INTERVALS.items():
        Schedule.objects.filter(connection=connection, dataset=dataset).update(
            interval_override=timedelta(seconds=seconds),
            override_reason="e2e",
            next_run_at=timezone.now(),
        )
    return connection


def _succeeded_since(connection, pk):
    return Run.objects.filter(
        connection=connection, pk__gt=pk, dataset="suppliers", status=Run.Status.SUCCEEDED
    ).exists()


def test_an_offboarded_customer_costs_no_request_and_keeps_no_token(world, pm_user):
    procs, sandbox = world
    first_owner, second_owner = sandbox.call("GET", "info")["owners"][:2]
    leaving, user = _customer(pm_user)
    staying = Customer.objects.create(
        legal_name="Fjordbåt Shipping AS",
        project_manager=pm_user,
        onboarding_status=Customer.Status.IN_PROGRESS,
    )
    other_user = User.objects.create_user("it@fjordbat.example", "it@fjordbat.example", "pw-12345")
    Membership.objects.create(user=other_user, customer=staying)
    gone = _live(leaving, user, first_owner, pm_user)
    kept = _live(staying, other_user, second_owner, pm_user)
    # Invoices waiting in the outbox: its invoices schedule is not due while the mirror syncs.
    Schedule.objects.filter(connection=gone, dataset="invoices").update(
        next_run_at=timezone.now() + timedelta(hours=1)
    )
    entity = gone.entities.get(db_id=first_owner["client_ids"][0])
    pending = invoice_rows(gone, 3, entity=entity, prefix="LEAVE")
    _key, api_key = ApiKey.issue(name="SEMINE production")

    procs.start("qcluster", "qcluster")
    procs.start("dispatcher", "dispatcher", "--every", "0.5")
    for connection in (gone, kept):
        wait_for(lambda c=connection: _done(c, "suppliers"), timeout=60, what="supplier syncs")
    assert Supplier.objects.filter(connection=gone).exists()  # a full mirror
    ciphertext = _ciphertext(gone)
    assert ciphertext and ciphertext in _raw_database()

    offboarding.customer_offboard(
        customer=leaving, by=pm_user, reason="The contract ended.", confirmation=leaving.legal_name
    )
    wait_for(
        lambda: not Run.objects.filter(connection=gone, status__in=Run.ACTIVE_STATUSES).exists(),
        what="its runs in flight to end",
    )
    token = first_owner["tokens"]["full"]
    requests = sandbox.call("POST", "counts/token", {"token": token})["count"]
    # The witness: the other customer syncs its suppliers twice more, over several ticks.
    since = Run.objects.filter(connection=kept).order_by("-pk").first().pk
    ticked = DispatcherTick.objects.get().ticked_at
    wait_for(lambda: _succeeded_since(kept, since), timeout=60, what="the other customer to sync")
    since = Run.objects.filter(connection=kept).order_by("-pk").first().pk
    wait_for(lambda: _succeeded_since(kept, since), timeout=60, what="and once more")
    assert DispatcherTick.objects.get().ticked_at > ticked
    assert sandbox.call("POST", "counts/token", {"token": token})["count"] == requests
    assert not Run.objects.filter(connection=gone, started_at__gt=timezone.now()).exists()

    for invoice in pending:
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.CANCELLED and "offboarded" in invoice.last_error
    assert not any(
        i["clientId"] in inv.xledger_db_ids
        for i in sandbox.call("GET", "imports")
        for inv in pending
    )
    api = ApiClient(api_key)
    assert api.get(f"/api/connections/{gone.pk}/suppliers").status_code == 410
    assert api.get(f"/api/connections/{kept.pk}/suppliers").status_code == 200
    refused = Client().post(
        "/accounts/login/", {"username": user.username, "password": "x-9-long-pass"}
    )
    assert "_auth_user_id" not in refused.wsgi_request.session
    assert Connection.objects.filter(pk=gone.pk, api_token__isnull=True).exists()
    raw = _raw_database()
    assert ciphertext not in raw
    assert _ciphertext(kept) in raw  # the search finds a token that is there
