"""Invoices in doubt never hold back the never-sent ones: a lookup Xledger refuses (here the
very failure that stalled the export: asking a stored item for `clientId`, which Xledger's
GLImportItem does not have) leaves them in doubt, the pending ones are sent all the same, and
a lookup that keeps failing opens one Issue, not one per pass."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.invoices.services import FAILING_LOOKUPS, invoice_send_all
from integrations.models import Invoice, Issue
from integrations.xledger import queries
from integrations.xledger.errors import AuthenticationError, SchemaMismatch, TransientError
from tests.integrations.invoices.conftest import (
    assert_exactly_once,
    invoice_rows,
    make_client,
    sandbox_connection,
    sandbox_with,
    supplier_code_for,
)

pytestmark = pytest.mark.django_db


def ask_stored_items_for_client_id(monkeypatch):
    """The lookup as it was before: a field no public source shows on a stored item."""
    original = queries.gl_import_items_by_ext_identifier

    def with_client_id(refs):
        query = original(refs)
        return dataclasses.replace(query, fields=f"{query.fields} clientId")

    monkeypatch.setattr(queries, "gl_import_items_by_ext_identifier", with_client_id)


@pytest.fixture
def sb():
    return sandbox_with(import_item_client_id=False)


@pytest.fixture
def connection(sb):
    return sandbox_connection(sb)


@pytest.fixture
def supplier(sb):
    return supplier_code_for(sb, sb.client_entity_ids[0])


def in_doubt(sb, connection, supplier, xl, count=3):
    """`count` invoices stored in Xledger whose answer was lost."""
    invoices = invoice_rows(connection, count, supplier=supplier, prefix="DOUBT")
    sb.set_fault("drop_after_store", count=1)
    with pytest.raises(TransientError):
        invoice_send_all(connection=connection, client=xl)
    assert set(Invoice.objects.values_list("status", flat=True)) == {"in_doubt"}
    return invoices


def statuses(prefix):
    return set(
        Invoice.objects.filter(external_id__startswith=prefix).values_list("status", flat=True)
    )


def test_pending_invoices_are_sent_while_the_lookup_is_refused(
    sb, connection, supplier, monkeypatch
):
    with make_client(sb, connection) as xl:
        in_doubt(sb, connection, supplier, xl)
        invoice_rows(connection, 4, supplier=supplier, prefix="NEW")
        ask_stored_items_for_client_id(monkeypatch)
        result = invoice_send_all(connection=connection, client=xl)

    assert isinstance(result.lookup_error, SchemaMismatch)
    assert "Cannot query field 'clientId'" in str(result.lookup_error)
    assert (result.looked_up, result.lookup_failed, result.sent) == (3, 3, 4)
    assert result.requests == 2  # the refused lookup and the send: not looked up again
    assert statuses("NEW") == {"sent"}
    for invoice in Invoice.objects.filter(external_id__startswith="DOUBT"):
        assert invoice.status == "in_doubt"
        assert invoice.lookup_failures == 1
        assert "Cannot query field 'clientId'" in invoice.last_error
    assert len(sb.imports) == 7 * 3  # nothing doubled
    assert not Issue.objects.exists()


def test_a_lookup_that_keeps_failing_opens_one_issue_and_settles_once_it_works(
    sb, connection, supplier, monkeypatch
):
    with make_client(sb, connection) as xl:
        in_doubt(sb, connection, supplier, xl)
        with monkeypatch.context() as patch:
            ask_stored_items_for_client_id(patch)
            for run in range(1, FAILING_LOOKUPS + 3):
                invoice_rows(connection, 1, supplier=supplier, prefix=f"NEW{run}-")
                result = invoice_send_all(connection=connection, client=xl)
                assert result.sent == 1  # every run still sends what is pending
                assert result.requests == 2
                issues = list(Issue.objects.all())
                if run < FAILING_LOOKUPS:
                    assert issues == []
                else:
                    (issue,) = issues  # one issue, counted again, not one per pass
                    assert issue.occurrences == run - FAILING_LOOKUPS + 1
        assert issue.title == "Invoices in doubt cannot be looked up in Xledger"
        assert "Cannot query field 'clientId'" in issue.detail
        assert issue.data["problem"] == "lookup"
        assert set(Invoice.objects.filter(status="in_doubt").values_list("lookup_failures")) == {
            (FAILING_LOOKUPS + 2,)
        }

        result = invoice_send_all(connection=connection, client=xl)  # the lookup works again
    assert (result.looked_up, result.found, result.requests) == (3, 3, 1)
    issue.refresh_from_db()
    assert issue.status == "resolved"
    assert set(Invoice.objects.values_list("lookup_failures", flat=True)) == {0}
    assert_exactly_once(sb, connection)


def test_sends_that_succeed_do_not_resolve_the_lookup_issue(sb, connection, supplier, monkeypatch):
    ask_stored_items_for_client_id(monkeypatch)
    with make_client(sb, connection) as xl:
        in_doubt(sb, connection, supplier, xl)
        for _ in range(FAILING_LOOKUPS + 1):
            invoice_rows(connection, 1, supplier=supplier, prefix="NEW")
            invoice_send_all(connection=connection, client=xl)
    assert Issue.objects.count() == 1
    assert Issue.objects.get().status == "open"


def test_a_lookup_that_fails_on_xledgers_side_leaves_them_in_doubt_too(sb, connection, supplier):
    with make_client(sb, connection, max_attempts=1) as xl:
        in_doubt(sb, connection, supplier, xl)
        invoice_rows(connection, 2, supplier=supplier, prefix="NEW")
        sb.set_fault("http_500", count=1, field="glImportItems")
        result = invoice_send_all(connection=connection, client=xl)
        assert result.lookup_error.kind == "transient"
        assert statuses("NEW") == {"sent"}
        assert statuses("DOUBT") == {"in_doubt"}
        result = invoice_send_all(connection=connection, client=xl)
    assert result.found == 3
    assert_exactly_once(sb, connection)


def test_a_refused_token_stops_the_pass(sb, connection, supplier):
    with make_client(sb, connection) as xl:
        in_doubt(sb, connection, supplier, xl)
        invoice_rows(connection, 2, supplier=supplier, prefix="NEW")
        sb.revoke_token(connection.reveal_token())
        with pytest.raises(AuthenticationError):
            invoice_send_all(connection=connection, client=xl)
    assert statuses("DOUBT") == {"in_doubt"}
    assert statuses("NEW") == {"pending"}
    assert set(Invoice.objects.values_list("lookup_failures", flat=True)) == {0}


def test_a_failed_lookup_waits_its_turn_and_idle_passes_cost_nothing(
    sb, connection, supplier, monkeypatch, settings
):
    ask_stored_items_for_client_id(monkeypatch)
    with make_client(sb, connection) as xl:
        in_doubt(sb, connection, supplier, xl)
        settings.INVOICE_IN_DOUBT_SETTLE_SECONDS = 60
        Invoice.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
        assert invoice_send_all(connection=connection, client=xl).lookup_failed == 3
        before = xl.request_count
        for _ in range(5):
            assert invoice_send_all(connection=connection, client=xl).requests == 0
        assert xl.request_count == before
