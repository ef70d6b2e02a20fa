"""PDFs arrive under either reading of the multipart form (Xledger's: files first, matched by
file name; the GraphQL spec's: a map), each is checked on the stored supplier line (one request
per batch), and an invoice whose PDF did not arrive says so instead of being silently `sent`."""

import pytest

from integrations.invoices import mapping
from integrations.invoices.services import invoice_send_all, invoice_send_batch
from integrations.models import Invoice, Issue
from integrations.xledger.errors import TransientError
from tests.integrations.invoices.conftest import (
    PDF,
    Rewriting,
    invoice_rows,
    make_client,
    sandbox_connection,
    sandbox_with,
    supplier_code_for,
    without_files,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["xledger", "spec"])
def sb(request):
    return sandbox_with(multipart=request.param)


@pytest.fixture
def connection(sb):
    return sandbox_connection(sb)


@pytest.fixture
def supplier(sb):
    return supplier_code_for(sb, sb.client_entity_ids[0])


def supplier_line(sb, invoice):
    cid = mapping.client_id(invoice.external_id, 0)
    (item,) = [item for item in sb.imports if item["clientId"] == cid]
    return item


def test_each_pdf_arrives_with_its_supplier_line_and_is_confirmed_in_one_request(
    sb, connection, supplier
):
    invoices = invoice_rows(connection, 5, supplier=supplier, pdf=PDF)
    with make_client(sb, connection) as xl:
        result = invoice_send_batch(connection=connection, client=xl)
    assert (result.sent, result.pdf_confirmed) == (5, 5)
    assert result.requests == 2  # the send and one read-back for the whole batch
    for invoice in invoices:
        invoice.refresh_from_db()
        assert (invoice.status, invoice.attachment_status) == ("sent", "confirmed")
        line = supplier_line(sb, invoice)
        assert line["invoiceFile"] == f"{invoice.invoice_number}.pdf"
        assert line["invoiceFileSize"] == len(PDF)


def test_invoices_without_a_pdf_cost_no_read_back(sb, connection, supplier):
    (invoice,) = invoice_rows(connection, supplier=supplier)
    with make_client(sb, connection) as xl:
        assert invoice_send_batch(connection=connection, client=xl).requests == 1
    invoice.refresh_from_db()
    assert invoice.attachment_status == ""


def test_two_pdfs_with_the_same_name_in_one_request_each_reach_their_own_invoice(
    sb, connection, supplier
):
    first, second = invoice_rows(connection, 2, supplier=supplier, pdf=PDF)
    longer = PDF + b"%" * 100
    first.attachment.file_name = second.attachment.file_name = "faktura.pdf"
    first.attachment.save()
    second.attachment.content, second.attachment.size = longer, len(longer)
    second.attachment.save()
    Invoice.objects.filter(pk=second.pk).update(attachment_size=len(longer))
    with make_client(sb, connection) as xl:
        result = invoice_send_batch(connection=connection, client=xl)
    assert result.pdf_confirmed == 2
    assert supplier_line(sb, first)["invoiceFileSize"] == len(PDF)
    assert supplier_line(sb, second)["invoiceFileSize"] == len(longer)
    assert supplier_line(sb, first)["invoiceFile"] == "faktura.pdf"
    assert supplier_line(sb, second)["invoiceFile"] == f"{second.external_id}-faktura.pdf"


def test_a_pdf_that_did_not_arrive_is_on_record_and_opens_one_issue_until_one_arrives(
    sb, connection, supplier
):
    lost = invoice_rows(connection, 2, supplier=supplier, pdf=PDF, prefix="LOST")
    losing = Rewriting(sb.transport(), request=without_files)
    with make_client(sb, connection, transport=losing) as xl:
        result = invoice_send_batch(connection=connection, client=xl)
    assert (result.sent, result.pdf_missing) == (2, [i.external_id for i in lost])
    for invoice in lost:
        invoice.refresh_from_db()
        # Its items are in Xledger and must never be sent again: sent, but not silently.
        assert (invoice.status, invoice.attachment_status) == ("sent", "missing")
    issue = Issue.objects.get()
    assert (issue.kind, issue.title) == (
        "invoices_failing",
        "Invoice PDFs do not arrive in Xledger",
    )
    assert lost[0].external_id in issue.detail

    invoice_rows(connection, 1, supplier=supplier, pdf=PDF, prefix="LOST2")
    with make_client(sb, connection, transport=losing) as xl:
        invoice_send_batch(connection=connection, client=xl)
    issue.refresh_from_db()
    assert (issue.status, issue.occurrences) == ("open", 2)  # one issue, seen again

    invoice_rows(connection, 1, supplier=supplier, pdf=PDF, prefix="OK")
    with make_client(sb, connection) as xl:
        invoice_send_batch(connection=connection, client=xl)
    issue.refresh_from_db()
    assert issue.status == "resolved"
    assert Invoice.objects.get(external_id__startswith="OK").attachment_status == "confirmed"


def test_a_pdf_whose_check_failed_is_unchecked_and_checked_with_the_next_pdfs(
    sb, connection, supplier
):
    (first,) = invoice_rows(connection, 1, supplier=supplier, pdf=PDF, prefix="FIRST")
    sb.set_fault("http_500", count=1, field="glImportItems")
    with make_client(sb, connection, max_attempts=1) as xl:
        result = invoice_send_batch(connection=connection, client=xl)
        assert result.sent == 1
        first.refresh_from_db()
        assert (first.status, first.attachment_status) == ("sent", "unchecked")

        (second,) = invoice_rows(connection, 1, supplier=supplier, pdf=PDF, prefix="SECOND")
        result = invoice_send_batch(connection=connection, client=xl)
    assert (result.pdf_confirmed, result.requests) == (2, 2)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.attachment_status == second.attachment_status == "confirmed"


def test_the_lookup_of_an_invoice_in_doubt_also_tells_whether_its_pdf_arrived(
    sb, connection, supplier
):
    (invoice,) = invoice_rows(connection, supplier=supplier, pdf=PDF)
    sb.set_fault("drop_after_store", count=1)
    with make_client(sb, connection) as xl:
        with pytest.raises(TransientError):
            invoice_send_all(connection=connection, client=xl)
        result = invoice_send_all(connection=connection, client=xl)
    assert (result.found, result.pdf_confirmed, result.requests) == (1, 1, 1)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.attachment_status) == ("sent", "confirmed")


def test_the_supplier_line_names_the_file_it_carries():
    item = {"clientId": "x#0", "node": {}}
    mapping.attach_file(item, "INV1.pdf")
    assert item["node"]["invoiceFile"] == "INV1.pdf"
    assert mapping.file_names("Faktura mars/ÆØÅ.pdf", "inv:7") == (
        "Faktura_mars____.pdf",
        "inv_7-Faktura_mars____.pdf",
    )


def test_pdfs_left_unchecked_cost_nothing_while_nothing_is_sent(sb, connection, supplier):
    invoices = invoice_rows(connection, 2, supplier=supplier, pdf=PDF)
    Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(
        status="sent", attachment_status="unchecked"
    )
    with make_client(sb, connection) as xl:
        for _ in range(3):
            assert invoice_send_all(connection=connection, client=xl).requests == 0
    assert sb.request_count == 0
