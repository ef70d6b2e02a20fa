"""An invoice in doubt is settled by what Xledger holds under its extIdentifier, matched to its
lines by content (no clientId is read from stored items: nothing public shows one there)."""

import pytest

from integrations.invoices import mapping
from integrations.invoices.batch import build_inputs
from integrations.invoices.services import invoice_send_all, invoice_send_batch
from integrations.models import Invoice
from integrations.xledger import queries
from tests.integrations.invoices.conftest import (
    assert_exactly_once,
    db_id_form_of,
    invoice_rows,
    make_client,
    sandbox_connection,
    sandbox_with,
    supplier_code_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sb():
    # Stored items without clientId, dbIds answered as strings of digits: Xledger's reading.
    return sandbox_with(import_item_client_id=False, dbid_type="Int64String")


@pytest.fixture
def connection(sb):
    return sandbox_connection(sb)


@pytest.fixture
def supplier(sb):
    return supplier_code_for(sb, sb.client_entity_ids[0])


@pytest.fixture
def xl(sb, connection):
    with make_client(sb, connection) as client:
        yield client


def store_behind_our_back(sb, xl, invoice, lines, change=None):
    """Store some of the invoice's items (0 = supplier line) as a lost send would have, and put
    the invoice in doubt. `change(node)` alters an item first."""
    built = build_inputs([invoice], db_id_form=db_id_form_of(sb))
    inputs = [item for n, item in enumerate(built.inputs) if n in lines]
    for item in inputs:
        if change is not None:
            change(item["node"])
    xl.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": inputs}, mutation=True)
    Invoice.objects.filter(pk=invoice.pk).update(status="in_doubt", claimed_until=None)


def items_of(sb, invoice):
    ref = mapping.ext_identifier(invoice.external_id)
    return [item for item in sb.imports if item["extIdentifier"] == ref]


def test_every_item_found_by_content_is_sent_with_the_db_ids_keyed_by_our_client_ids(
    sb, connection, xl, supplier
):
    (invoice,) = invoice_rows(connection, supplier=supplier)
    store_behind_our_back(sb, xl, invoice, lines=(0, 1, 2))
    result = invoice_send_batch(connection=connection, client=xl)
    assert (result.looked_up, result.found, result.requests) == (1, 1, 1)
    invoice.refresh_from_db()
    assert invoice.status == "sent"
    stored = {item["clientId"]: item["dbId"] for item in items_of(sb, invoice)}
    assert invoice.xledger_db_ids == stored  # integers, though Xledger answered strings
    assert all(type(db_id) is int for db_id in invoice.xledger_db_ids.values())


def test_nothing_found_puts_it_back_to_pending(sb, connection, xl, supplier):
    (invoice,) = invoice_rows(connection, supplier=supplier)
    Invoice.objects.filter(pk=invoice.pk).update(status="in_doubt")
    result = invoice_send_batch(connection=connection, client=xl)
    assert (result.requeued, result.sent, result.requests) == (1, 1, 2)
    assert_exactly_once(sb, connection)


def test_only_the_missing_lines_are_sent_when_their_content_tells_which(
    sb, connection, xl, supplier
):
    (invoice,) = invoice_rows(connection, supplier=supplier)
    store_behind_our_back(sb, xl, invoice, lines=(0, 2))  # the 6800 line is missing
    result = invoice_send_all(connection=connection, client=xl)
    assert (result.requeued, result.sent) == (1, 1)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.lookups, invoice.attempts) == ("sent", 1, 1)
    assert_exactly_once(sb, connection)


def test_identical_lines_are_interchangeable(sb, connection, xl, supplier):
    twice = (("6300", "1", "50.00"), ("6300", "1", "50.00"), ("6800", "1", "20.00"))
    (invoice,) = invoice_rows(connection, supplier=supplier, lines=twice, vat="30.00")
    store_behind_our_back(sb, xl, invoice, lines=(0, 2))  # one of the two 6300 lines
    invoice_send_all(connection=connection, client=xl)
    invoice.refresh_from_db()
    assert invoice.status == "sent"
    items = items_of(sb, invoice)
    assert sorted((i["account"] or {}).get("code", "") for i in items) == [
        "",  # the supplier line (no posting account configured)
        "6300",
        "6300",
        "6800",
    ]
    assert sorted(invoice.xledger_db_ids.values()) == sorted(i["dbId"] for i in items)


def test_it_is_rejected_for_a_person_when_the_content_cannot_tell_which_lines_arrived(
    sb, connection, xl, supplier
):
    (invoice,) = invoice_rows(connection, supplier=supplier)

    def changed_amount(node):
        if node.get("account", {}).get("code") == "6300":
            node["amount"] = "79.00"  # edited in Xledger, or stored otherwise than we sent it

    store_behind_our_back(sb, xl, invoice, lines=(0, 1), change=changed_amount)
    result = invoice_send_batch(connection=connection, client=xl)
    assert (result.rejected, result.requests) == (1, 1)
    invoice.refresh_from_db()
    assert invoice.status == "rejected"
    assert "cannot tell which lines arrived" in invoice.xledger_message
    # The supplier line was recognised and is on record, so a retry never sends it again.
    assert list(invoice.xledger_db_ids) == [mapping.client_id(invoice.external_id, 0)]
    assert len(items_of(sb, invoice)) == 2


def test_an_extra_item_under_its_reference_is_noted_when_every_line_was_found(
    sb, connection, xl, supplier
):
    (invoice,) = invoice_rows(connection, supplier=supplier)
    store_behind_our_back(sb, xl, invoice, lines=(0, 1, 2))
    built = build_inputs([invoice], db_id_form=db_id_form_of(sb))
    extra = built.inputs[1]
    extra["node"]["amount"] = "1.00"
    xl.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": [extra]}, mutation=True)
    invoice_send_batch(connection=connection, client=xl)
    invoice.refresh_from_db()
    assert invoice.status == "sent"
    assert "match none of its lines" in invoice.last_error
    assert len(invoice.xledger_db_ids) == 3


def test_the_lookup_asks_only_for_fields_the_contract_names_on_a_stored_item():
    fields = queries.gl_import_items_by_ext_identifier(["SEMINE:1"]).fields
    assert "clientId" not in fields
    for name in ("extIdentifier", "invoiceNumber", "amount", "account", "subledger"):
        assert name in fields
