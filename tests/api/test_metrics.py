from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django_q.tasks import async_task
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import FleetCollector
from integrations.models import (
    ApiKey,
    ClientEntity,
    Connection,
    DispatcherTick,
    Invoice,
    RequestUsage,
    RunDay,
    Schedule,
)
from tests.admin_builders import make_issue, make_run
from tests.api.conftest import ApiClient, make_live_connection
from tests.factories import TOKEN

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def parse(text: str) -> dict:
    """{(sample name, frozenset of its labels): value} of a Prometheus text body."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(now=NOW) -> dict:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(now=now))
    return parse(generate_latest(registry).decode())


def value(found: dict, name: str, **labels):
    return found[(name, frozenset(labels.items()))]


def set_status(connection, status):
    """`set_token` makes a connection unverified: the status it should have, afterwards."""
    Connection.objects.filter(pk=connection.pk).update(status=status)


def make_invoice(connection, n, status=Invoice.Status.PENDING, created_at=NOW):
    invoice = Invoice.objects.create(
        connection=connection,
        entity=ClientEntity.objects.get(connection=connection, is_owner=True),
        external_id=f"semine-{n}",
        request_hash="x" * 64,
        supplier_code="S1",
        invoice_number=f"F-{n}",
        invoice_date=date(2025, 3, 1),
        due_date=date(2025, 3, 31),
        currency="NOK",
        amount="125.00",
        vat_amount="25.00",
        status=status,
    )
    Invoice.objects.filter(pk=invoice.pk).update(created_at=created_at)  # auto_now_add
    return invoice


# --- Who may scrape -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "not-a-key", "A" * 43])
def test_it_is_a_401_without_a_valid_key(db, key):
    response = ApiClient(key).get("/metrics")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_it_is_a_401_with_a_revoked_key(api_key):
    key, plaintext = api_key
    key.revoke()
    assert ApiClient(plaintext).get("/metrics").status_code == 401


def test_it_answers_prometheus_text_with_a_key(api):
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE_LATEST
    assert "no-cache" in response["Cache-Control"]
    assert ("semine_connections", frozenset({("status", "ok")})) in parse(response.text)


def test_it_takes_the_key_in_x_api_key_too(api_key):
    response = Client().get("/metrics", HTTP_X_API_KEY=api_key[1])
    assert response.status_code == 200


def test_a_key_limited_to_one_customer_is_refused(live_connection):
    _, plaintext = ApiKey.issue(name="One customer", customer=live_connection.customer)
    response = ApiClient(plaintext).get("/metrics")
    assert response.status_code == 403
    assert b"semine_" not in response.content


def test_it_only_reads(api_key):
    client = ApiClient(api_key[1], enforce_csrf_checks=True)
    assert client.post("/metrics").status_code == 405
    assert client.delete("/metrics").status_code == 405


# --- What it counts -----------------------------------------------------------------------------


def test_it_counts_the_outbox_and_the_oldest_pending_invoice(live_connection):
    make_invoice(live_connection, 1, created_at=NOW - timedelta(minutes=30))
    make_invoice(live_connection, 2, created_at=NOW - timedelta(minutes=5))
    make_invoice(live_connection, 3, Invoice.Status.IN_DOUBT, created_at=NOW - timedelta(days=2))
    make_invoice(live_connection, 4, Invoice.Status.SENT, created_at=NOW - timedelta(days=9))
    found = scrape()
    assert value(found, "semine_outbox_invoices", status="pending") == 2
    assert value(found, "semine_outbox_invoices", status="in_doubt") == 1
    assert value(found, "semine_outbox_invoices", status="sending") == 0
    assert value(found, "semine_outbox_invoices", status="rejected") == 0
    assert ("semine_outbox_invoices", frozenset({("status", "sent")})) not in found
    assert value(found, "semine_outbox_oldest_pending_age_seconds") == 30 * 60


def test_an_empty_outbox_has_no_age(db):
    assert value(scrape(), "semine_outbox_oldest_pending_age_seconds") == 0


def test_it_counts_unresolved_issues_by_kind(live_connection):
    make_issue(live_connection, kind="dataset_failing", dataset="suppliers")
    make_issue(live_connection, kind="dataset_failing", dataset="accounts", status="acknowledged")
    make_issue(live_connection, kind="auth_failed", dataset="", status="resolved")
    found = scrape()
    assert value(found, "semine_issues_open", kind="dataset_failing") == 2
    assert value(found, "semine_issues_open", kind="auth_failed") == 0


def test_it_counts_the_runs_of_the_last_24_hours_and_those_under_way(live_connection):
    make_run(live_connection, "suppliers", "succeeded", queued_at=NOW - timedelta(hours=1))
    make_run(live_connection, "suppliers", "succeeded", queued_at=NOW - timedelta(hours=23))
    make_run(live_connection, "suppliers", "failed", queued_at=NOW - timedelta(hours=25))
    make_run(live_connection, "accounts", "running", queued_at=NOW - timedelta(minutes=2))
    found = scrape()
    assert value(found, "semine_runs_last_24h", dataset="suppliers", status="succeeded") == 2
    assert value(found, "semine_runs_last_24h", dataset="suppliers", status="failed") == 0
    assert value(found, "semine_runs_last_24h", dataset="accounts", status="running") == 1
    assert value(found, "semine_runs_active", dataset="accounts", status="running") == 1
    assert value(found, "semine_runs_active", dataset="suppliers", status="queued") == 0


def test_it_counts_the_quiet_runs_of_the_last_24_hours(live_connection):
    hour = NOW - timedelta(hours=1)
    make_run(live_connection, "suppliers", "succeeded", queued_at=hour)  # quiet
    make_run(live_connection, "suppliers", "succeeded", queued_at=NOW - timedelta(hours=20))
    make_run(live_connection, "suppliers", "succeeded", queued_at=hour, updated=3)  # a change
    make_run(live_connection, "suppliers", "succeeded", queued_at=hour, trigger="manual")
    make_run(live_connection, "suppliers", "failed", queued_at=hour)
    make_run(live_connection, "suppliers", "succeeded", queued_at=NOW - timedelta(hours=25))
    make_run(live_connection, "accounts", "succeeded", queued_at=hour, created=1)
    found = scrape()
    assert value(found, "semine_runs_last_24h", dataset="suppliers", status="succeeded") == 4
    assert value(found, "semine_quiet_runs_last_24h", dataset="suppliers") == 2
    assert value(found, "semine_quiet_runs_last_24h", dataset="accounts") == 0
    assert value(found, "semine_quiet_runs_last_24h", dataset="vat_codes") == 0


def test_it_ages_the_last_tick(db):
    DispatcherTick.record(ticked_at=NOW - timedelta(seconds=42), duration_ms=250)
    found = scrape()
    assert value(found, "semine_dispatcher_last_tick_age_seconds") == 42
    assert value(found, "semine_dispatcher_last_tick_duration_seconds") == 0.25


def test_without_a_tick_there_is_no_tick_age(db):
    found = scrape()
    assert ("semine_dispatcher_last_tick_age_seconds", frozenset()) not in found
    assert value(found, "semine_dispatcher_lag_seconds") == 0


def test_the_lag_is_the_most_overdue_schedule_the_dispatcher_may_claim(live_connection):
    set_status(live_connection, Connection.Status.OK)
    due = Schedule.objects.filter(connection=live_connection)
    due.filter(dataset="suppliers").update(enabled=True, next_run_at=NOW - timedelta(seconds=90))
    due.filter(dataset="accounts").update(enabled=True, next_run_at=NOW + timedelta(minutes=5))
    paused = make_live_connection("Nordlys Logistikk AS")
    set_status(paused, Connection.Status.PAUSED)
    Schedule.objects.filter(connection=paused).update(
        enabled=True, next_run_at=NOW - timedelta(hours=3)
    )
    assert value(scrape(), "semine_dispatcher_lag_seconds") == 90


def test_it_sums_this_months_xledger_requests(live_connection):
    other = make_live_connection("Nordlys Logistikk AS")
    RequestUsage.objects.create(connection=live_connection, month=date(2025, 3, 1), requests=100)
    RequestUsage.objects.create(connection=other, month=date(2025, 3, 1), requests=50)
    RequestUsage.objects.create(connection=other, month=date(2025, 2, 1), requests=999)
    assert value(scrape(), "semine_xledger_requests_this_month") == 150


def test_it_counts_connections_by_status(live_connection):
    set_status(make_live_connection("Nordlys Logistikk AS"), Connection.Status.OK)
    found = scrape()
    assert value(found, "semine_connections", status="ok") == 1
    assert value(found, "semine_connections", status="unverified") == 1
    assert value(found, "semine_connections", status="paused") == 0


def test_it_counts_queued_tasks(db):
    async_task("math.floor", 1.5)
    async_task("math.floor", 2.5)
    assert value(scrape(), "semine_tasks_queued") == 2


def test_a_broker_that_cannot_answer_leaves_out_only_the_queue(api, monkeypatch):
    def unreachable():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("django_q.brokers.get_broker", unreachable)
    response = api.get("/metrics")
    assert response.status_code == 200
    assert "semine_tasks_queued" not in response.text
    assert "semine_outbox_invoices" in response.text


# --- What it never shows, and what it costs -----------------------------------------------------


def test_it_shows_no_token_and_no_customer(api, api_key):
    connection = make_live_connection("Fjordbåt Shipping AS", token=TOKEN)
    make_issue(connection, title="Fjordbåt Shipping AS: suppliers failing")
    make_invoice(connection, 1)
    body = api.get("/metrics").content.decode()
    assert "semine_issues_open" in body
    for secret in [
        TOKEN,
        connection.token_fingerprint,
        "Fjordbåt",
        "Fjordb\\u00e5t",
        api_key[1],
        "semine-1",
        "F-1",
    ]:
        assert secret not in body
    labels = {
        name
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        for name in sample.labels
    }
    assert labels <= {"dataset", "status", "kind"}


def add_busy_connection(n):
    connection = make_live_connection(f"Kunde {n} AS")
    make_invoice(connection, n)
    make_issue(connection)
    make_run(connection, "suppliers", "running", queued_at=NOW)
    RunDay.objects.create(connection=connection, dataset="suppliers", day=NOW.date(), runs=3)
    RequestUsage.objects.create(connection=connection, month=date(2025, 3, 1), requests=10)
    Schedule.objects.filter(connection=connection).update(enabled=True, next_run_at=NOW)
    return connection


def test_a_scrape_costs_the_same_queries_for_1_or_30_connections(
    api, django_assert_max_num_queries, django_assert_num_queries
):
    add_busy_connection(0)
    api.get("/metrics")  # the key's first use records it (once a minute): not part of a scrape
    with django_assert_max_num_queries(12) as one:
        assert api.get("/metrics").status_code == 200
    for n in range(1, 30):
        add_busy_connection(n)
    with django_assert_num_queries(len(one)):
        response = api.get("/metrics")
    assert value(parse(response.text), "semine_outbox_invoices", status="pending") == 30
