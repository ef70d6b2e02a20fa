from django.core import mail

from portal.models import AuditEntry, Customer
from tests.admin_builders import make_customer_user, make_submitted_customer


def _url(customer):
    return f"/admin/portal/customer/{customer.pk}/request-changes/"


def test_it_sends_the_customer_back_with_a_comment(
    db, client, pm_user, django_capture_on_commit_callbacks
):
    customer = make_submitted_customer(pm=pm_user)
    make_customer_user(customer)
    client.force_login(pm_user)
    assert "What must the customer change?" in client.get(_url(customer)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(customer), {"comment": "Posting account 2400 is wrong."})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.CHANGES_REQUESTED
    entry = AuditEntry.objects.get(action="changes_requested")
    assert entry.actor == pm_user and entry.customer == customer
    assert entry.before == {"onboarding_status": "submitted"}
    assert entry.after == {"onboarding_status": "changes_requested"}
    assert entry.comment == "Posting account 2400 is wrong."
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Posting account 2400 is wrong." in message.body
    assert set(message.to) == {
        "kunde@fjordbat.example",
        "ase@fjordbat.example",
        "per@fjordbat.example",
    }


def test_a_comment_is_required(db, client, pm_user):
    customer = make_submitted_customer()
    client.force_login(pm_user)
    response = client.post(_url(customer), {"comment": "  "})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    assert not AuditEntry.objects.exists()


def test_only_a_submitted_customer_can_be_sent_back(db, client, pm_user):
    customer = make_submitted_customer()
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.IN_PROGRESS)
    client.force_login(pm_user)
    client.post(_url(customer), {"comment": "Fix it"})
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.IN_PROGRESS
    assert not mail.outbox


def test_support_cannot_request_changes(db, client, support_user):
    customer = make_submitted_customer()
    client.force_login(support_user)
    assert client.post(_url(customer), {"comment": "Fix it"}).status_code == 403
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    assert not mail.outbox
