"""Sending the outbox to the sandbox: batches, per-invoice results, PDFs, no idle requests."""

from decimal import Decimal

import orjson
import pytest

from integrations.invoices import mapping
from integrations.invoices.services import invoice_send_all, invoice_send_batch
from integrations.models import Invoice
from tests.integrations.invoices.conftest import (
    PDF,
    assert_exactly_once,
    invoice_rows,
    make_client,
    supplier_code_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier(sb):
    return supplier_code_for(sb, sb.client_entity_ids[0])


def test_it_makes_no_request_when_nothing_is_pending(sb, connection, xl, supplier):
    for status in ("sent", "rejected", "cancelled"):
        rows = invoice_rows(connection, supplier=supplier, prefix=status)
        Invoice.objects.filter(pk__in=[row.pk for row in rows]).update(status=status)
    result = invoice_send_batch(connection=connection, client=xl)
    assert result.requests == 0
    assert xl.request_count == 0
    assert sb.request_count == 0


def test_it_sends_an_invoice_as_a_supplier_line_and_one_line_per_accounting_line(
    sb, connection, xl, supplier
):
    (invoice,) = invoice_rows(connection, supplier=supplier)
    result = invoice_send_batch(connection=connection, client=xl)
    assert (result.sent, result.requests) == (1, 1)

    invoice.refresh_from_db()
    assert invoice.status == "sent"
    assert invoice.attempts == 1
    items = sorted(sb.imports, key=lambda i: i["clientId"])
    assert [i["clientId"] for i in items] == mapping.client_ids(invoice)
    assert {i["extIdentifier"] for i in items} == {f"SEMINE:{invoice.external_id}"}
    assert {i["invoiceNumber"] for i in items} == {invoice.invoice_number}
    supplier_line, *lines = items
    assert supplier_line["subledger"] == {"code": supplier}
    assert supplier_line["amount"] == Decimal("-125.00")
    assert supplier_line["taxAmount"] == Decimal("25.00")
    assert [(i["account"]["code"], i["taxRule"]["code"], i["amount"]) for i in lines] == [
        ("6300", "1", Decimal("80.00")),
        ("6800", "1", Decimal("20.00")),
    ]
    assert {i["ownerDbId"] for i in items} == {invoice.entity.db_id}
    assert invoice.xledger_db_ids == {i["clientId"]: i["dbId"] for i in items}


def test_it_sends_batches_of_at_most_500_items_never_splitting_an_invoice(sb, connection, supplier):
    invoice_rows(connection, 400, supplier=supplier)  # 3 items each: 1,200 items
    sizes = []
    with make_client(sb, connection) as xl:
        original = xl._send_once

        def spy(document, variables, **kwargs):
            if "inputs" in (variables or {}):
                sizes.append(len(variables["inputs"]))
            return original(document, variables, **kwargs)

        xl._send_once = spy
        result = invoice_send_all(connection=connection, client=xl)
    assert sizes == [498, 498, 204]
    assert result.sent == 400
    assert result.requests == 3
    assert_exactly_once(sb, connection)


def test_it_rejects_only_the_invoice_xledger_refused_matching_by_client_id(
    sb, connection, xl, supplier
):
    good = invoice_rows(connection, 2, supplier=supplier, prefix="GOOD")
    (bad,) = invoice_rows(
        connection, supplier=supplier, prefix="BAD", lines=(("9999", "1", "100.00"),)
    )
    result = invoice_send_batch(connection=connection, client=xl)
    assert (result.sent, result.rejected) == (2, 1)
    bad.refresh_from_db()
    assert bad.status == "rejected"
    assert "9999" in bad.xledger_message
    if sb.dialect.batch_errors == "whole":  # the call was refused, then sent without it
        assert bad.xledger_db_ids == {}
        assert result.requests == 2
    else:  # its supplier line went in; its accounting line did not; both are on record
        assert list(bad.xledger_db_ids) == [mapping.client_id(bad.external_id, 0)]
        assert result.requests == 1
    for invoice in good:
        invoice.refresh_from_db()
        assert invoice.status == "sent"


def test_it_completes_a_partly_stored_invoice_after_a_retry_without_doubling_it(
    sb, connection, xl, supplier
):
    from integrations.invoices.services import invoice_retry

    (bad,) = invoice_rows(connection, supplier=supplier, lines=(("7999", "1", "100.00"),))
    invoice_send_batch(connection=connection, client=xl)
    bad.refresh_from_db()
    assert bad.status == "rejected"

    sb.add_record("accounts", code="7999", description="Ny konto", modifiedAt="", modifiedTs=0.0)
    assert invoice_retry(invoice=bad)
    invoice_send_batch(connection=connection, client=xl)
    bad.refresh_from_db()
    assert bad.status == "sent"
    assert bad.attempts == 2
    assert_exactly_once(sb, connection)


def test_it_attaches_the_pdf_to_the_supplier_line(sb, connection, xl, supplier):
    (invoice,) = invoice_rows(connection, supplier=supplier, pdf=PDF)
    invoice_send_batch(connection=connection, client=xl)
    invoice.refresh_from_db()
    assert invoice.status == "sent"
    by_client_id = {i["clientId"]: i for i in sb.imports}
    supplier_line = by_client_id[mapping.client_id(invoice.external_id, 0)]
    assert supplier_line["invoiceFile"] == f"{invoice.invoice_number}.pdf"
    assert supplier_line["invoiceFileSize"] == len(PDF)
    assert by_client_id[mapping.client_id(invoice.external_id, 1)]["invoiceFile"] is None


def test_it_sends_amounts_as_strings_never_floats(connection, supplier):
    (invoice,) = invoice_rows(connection, supplier=supplier)
    items = mapping.import_items(invoice, list(invoice.lines.all()))
    encoded = orjson.loads(orjson.dumps(items))
    amounts = [i["node"]["amount"] for i in encoded]
    assert amounts == ["-125.00", "80.00", "20.00"]


def test_a_token_without_write_scope_leaves_invoices_pending(sb, connection, supplier):
    from integrations.xledger.errors import PermissionDenied

    (invoice,) = invoice_rows(connection, supplier=supplier)
    connection.set_token(sb.demo_tokens["read_only"])
    connection.save()
    with make_client(sb, connection) as read_only:
        with pytest.raises(PermissionDenied):
            invoice_send_batch(connection=connection, client=read_only)
    invoice.refresh_from_db()
    assert invoice.status == "pending"
    assert "addGLImportItems" in invoice.last_error
    assert sb.imports == []
