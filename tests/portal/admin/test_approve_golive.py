from django.core import mail

from integrations.datasets import INITIAL_SYNC_ORDER
from integrations.models import Run, Schedule
from portal.models import AuditEntry, Customer
from tests.admin_builders import (
    VERIFICATION_FAILED,
    make_customer_user,
    make_submitted_customer,
    mark_verified,
)


def _url(customer):
    return f"/admin/portal/customer/{customer.pk}/approve/"


def test_a_pm_approves_go_live(db, client, pm_user, queued, django_capture_on_commit_callbacks):
    customer = make_submitted_customer(pm=pm_user)
    make_customer_user(customer)
    client.force_login(pm_user)
    page = client.get(_url(customer)).content.decode()
    assert "Approve go-live" in page and "cannot go live" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(customer))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.LIVE
    conn = customer.connections.get()
    assert conn.live_since is not None
    # Schedules on, initial full syncs queued in dependency order (fixed assets do not apply).
    assert Schedule.objects.filter(connection=conn, dataset="suppliers", enabled=True).exists()
    runs = list(Run.objects.filter(connection=conn).order_by("pk"))
    expected = [d for d in INITIAL_SYNC_ORDER if d != "fixed_assets"]
    assert [r.dataset for r in runs] == expected
    assert all(r.trigger == "go_live" and r.full and r.triggered_by == pm_user for r in runs)
    assert queued == [r.pk for r in runs]
    entry = AuditEntry.objects.get(action="golive_approved")
    assert entry.actor == pm_user and entry.customer == customer
    assert entry.before == {"onboarding_status": "submitted"}
    assert entry.after["onboarding_status"] == "live"
    assert entry.after["initial_syncs"] == expected
    assert len(mail.outbox) == 1
    assert "is live" in mail.outbox[0].subject
    assert set(mail.outbox[0].to) == {
        "kunde@fjordbat.example",
        "ase@fjordbat.example",
        "per@fjordbat.example",
    }


def test_support_cannot_approve(db, client, support_user, queued):
    customer = make_submitted_customer()
    client.force_login(support_user)
    assert client.get(_url(customer)).status_code == 403
    assert client.post(_url(customer)).status_code == 403
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    assert not Run.objects.exists() and not AuditEntry.objects.exists() and not mail.outbox


def test_it_refuses_a_customer_whose_verification_failed(db, client, pm_user, queued):
    customer = make_submitted_customer()
    mark_verified(customer.connections.get(), VERIFICATION_FAILED)
    client.force_login(pm_user)
    page = client.get(_url(customer)).content.decode()
    assert "cannot go live" in page and "The token may read suppliers" in page
    client.post(_url(customer))
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    assert not Run.objects.exists() and not AuditEntry.objects.exists() and not mail.outbox


def test_it_refuses_a_customer_that_has_not_submitted(db, client, pm_user, queued):
    customer = make_submitted_customer()
    Customer.objects.filter(pk=customer.pk).update(onboarding_status="in_progress")
    client.force_login(pm_user)
    client.post(_url(customer))
    customer.refresh_from_db()
    assert customer.onboarding_status == "in_progress"
    assert not Run.objects.exists()


def test_it_refuses_an_unverified_or_paused_connection(db, client, pm_user, queued):
    customer = make_submitted_customer()
    conn = customer.connections.get()
    conn.status = "paused"
    conn.save()
    client.force_login(pm_user)
    client.post(_url(customer))
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    assert not Run.objects.exists()
