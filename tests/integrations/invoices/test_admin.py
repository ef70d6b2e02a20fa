"""Invoices in the admin: list with status and messages, filters, retry and cancel actions."""

import pytest
from django.urls import reverse

from integrations.models import Invoice
from portal.models import AuditEntry
from tests.integrations.invoices.conftest import invoice_rows

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:integrations_invoice_changelist"


@pytest.fixture
def invoices(connection):
    pending, rejected, sent = invoice_rows(connection, 3, supplier="20001")
    Invoice.objects.filter(pk=rejected.pk).update(
        status="rejected", xledger_message="unknown account '9999' for owner 10002", attempts=1
    )
    Invoice.objects.filter(pk=sent.pk).update(status="sent", xledger_db_ids={"SEMINE:x#0": 5000001})
    return pending, rejected, sent


def act(client, action, *invoices):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [i.pk for i in invoices]},
        follow=True,
    )


def test_support_sees_invoices_with_status_and_xledger_messages(client, support_user, invoices):
    client.force_login(support_user)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert "unknown account" in response.content.decode()
    filtered = client.get(reverse(CHANGELIST), {"status__exact": "rejected"})
    assert list(filtered.context["cl"].result_list) == [invoices[1]]
    detail = client.get(reverse("admin:integrations_invoice_change", args=[invoices[2].pk]))
    assert "5000001" in detail.content.decode()


def test_it_retries_only_rejected_invoices(client, support_user, invoices):
    pending, rejected, sent = invoices
    client.force_login(support_user)
    response = act(client, "retry_invoices", pending, rejected, sent)
    assert "Queued again 1 invoice(s)." in response.content.decode()
    assert dict(Invoice.objects.values_list("pk", "status")) == {
        pending.pk: "pending", rejected.pk: "pending", sent.pk: "sent",
    }  # fmt: skip
    assert AuditEntry.objects.filter(action="invoice_retry").count() == 1


def test_it_cancels_only_pending_or_rejected_invoices(client, support_user, invoices):
    pending, rejected, sent = invoices
    client.force_login(support_user)
    act(client, "cancel_invoices", pending, rejected, sent)
    assert dict(Invoice.objects.values_list("pk", "status")) == {
        pending.pk: "cancelled", rejected.pk: "cancelled", sent.pk: "sent",
    }  # fmt: skip


def test_nobody_adds_or_deletes_invoices_in_the_admin(client, superuser, invoices):
    client.force_login(superuser)
    assert client.get(reverse("admin:integrations_invoice_add")).status_code == 403
    response = client.get(reverse("admin:integrations_invoice_delete", args=[invoices[0].pk]))
    assert response.status_code == 403
