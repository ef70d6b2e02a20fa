"""The transaction source is the connection's setup (SEMINE's default until the customer names
another on the scope page); an installation that does not have it gets one clear Issue."""

import pytest

from integrations.invoices.services import invoice_send_all
from integrations.models import Invoice, Issue
from tests.integrations.invoices.conftest import (
    invoice_rows,
    make_client,
    sandbox_connection,
    sandbox_with,
    supplier_code_for,
)

pytestmark = pytest.mark.django_db


def _send(sb, connection, count=3):
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    invoices = invoice_rows(connection, count, supplier=supplier)
    with make_client(sb, connection) as client:
        invoice_send_all(connection=connection, client=client)
    return [Invoice.objects.get(pk=i.pk) for i in invoices]


def test_it_files_items_under_the_connections_transaction_source():
    sb = sandbox_with(transaction_source_required=True)
    connection = sandbox_connection(sb)
    connection.transaction_source_code = "LEV"
    connection.save()

    invoices = _send(sb, connection)

    assert {i.status for i in invoices} == {Invoice.Status.SENT}
    assert {item["transactionSource"]["code"] for item in sb.imports} == {"LEV"}


def test_an_installation_without_the_source_gets_one_clear_issue():
    sb = sandbox_with(transaction_source_required=True)
    sb.set_transaction_sources(["LEV", "IMP"])  # no SEMINE
    connection = sandbox_connection(sb)

    invoices = _send(sb, connection)

    assert {i.status for i in invoices} == {Invoice.Status.REJECTED}
    assert all("transactionSource" in i.xledger_message for i in invoices)
    assert not sb.imports
    issue = Issue.objects.get(connection=connection, kind=Issue.Kind.INVOICES_FAILING)
    assert "transaction source SEMINE" in issue.title
    assert issue.data["problem"] == "transaction_source"

    # The customer names an existing source; the retried invoices go in and the Issue resolves.
    connection.transaction_source_code = "LEV"
    connection.save()
    Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(status=Invoice.Status.PENDING)
    again = _send(sb, connection, count=1)
    assert {i.status for i in again} == {Invoice.Status.SENT}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED
