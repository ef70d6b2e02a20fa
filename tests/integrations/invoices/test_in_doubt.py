"""Sends that end in doubt are looked up by extIdentifier before anything is sent again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.invoices import batch, outbox
from integrations.invoices.batch import build_inputs
from integrations.invoices.services import invoice_send_all, invoice_send_batch
from integrations.models import Invoice, Issue
from integrations.xledger import queries
from integrations.xledger.errors import RateLimited, TransientError
from tests.integrations.invoices.conftest import (
    assert_exactly_once,
    db_id_form_of,
    invoice_rows,
    make_client,
    supplier_code_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier(sb):
    return supplier_code_for(sb, sb.client_entity_ids[0])


def test_it_finds_invoices_stored_before_the_connection_dropped(sb, connection, xl, supplier):
    invoices = invoice_rows(connection, 5, supplier=supplier)
    sb.set_fault("drop_after_store", count=1)
    with pytest.raises(TransientError) as caught:
        invoice_send_batch(connection=connection, client=xl)
    assert caught.value.in_doubt
    assert set(Invoice.objects.values_list("status", flat=True)) == {"in_doubt"}
    assert len(sb.imports) == 15

    result = invoice_send_batch(connection=connection, client=xl)
    assert (result.looked_up, result.found, result.claimed) == (5, 5, 0)
    assert result.requests == 1  # the lookup only: nothing sent again
    assert len(sb.imports) == 15
    assert_exactly_once(sb, connection)
    assert {i.lookups for i in Invoice.objects.all()} == {1}
    assert len(invoices) == 5


def test_it_sends_again_what_a_failed_server_did_not_store(sb, connection, xl, supplier):
    invoice_rows(connection, 3, supplier=supplier)
    sb.set_fault("http_500", count=1, field="addGLImportItems")
    with pytest.raises(TransientError):
        invoice_send_batch(connection=connection, client=xl)
    assert set(Invoice.objects.values_list("status", flat=True)) == {"in_doubt"}

    result = invoice_send_batch(connection=connection, client=xl)
    assert (result.looked_up, result.requeued, result.sent) == (3, 3, 3)
    assert result.requests == 2  # one lookup, one send
    assert_exactly_once(sb, connection)


def test_it_waits_for_the_settle_time_before_looking_up(sb, connection, xl, supplier, settings):
    settings.INVOICE_IN_DOUBT_SETTLE_SECONDS = 60
    invoice_rows(connection, 1, supplier=supplier)
    sb.set_fault("drop_after_store", count=1)
    with pytest.raises(TransientError):
        invoice_send_batch(connection=connection, client=xl)
    before = xl.request_count
    invoice_send_batch(connection=connection, client=xl)
    assert xl.request_count == before  # too early: not even a lookup
    Invoice.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    result = invoice_send_batch(connection=connection, client=xl)
    assert result.found == 1
    assert_exactly_once(sb, connection)


def test_it_looks_up_what_a_dead_worker_held_once_its_lease_ran_out(sb, connection, xl, supplier):
    invoice_rows(connection, 4, supplier=supplier)
    # A worker claims and sends, then dies before writing the answer down.
    token = outbox.new_claim_token()
    held = outbox.claim_pending(connection, token=token, lease=timedelta(minutes=10))
    built = build_inputs(held[:2], db_id_form=db_id_form_of(sb))
    xl.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": built.inputs}, mutation=True)

    # While the lease holds, nobody touches them.
    assert invoice_send_batch(connection=connection, client=xl).requests == 0
    Invoice.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    result = invoice_send_all(connection=connection, client=xl)
    assert (result.expired, result.found, result.requeued, result.sent) == (4, 2, 2, 2)
    assert_exactly_once(sb, connection)


def test_a_worker_whose_claim_was_taken_over_writes_nothing(connection, supplier):
    (invoice,) = invoice_rows(connection, supplier=supplier)
    old = outbox.new_claim_token()
    outbox.claim_pending(connection, token=old, lease=timedelta(seconds=-1))
    assert outbox.expire_claims(connection) == 1
    new = outbox.new_claim_token()
    assert outbox.claim_in_doubt(connection, token=new, lease=timedelta(minutes=1))
    assert not outbox.finish(invoice, token=old, from_status="sending", status="sent")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.claimed_by) == ("in_doubt", new)


def test_it_survives_bursts_and_500s_and_dropped_connections(sb, connection, supplier, settings):
    settings.INVOICE_BATCH_MAX_ITEMS = 30
    invoice_rows(connection, 200, supplier=supplier)
    sb.burst_limit = True
    sb.burst_max_requests, sb.burst_window_seconds = 5, 0.2
    sb.set_fault("drop_after_store", probability=0.3)
    sb.set_fault("http_500", probability=0.2)
    with make_client(sb, connection, max_wait=0.0, max_attempts=1) as xl:
        for _ in range(400):
            try:
                invoice_send_all(connection=connection, client=xl)
            except (TransientError, RateLimited):
                continue
            if not Invoice.objects.exclude(status="sent").exists():
                break
    sb.clear_faults()
    assert_exactly_once(sb, connection)


def test_it_opens_an_issue_when_invoices_keep_failing_and_resolves_it_on_success(
    sb, connection, xl, supplier
):
    invoice_rows(connection, 1, supplier=supplier)
    sb.set_fault("http_429", count=3, retry_after=0)
    with make_client(sb, connection, max_attempts=1) as one_shot:
        for _ in range(3):
            with pytest.raises(RateLimited):
                invoice_send_batch(connection=connection, client=one_shot)
    issue = Issue.objects.get(kind="invoices_failing")
    assert issue.status == "open"
    assert set(Invoice.objects.values_list("status", flat=True)) == {"pending"}

    invoice_send_batch(connection=connection, client=xl)
    issue.refresh_from_db()
    assert issue.status == "resolved"
    assert_exactly_once(sb, connection)


def test_it_opens_an_issue_when_xledger_rejects_every_invoice(sb, connection, xl, supplier):
    invoice_rows(connection, 10, supplier=supplier, lines=(("9999", "1", "100.00"),))
    invoice_send_batch(connection=connection, client=xl)
    assert Issue.objects.get(kind="invoices_failing").title == "Xledger rejects every invoice"


@pytest.mark.django_db(transaction=True)
def test_a_send_xledger_processes_after_we_gave_up_is_found_not_doubled(sb, supplier, settings):
    """A read timeout while Xledger is still working: the lookup waits the settle time, so the
    late-stored items are found instead of being sent a second time. (The settle time is moved
    on by hand once the sandbox has stored the items: no race with the wall clock.)"""
    import time

    from integrations.xledger.client import XledgerClient
    from tests.integrations.invoices.conftest import sandbox_connection

    settings.INVOICE_IN_DOUBT_SETTLE_SECONDS = 60
    connection = sandbox_connection(sb)
    invoice_rows(connection, 3, supplier=supplier)
    sb.set_fault("slow", count=1, seconds=1.0, field="addGLImportItems")
    with sb.serve() as url:
        batch.remember_db_id_form(url, db_id_form_of(sb))
        token = connection.reveal_token()
        with XledgerClient(token, url=url, timeout=0.3, max_attempts=1) as client:
            with pytest.raises(TransientError) as caught:
                invoice_send_batch(connection=connection, client=client)
            assert caught.value.in_doubt
            assert invoice_send_batch(connection=connection, client=client).requests == 0
            deadline = time.monotonic() + 30
            while len(sb.imports) < 9 and time.monotonic() < deadline:
                time.sleep(0.05)  # the sandbox is still working on the request we gave up on
            assert len(sb.imports) == 9
            Invoice.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
            result = invoice_send_batch(connection=connection, client=client)
    assert (result.found, result.sent) == (3, 0)
    assert_exactly_once(sb, connection)


def test_a_send_that_never_reached_xledger_is_simply_pending_again(connection, supplier):
    from integrations.xledger.client import XledgerClient

    (invoice,) = invoice_rows(connection, supplier=supplier)
    unreachable = XledgerClient(
        connection.reveal_token(), url="http://127.0.0.1:9/graphql", max_attempts=1, timeout=2
    )
    with unreachable, pytest.raises(TransientError) as caught:
        invoice_send_batch(connection=connection, client=unreachable)
    assert not caught.value.in_doubt
    invoice.refresh_from_db()
    assert (invoice.status, invoice.attempts, invoice.lookups) == ("pending", 1, 0)
    assert "could not be reached" in invoice.last_error
