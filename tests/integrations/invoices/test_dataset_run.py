"""The invoices dataset as the sync engine runs it every 5 minutes."""

import pytest

from integrations import clients
from integrations.models import Invoice, Run, Schedule
from tests.integrations.invoices.conftest import invoice_rows, supplier_code_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sandbox_transport(sb, monkeypatch):
    monkeypatch.setattr(clients, "transport_factory", lambda connection: sb.transport())
    monkeypatch.setattr("django.conf.settings.XLEDGER_API_URL", sb.url, raising=False)


def run_invoices(connection):
    from integrations.services import run_execute

    schedule = Schedule.objects.get(connection=connection, dataset="invoices")
    run = Run.objects.create(connection=connection, schedule=schedule, dataset="invoices")
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_an_idle_run_asks_xledger_nothing(sb, connection):
    run = run_invoices(connection)
    assert run.status == "succeeded", run.error_message
    assert run.requests == 0
    assert sb.request_count == 0


def test_a_run_sends_the_outbox_and_counts_it(sb, connection):
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    invoice_rows(connection, 300, supplier=supplier)  # 900 items: two batches
    run = run_invoices(connection)
    assert run.status == "succeeded", run.error_message
    assert (run.fetched, run.created, run.requests) == (300, 300, 2)
    assert set(Invoice.objects.values_list("status", flat=True)) == {"sent"}


def test_a_run_with_rejected_invoices_is_partial_and_says_why(sb, connection):
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    invoice_rows(connection, 2, supplier=supplier)
    (bad,) = invoice_rows(connection, supplier=supplier, lines=(("9999", "1", "100.00"),))
    run = run_invoices(connection)
    assert run.status == "partial"
    assert (run.created, run.rejected) == (2, 1)
    assert run.rejections[0]["code"] == bad.external_id
    assert "9999" in run.rejections[0]["reason"]


def test_a_run_that_ends_in_doubt_fails_and_the_next_one_settles_it(sb, connection):
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    invoice_rows(connection, 3, supplier=supplier)
    sb.set_fault("drop_after_store", count=1)
    failed = run_invoices(connection)
    assert (failed.status, failed.error_kind) == ("failed", "transient")
    assert set(Invoice.objects.values_list("status", flat=True)) == {"in_doubt"}

    settled = run_invoices(connection)
    assert settled.status == "succeeded"
    assert settled.requests == 1  # the lookup; nothing sent twice
    assert set(Invoice.objects.values_list("status", flat=True)) == {"sent"}
    assert len(sb.imports) == 9


def unresolved_issues(connection):
    return list(connection.issues.exclude(status="resolved").values_list("kind", "dataset"))


def test_failing_runs_open_one_issue_that_resolves_when_an_invoice_is_sent(sb, connection):
    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    invoice_rows(connection, 1, supplier=supplier)
    sb.set_fault("http_429", retry_after=0)
    for _ in range(5):
        assert run_invoices(connection).status == "failed"
    assert Schedule.objects.get(connection=connection, dataset="invoices").failure_streak == 5
    assert unresolved_issues(connection) == [("invoices_failing", "invoices")]
    issue = connection.issues.get()
    assert issue.occurrences == 3  # one per failed run from the third: not two

    sb.clear_faults()
    assert run_invoices(connection).status == "succeeded"
    assert unresolved_issues(connection) == []
    assert set(Invoice.objects.values_list("status", flat=True)) == {"sent"}


def test_runs_that_fail_before_sending_open_the_same_invoices_issue(sb, connection, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("a bug")

    with monkeypatch.context() as patch:
        patch.setattr("integrations.datasets.invoices.invoice_send_all", crash)
        for _ in range(4):
            assert run_invoices(connection).status == "failed"
    assert unresolved_issues(connection) == [("invoices_failing", "invoices")]
    assert connection.issues.get().title.endswith(": 3 failed runs in a row")

    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    invoice_rows(connection, 1, supplier=supplier)
    assert run_invoices(connection).status == "succeeded"
    assert unresolved_issues(connection) == []


def test_a_run_whose_lookup_is_refused_still_sends_and_keeps_its_schedule(
    sb, connection, monkeypatch
):
    """The stall this guards against: Xledger refused the lookup of invoices in doubt as an
    invalid query, the run failed as a schema mismatch, and the schedule stopped, so the
    invoices that were never sent stayed in the outbox. Now the run sends them and says why it
    is only partial, and the schedule goes on."""
    import dataclasses

    from integrations.xledger import queries

    supplier = supplier_code_for(sb, sb.client_entity_ids[0])
    invoice_rows(connection, 2, supplier=supplier, prefix="DOUBT")
    sb.set_fault("drop_after_store", count=1)
    assert run_invoices(connection).status == "failed"
    invoice_rows(connection, 3, supplier=supplier, prefix="NEW")

    original = queries.gl_import_items_by_ext_identifier

    def refused(refs):  # a field this server's GLImportItem does not have
        return dataclasses.replace(original(refs), fields="dbId noSuchField")

    monkeypatch.setattr(queries, "gl_import_items_by_ext_identifier", refused)
    run = run_invoices(connection)
    assert run.status == "partial"
    assert run.error_kind == "schema"
    assert "Cannot query field 'noSuchField'" in run.error_message
    assert run.error_message.startswith("Invoices in doubt could not be looked up in Xledger")
    assert (run.created, run.requests) == (3, 2)
    schedule = Schedule.objects.get(connection=connection, dataset="invoices")
    assert schedule.next_run_at is not None
    assert schedule.failure_streak == 0
    assert set(
        Invoice.objects.filter(external_id__startswith="NEW").values_list("status", flat=True)
    ) == {"sent"}
    assert set(
        Invoice.objects.filter(external_id__startswith="DOUBT").values_list("status", flat=True)
    ) == {"in_doubt"}
