"""Used-up credits wait for Xledger's reset; every request is counted on the customer's month."""

from integrations.models import Issue, RequestUsage, Run, Schedule

from .conftest import sync_now


def test_it_waits_until_credits_refill(connection, sandbox):
    sandbox.set_fault("credits_exhausted")

    run = sync_now(connection, "suppliers")

    assert run.status == Run.Status.FAILED and run.error_kind == "credits"
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    assert schedule.next_run_at > run.finished_at  # at Xledger's resetAt, ~20 minutes away
    assert (schedule.next_run_at - run.finished_at).total_seconds() > 15 * 60
    assert Issue.objects.get(connection=connection).kind == Issue.Kind.CREDITS_EXHAUSTED


def test_it_counts_requests_per_run_and_per_month(connection, sandbox):
    runs = [
        sync_now(connection, "suppliers", full=True),
        sync_now(connection, "vat_codes"),
        sync_now(connection, "dimensions", full=True),
    ]

    # Each a document of first pages: setups + values; kinds + values (one request each).
    assert [r.requests for r in runs] == [1, 1, 1]
    usage = RequestUsage.objects.get(connection=connection)
    assert usage.requests == 3 == sandbox.request_count
    assert usage.month.day == 1


def test_it_counts_requests_of_failed_runs_too(connection, sandbox):
    sandbox.set_fault("http_500")
    run = sync_now(connection, "currencies")
    assert run.requests == 2  # the client's two attempts
    assert RequestUsage.objects.get(connection=connection).requests == 2
