"""A bad invoice never holds back the others, whichever way Xledger refuses it: errors by
clientId, by input index with the valid inputs stored, a whole call refused by index, or a whole
call refused without naming anything (found by sending halves)."""

import math

import pytest

from integrations.invoices.services import invoice_send_all, invoice_send_batch
from integrations.models import Invoice, Issue
from integrations.xledger.errors import QueryError
from tests.integrations.invoices.conftest import (
    Rewriting,
    assert_exactly_once,
    invoice_rows,
    is_mutation,
    make_client,
    naming_no_input,
    sandbox_connection,
    sandbox_with,
    supplier_code_for,
)

pytestmark = pytest.mark.django_db

BAD_LINE = (("9999", "1", "100.00"),)  # an account Xledger does not have


def setup(batch_errors):
    sb = sandbox_with(batch_errors=batch_errors)
    connection = sandbox_connection(sb)
    return sb, connection, supplier_code_for(sb, sb.client_entity_ids[0])


def outbox_with_one_bad(connection, supplier, count, bad_at):
    good = invoice_rows(connection, bad_at, supplier=supplier, prefix="A")
    (bad,) = invoice_rows(connection, supplier=supplier, prefix="BAD", lines=BAD_LINE)
    good += invoice_rows(connection, count - bad_at - 1, supplier=supplier, prefix="B")
    return good, bad


def assert_others_exactly_once(sb, connection, bad):
    stored = {}
    for item in sb.imports:
        stored.setdefault(item["clientId"], []).append(item)
    assert all(len(items) == 1 for items in stored.values())
    for invoice in Invoice.objects.filter(connection=connection).exclude(pk=bad.pk):
        assert invoice.status == "sent", invoice.external_id
        for cid, db_id in invoice.xledger_db_ids.items():
            assert stored[cid][0]["dbId"] == db_id


@pytest.mark.parametrize("batch_errors", ["whole", "partial_by_index", "partial"])
def test_it_sends_99_of_100_invoices_once_and_rejects_the_bad_one_with_xledgers_reason(
    batch_errors,
):
    sb, connection, supplier = setup(batch_errors)
    good, bad = outbox_with_one_bad(connection, supplier, 100, bad_at=57)
    with make_client(sb, connection) as xl:
        result = invoice_send_batch(connection=connection, client=xl)

    assert (result.claimed, result.sent, result.rejected) == (100, 99, 1)
    # Refused as a whole: once more without the bad one, in the same pass. Otherwise one call.
    assert result.requests == (2 if batch_errors == "whole" else 1)
    bad.refresh_from_db()
    assert bad.status == "rejected"
    assert "unknown account '9999'" in bad.xledger_message
    assert result.rejections == [{"externalId": bad.external_id, "message": bad.xledger_message}]
    assert_others_exactly_once(sb, connection, bad)
    assert len(sb.imports) == 99 * 3 + (0 if batch_errors == "whole" else 1)
    assert not Issue.objects.exists()


def test_it_rejects_every_invoice_a_whole_refusal_names_and_sends_the_rest_once():
    sb, connection, supplier = setup("whole")
    first = invoice_rows(connection, 3, supplier=supplier, prefix="A")
    bad = invoice_rows(connection, 2, supplier=supplier, prefix="BAD", lines=BAD_LINE)
    last = invoice_rows(connection, 3, supplier=supplier, prefix="B")
    with make_client(sb, connection) as xl:
        result = invoice_send_all(connection=connection, client=xl)
    assert (result.sent, result.rejected, result.requests) == (6, 2, 2)
    for invoice in bad:
        invoice.refresh_from_db()
        assert invoice.status == "rejected"
        assert "9999" in invoice.xledger_message
    assert {i["extIdentifier"] for i in sb.imports} == {
        f"SEMINE:{i.external_id}" for i in first + last
    }


@pytest.mark.parametrize("count,bad_at", [(64, 0), (64, 41), (64, 63), (37, 20), (2, 1)])
def test_a_call_refused_without_naming_an_input_is_narrowed_down_by_halves(count, bad_at):
    sb, connection, supplier = setup("whole")
    good, bad = outbox_with_one_bad(connection, supplier, count, bad_at)
    transport = Rewriting(sb.transport(), answer=naming_no_input)
    with make_client(sb, connection, transport=transport) as xl:
        result = invoice_send_all(connection=connection, client=xl)

    bad.refresh_from_db()
    assert bad.status == "rejected"
    assert "unknown account '9999'" in bad.xledger_message
    assert (result.sent, result.rejected) == (count - 1, 1)
    assert_others_exactly_once(sb, connection, bad)
    # O(log n): the batch, a probe, one call per halving, the bad one alone, the rest together.
    assert transport.mutations <= math.ceil(math.log2(count)) + 4, transport.mutations


