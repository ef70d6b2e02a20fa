"""The owner's dbId in an import item must fit the server's dbId scalar exactly: a strict
Int64String (Xledger's own sample) refuses a number, Int refuses a string, and either refuses
the whole call. A worker learns which one the server takes from its first call, at the cost of
at most one request, and remembers it per Xledger URL."""

from datetime import timedelta

import pytest

from integrations.invoices import batch, mapping, outbox
from integrations.invoices.services import invoice_send_all, invoice_send_batch
from integrations.models import Invoice
from tests.integrations.invoices.conftest import (
    Rewriting,
    assert_exactly_once,
    db_id_form_of,
    invoice_rows,
    make_client,
    naming_no_input,
    sandbox_connection,
    sandbox_with,
    supplier_code_for,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("dbid_type", ["Int", "Int64String"])
def test_a_worker_learns_the_servers_db_id_form_once(dbid_type):
    sb = sandbox_with(dbid_type=dbid_type)
    connection = sandbox_connection(sb)
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    batch.forget_db_id_forms()  # a worker that has not sent anything yet
    right = db_id_form_of(sb)
    guessed_right = right == mapping.DB_ID_FORMS[0]

    invoice_rows(connection, 3, supplier=supplier)
    with make_client(sb, connection) as xl:
        first = invoice_send_batch(connection=connection, client=xl)
        assert first.sent == 3
        assert first.requests == (1 if guessed_right else 2)
        assert batch.accepted_db_id_form(sb.url) == right

        invoice_rows(connection, 3, supplier=supplier)
        assert invoice_send_batch(connection=connection, client=xl).requests == 1
    assert_exactly_once(sb, connection)


def test_a_bad_invoice_does_not_teach_it_the_wrong_form():
    sb = sandbox_with(batch_errors="whole")
    connection = sandbox_connection(sb)
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    batch.forget_db_id_forms()
    invoice_rows(connection, 4, supplier=supplier)
    invoice_rows(connection, 1, supplier=supplier, prefix="BAD", lines=(("9999", "1", "100.00"),))
    with make_client(sb, connection) as xl:
        result = invoice_send_batch(connection=connection, client=xl)
    assert (result.sent, result.rejected) == (4, 1)
    assert batch.accepted_db_id_form(sb.url) == db_id_form_of(sb)


def test_a_worker_whose_claim_was_taken_over_does_not_send_it_again(sb, connection):
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    held = invoice_rows(connection, 3, supplier=supplier)
    mine = outbox.new_claim_token()
    held = outbox.claim_pending(connection, token=mine, lease=timedelta(seconds=-1))
    assert outbox.expire_claims(connection) == 3  # another worker saw my lease run out
    assert outbox.renew(held, token=mine, lease=timedelta(minutes=5)) == []
    assert set(Invoice.objects.values_list("status", flat=True)) == {"in_doubt"}


def test_renewing_a_claim_keeps_what_is_still_held(sb, connection):
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    invoice_rows(connection, 3, supplier=supplier)
    mine = outbox.new_claim_token()
    held = outbox.claim_pending(connection, token=mine, lease=timedelta(minutes=1))
    Invoice.objects.filter(pk=held[0].pk).update(status="in_doubt", claimed_by="")
    assert outbox.renew(held, token=mine, lease=timedelta(minutes=5)) == held[1:]


def test_a_bad_invoice_refused_without_a_reason_does_not_hide_the_form_either():
    other = "Int" if mapping.DB_ID_FORMS[0] == "string" else "Int64String"
    sb = sandbox_with(dbid_type=other, batch_errors="whole")  # the first guess is wrong
    connection = sandbox_connection(sb)
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    batch.forget_db_id_forms()
    invoice_rows(connection, 6, supplier=supplier)
    (bad,) = invoice_rows(connection, supplier=supplier, lines=(("9999", "1", "100.00"),))
    transport = Rewriting(sb.transport(), answer=naming_no_input)
    with make_client(sb, connection, transport=transport) as xl:
        result = invoice_send_all(connection=connection, client=xl)
    assert (result.sent, result.rejected) == (6, 1)
    assert batch.accepted_db_id_form(sb.url) == db_id_form_of(sb)
    bad.refresh_from_db()
    assert "9999" in bad.xledger_message
