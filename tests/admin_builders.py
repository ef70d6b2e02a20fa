"""Builders for the admin tests: a submitted customer with a cleanly verified connection, runs,
issues, a customer user."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from integrations.models import Issue, Run, Schedule
from portal.models import Contact, Customer, Membership
from tests.factories import make_connection, make_customer

VERIFICATION_OK = {
    "ok": True,
    "owner": {"dbId": 10001, "code": "OWN", "description": "Owner AS"},
    "owner_matches": True,
    "entities": [],
    "object_kinds": [],
    "checks": [
        {"key": "token", "label": "Xledger accepts the token", "ok": True, "fix": ""},
        {"key": "suppliers", "label": "The token may read suppliers", "ok": True, "fix": ""},
    ],
    "requests": 4,
}

VERIFICATION_FAILED = {
    **VERIFICATION_OK,
    "ok": False,
    "checks": [
        {"key": "token", "label": "Xledger accepts the token", "ok": True, "fix": ""},
        {
            "key": "suppliers",
            "label": "The token may read suppliers",
            "ok": False,
            "fix": "Give the token the Suppliers read scope.",
        },
    ],
}


def make_submitted_customer(name="Fjordbåt Shipping AS", *, pm=None, verified=True, **fields):
    customer = make_customer(
        name,
        onboarding_status=Customer.Status.SUBMITTED,
        submitted_at=timezone.now(),
        project_manager=pm,
        **{"expected_invoice_volume": 200, **fields},
    )
    Contact.objects.create(
        customer=customer,
        role=Contact.Role.PROJECT,
        name="Åse Ødegård",
        email="ase@fjordbat.example",
    )
    Contact.objects.create(
        customer=customer,
        role=Contact.Role.FINANCE,
        name="Per Hansen",
        email="per@fjordbat.example",
    )
    connection = make_connection(customer=customer)
    if verified:
        mark_verified(connection)
    return customer


def mark_verified(connection, verification=VERIFICATION_OK):
    connection.status = "ok" if verification.get("ok") else "needs_attention"
    connection.verification = verification
    connection.verified_at = timezone.now()
    connection.save()
    return connection


def make_customer_user(customer, username="kunde"):
    user = User.objects.create_user(username, f"{username}@fjordbat.example", "kunde-pass-123")
    Membership.objects.create(user=user, customer=customer)
    return user


def make_run(connection, dataset="suppliers", status="succeeded", ago=timedelta(hours=1), **fields):
    queued = timezone.now() - ago
    finished = status not in ("queued", "running")
    defaults = {
        "queued_at": queued,
        "started_at": queued + timedelta(seconds=1) if status != "queued" else None,
        "finished_at": queued + timedelta(seconds=5) if finished else None,
        "fetched": 10,
        "requests": 1,
    }
    defaults.update(fields)
    run = Run.objects.create(connection=connection, dataset=dataset, status=status, **defaults)
    if status in ("succeeded", "partial") and run.finished_at:
        # As the engine does when a run completes: its schedule keeps the last success, which
        # the lists and health read (the run history is rolled up and pruned). Builders may make
        # runs out of order, so only a later success moves it.
        Schedule.objects.filter(connection=connection, dataset=dataset).filter(
            Q(last_success_at__isnull=True) | Q(last_success_at__lt=run.finished_at)
        ).update(last_success_at=run.finished_at)
    return run


def make_issue(connection, kind="dataset_failing", dataset="suppliers", **fields):
    return Issue.objects.create(
        connection=connection,
        kind=kind,
        dataset=dataset,
        title=fields.pop("title", f"{dataset} failing"),
        **fields,
    )