def test_several_bad_invoices_in_calls_refused_without_naming_them_never_hold_back_the_rest():
    sb, connection, supplier = setup("whole")
    bad = []
    for n in range(4):  # bad ones first and last, where halving and probing look first
        bad += invoice_rows(connection, supplier=supplier, prefix=f"BAD{n}", lines=BAD_LINE)
        invoice_rows(connection, 10 if n < 3 else 0, supplier=supplier, prefix=f"OK{n}")
    transport = Rewriting(sb.transport(), answer=naming_no_input)
    with make_client(sb, connection, transport=transport) as xl:
        result = invoice_send_all(connection=connection, client=xl)
    assert (result.sent, result.rejected) == (30, 4)
    assert {i.status for i in bad if not i.refresh_from_db()} == {"rejected"}
    assert len(sb.imports) == 30 * 3
    assert transport.mutations <= 4 * (math.ceil(math.log2(34)) + 2), transport.mutations


def test_a_call_nothing_gets_past_is_the_connections_problem_not_the_invoices():
    """Every call refused without a named input, even one invoice alone: nothing is rejected
    (the document or a type is wrong, not the invoices), they are pending again, the error is
    raised, and it costs a bounded number of requests."""
    sb, connection, supplier = setup("whole")
    invoice_rows(connection, 50, supplier=supplier)

    def refuse_everything(request):
        if is_mutation(request):
            return 200, {"errors": [{"message": "Input type changed.", "code": "INVALID_VALUE"}]}
        return None

    transport = Rewriting(sb.transport(), refuse=refuse_everything)
    with make_client(sb, connection, transport=transport) as xl:
        with pytest.raises(QueryError, match="Input type changed"):
            invoice_send_all(connection=connection, client=xl)
    assert set(Invoice.objects.values_list("status", flat=True)) == {"pending"}
    assert set(Invoice.objects.values_list("attempts", flat=True)) == {1}
    assert "Input type changed" in Invoice.objects.first().last_error
    assert transport.mutations == 3  # the batch and two of its invoices alone
    assert sb.imports == []


def test_a_lone_invoice_refused_without_a_reason_is_rejected_after_three_sends():
    sb, connection, supplier = setup("whole")
    (bad,) = invoice_rows(connection, supplier=supplier, lines=BAD_LINE)
    transport = Rewriting(sb.transport(), answer=naming_no_input)
    with make_client(sb, connection, transport=transport) as xl:
        for attempt in (1, 2):
            with pytest.raises(QueryError):
                invoice_send_batch(connection=connection, client=xl)
            bad.refresh_from_db()
            assert (bad.status, bad.attempts) == ("pending", attempt)
        result = invoice_send_batch(connection=connection, client=xl)
    bad.refresh_from_db()
    assert (bad.status, bad.attempts, result.rejected) == ("rejected", 3, 1)
    assert "9999" in bad.xledger_message
    assert transport.mutations == 3


def test_a_partly_stored_invoice_keeps_its_db_ids_and_is_never_sent_twice():
    """Stored inputs of a rejected invoice are on record; after a retry only the rest goes."""
    from integrations.invoices.services import invoice_retry

    sb, connection, supplier = setup("partial_by_index")
    (invoice,) = invoice_rows(
        connection, supplier=supplier, lines=(("6300", "1", "50.00"), ("7999", "1", "50.00"))
    )
    with make_client(sb, connection) as xl:
        invoice_send_batch(connection=connection, client=xl)
        invoice.refresh_from_db()
        assert invoice.status == "rejected"
        assert len(invoice.xledger_db_ids) == 2  # the supplier line and the 6300 line
        sb.add_record("accounts", code="7999", description="Ny", modifiedAt="", modifiedTs=0.0)
        assert invoice_retry(invoice=invoice)
        result = invoice_send_batch(connection=connection, client=xl)
    assert (result.sent, result.requests) == (1, 1)
    assert_exactly_once(sb, connection)
