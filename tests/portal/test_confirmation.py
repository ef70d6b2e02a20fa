from django.core import mail
from django.utils import timezone

from integrations.models import Connection
from portal.models import AuditEntry, Customer
from tests.portal.conftest import client_information, complete_setup, token_form


def _pm_mails(pm_user):
    return [m for m in mail.outbox if pm_user.email in m.to]


def test_it_offers_confirmation_only_when_every_task_is_done(customer_client, customer, sandbox):
    home = customer_client.get("/").content.decode()
    assert "Confirm that the setup is done" not in home
    response = customer_client.post("/confirm/")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.onboarding_status != Customer.Status.SUBMITTED
    complete_setup(customer_client, sandbox)
    assert "Confirm that the setup is done" in customer_client.get("/").content.decode()


def test_it_records_the_confirmation_and_tells_the_pm(
    customer_client, customer, customer_user, pm_user, sandbox
):
    complete_setup(customer_client, sandbox)
    mail.outbox.clear()
    response = customer_client.post("/confirm/", follow=True)
    body = response.content.decode()
    assert "project manager has been told" in body and "What happens next" in body
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    assert customer.submitted_by == customer_user and customer.submitted_at
    [message] = _pm_mails(pm_user)
    assert "confirmed that the Xledger setup is done" in message.subject
    assert f"http://localhost:8000/admin/portal/customer/{customer.pk}/change/" in message.body
    token = Connection.objects.get(customer=customer).reveal_token()
    assert token not in message.body and token not in message.subject
    entry = AuditEntry.objects.get(action="setup_confirm")
    assert entry.actor == customer_user and entry.after == {"onboarding_status": "submitted"}


def test_it_tells_every_pm_when_none_is_assigned(customer_client, customer, pm_user, sandbox):
    Customer.objects.filter(pk=customer.pk).update(project_manager=None)
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    assert [m.to for m in mail.outbox if "confirmed" in m.subject] == [[pm_user.email]]


def test_a_change_after_confirming_notifies_the_pm(customer_client, customer, pm_user, sandbox):
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    mail.outbox.clear()
    customer_client.post("/client-information/", client_information(city="Oslo"))
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED  # still complete
    [message] = _pm_mails(pm_user)
    assert "changed the client information after confirming" in message.subject
    assert "stays submitted" in message.body


def test_a_change_that_breaks_the_setup_reopens_it(customer_client, customer, pm_user, sandbox):
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    mail.outbox.clear()
    customer_client.post("/xledger/token/", token_form(sandbox, "no_suppliers"))
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.IN_PROGRESS
    [message] = _pm_mails(pm_user)
    assert "no longer complete" in message.body
    assert sandbox.demo_tokens["no_suppliers"] not in message.body
    assert AuditEntry.objects.filter(action="setup_reopened").exists()
    home = customer_client.get("/").content.decode()
    assert "Needs fixing" in home


def test_nothing_changes_once_live(customer_client, customer, sandbox):
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.LIVE)
    Connection.objects.filter(customer=customer).update(live_since=timezone.now())
    token = Connection.objects.get(customer=customer).token_fingerprint
    response = customer_client.post("/xledger/token/", token_form(sandbox, "no_suppliers"))
    assert response.status_code == 200 and "The integration is live" in response.content.decode()
    assert Connection.objects.get(customer=customer).token_fingerprint == token


def test_saving_without_changes_tells_nobody(customer_client, customer, pm_user, sandbox):
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    mail.outbox.clear()
    customer_client.post("/client-information/", client_information())
    customer_client.post("/xledger/token/", token_form(sandbox, token=""))  # a re-check
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    assert _pm_mails(pm_user) == []


def test_a_contact_change_counts_as_a_change(customer_client, customer, pm_user, sandbox):
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    mail.outbox.clear()
    customer_client.post(
        "/client-information/", client_information(**{"contact_finance-phone": "+47 900 00 000"})
    )
    assert len(_pm_mails(pm_user)) == 1
    entry = AuditEntry.objects.filter(action="client_information_save").first()
    assert entry.after == {"contacts": ["finance"]}


def test_the_customer_sees_what_the_pm_asked_to_change(customer_client, customer, pm_user, sandbox):
    from portal.golive import customer_request_changes

    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    customer_request_changes(customer=customer, by=pm_user, comment="Use account 2410, not 2400.")
    body = customer_client.get("/").content.decode()
    assert "Your project manager asked for changes" in body
    assert "Use account 2410, not 2400." in body
    assert "Confirm that the setup is done" in body  # may confirm again once corrected
    mail.outbox.clear()
    customer_client.post(
        "/client-information/", client_information(supplier_posting_account="2410")
    )
    assert _pm_mails(pm_user) == []  # not submitted: nothing to tell until they confirm again
    customer_client.post("/confirm/")
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    assert len(_pm_mails(pm_user)) == 1
