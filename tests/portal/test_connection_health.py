"""The home page tells the customer, per live connection, what is wrong now in words they can act
on, the one action that fixes it, and when each dataset last synchronised (Oslo time)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, Issue
from portal import selectors
from portal.models import Customer
from tests.admin_builders import VERIFICATION_OK, make_issue, make_run
from tests.factories import make_connection


@pytest.fixture
def live_customer(customer):
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.LIVE)
    customer.refresh_from_db()
    return customer


def live_connection(customer, status=Connection.Status.OK, **fields):
    connection = make_connection(customer, live_since=timezone.now(), **fields)
    Connection.objects.filter(pk=connection.pk).update(status=status)  # set_token unverified it
    connection.refresh_from_db()
    return connection


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def live_part(body: str) -> str:
    """The "Your integration is live" section (health of every live owner entity)."""
    return body.split('id="health-title"')[1].split("</section>")[0]


def health_of(body: str, connection) -> str:
    """The part of the page about one owner entity (the page heads each when there are several)."""
    start = body.index(f'<h3 id="health-{connection.pk}">')
    rest = body[start + 1 :]
    ends = [i for i in (rest.find('<h3 id="health-'), rest.find("</section>")) if i >= 0]
    return rest[: min(ends)]


def row_of(html: str, label: str) -> list[str]:
    """The cells of a dataset's row in the health table: last success, now, interval."""
    row = re.search(rf"<th scope=\"row\">{label}</th>(.*?)</tr>", html, re.S).group(1)
    return re.findall(r"<td>(.*?)</td>", row, re.S)


def test_it_asks_for_a_new_token_of_the_right_owner_entity(customer_client, live_customer):
    fine = live_connection(live_customer)
    revoked = live_connection(live_customer, status=Connection.Status.NEEDS_ATTENTION)
    make_issue(revoked, kind=Issue.Kind.AUTH_FAILED, dataset="", title="401")

    body = home(customer_client)
    broken = health_of(body, revoked)
    assert (
        f"Xledger no longer accepts the API token of owner entity {revoked.owner_entity_id}."
        in broken
    )
    replace = reverse("xledger_connection_token", args=[revoked.pk])
    assert f'<a class="button" href="{replace}">Replace the token</a>' in broken
    assert broken.count('class="button"') == 1  # one action

    other = health_of(body, fine)
    assert "Everything is running." in other
    assert "Replace the token" not in other and 'class="button"' not in other
    assert reverse("xledger_connection_token", args=[fine.pk]) not in live_part(body)


def test_a_failed_token_check_without_an_issue_is_a_rejected_token(customer_client, live_customer):
    failed = {
        **VERIFICATION_OK,
        "ok": False,
        "checks": [{"key": "token", "label": "Xledger accepts the token", "ok": False}],
    }
    connection = live_connection(
        live_customer, status=Connection.Status.NEEDS_ATTENTION, verification=failed
    )
    health = selectors.connection_health(connection)
    assert health.state == selectors.HEALTH_TOKEN_REJECTED
    assert health.action_url == reverse("xledger_connection_token", args=[connection.pk])
    assert "Replace the token</a>" in home(customer_client)


def test_a_missing_permission_asks_to_check_the_token(customer_client, live_customer):
    live_connection(live_customer)
    connection = live_connection(live_customer, status=Connection.Status.NEEDS_ATTENTION)
    make_issue(connection, kind=Issue.Kind.PERMISSION_MISSING, dataset="")

    part = health_of(home(customer_client), connection)
    assert f"The API token of owner entity {connection.owner_entity_id} lacks a permission" in part
    check = reverse("xledger_connection_token", args=[connection.pk])
    assert f'<a class="button" href="{check}">Check the token</a>' in part
    assert "Replace the token" not in part


def test_a_paused_connection_points_to_the_project_manager(customer_client, live_customer):
    connection = live_connection(live_customer, status=Connection.Status.PAUSED)
    body = home(customer_client)
    assert "SEMINE has paused this connection" in body
    assert '<a class="button" href="mailto:pm@semine.example">Contact your project manager</a>' in (
        body
    )
    assert "Everything is running" not in body

    Customer.objects.filter(pk=live_customer.pk).update(project_manager=None)
    body = home(customer_client)
    assert "Contact your project manager" in body and "mailto:" not in body
    assert selectors.connection_health(connection).state == selectors.HEALTH_PAUSED


def test_the_token_comes_before_a_pause_and_failing_data(customer_client, live_customer):
    connection = live_connection(live_customer, status=Connection.Status.PAUSED)
    make_run(connection, dataset="suppliers", status="failed")
    make_issue(connection, kind=Issue.Kind.AUTH_FAILED, dataset="")
    body = home(customer_client)
    assert "Xledger no longer accepts the API token" in body
    assert "SEMINE has paused this connection" not in body
    assert "SEMINE is looking into it" not in body


def test_used_up_credits_need_no_action(customer_client, live_customer):
    connection = live_connection(live_customer)
    make_run(connection, dataset="suppliers", status="deferred")
    make_issue(connection, kind=Issue.Kind.CREDITS_EXHAUSTED, dataset="")
    body = home(customer_client)
    assert "Your Xledger request credits are used up for now" in body
    assert "No action needed: it resumes by itself." in body
    assert 'class="button"' not in live_part(body)
    assert "Everything is running" not in body


def test_three_failed_runs_after_a_success_show_the_dataset_failing(customer_client, live_customer):
    connection = live_connection(live_customer)
    make_run(connection, dataset="suppliers", ago=timedelta(hours=3))
    for minutes in (90, 60, 30):
        make_run(connection, dataset="suppliers", status="failed", ago=timedelta(minutes=minutes))
    make_run(connection, dataset="currencies", status="failed", ago=timedelta(hours=4))
    make_run(connection, dataset="currencies", ago=timedelta(hours=2))  # failed, then fine

    body = home(customer_client)
    assert "Everything is running" not in body
    assert "Synchronising Supplier register is failing. SEMINE is looking into it." in body
    assert "No action needed from you." in body and 'class="button"' not in live_part(body)
    success, now, interval = row_of(body, "Supplier register")
    assert success != "Never" and "Failing" in now and "last attempt" in now
    assert interval == "every 30 min"
    success, now, _interval = row_of(body, "Currencies")
    assert success != "Never" and now == "OK"
    success, now, _interval = row_of(body, "Chart of accounts")
    assert success == "Never" and "Failing" not in now


def test_a_deferred_run_after_the_last_success_is_failing_too(live_customer):
    connection = live_connection(live_customer)
    make_run(connection, dataset="accounts", ago=timedelta(hours=2))
    make_run(connection, dataset="accounts", status="deferred", ago=timedelta(hours=1))
    health = selectors.connection_health(connection)
    assert health.state == selectors.HEALTH_FAILING
    assert [row.dataset for row in health.datasets if row.failing] == ["accounts"]


def test_a_schema_mismatch_is_for_semine(customer_client, live_customer):
    connection = live_connection(live_customer)
    make_run(connection, dataset="vat_codes")
    make_issue(connection, kind=Issue.Kind.SCHEMA_MISMATCH, dataset="vat_codes")
    body = home(customer_client)
    assert "Synchronising VAT codes is failing. SEMINE is looking into it." in body
    assert "Failing" in row_of(body, "VAT codes")[1]
    assert "Everything is running" not in body


def test_everything_is_running_only_when_nothing_fails(customer_client, live_customer):
    connection = live_connection(live_customer)
    make_run(connection, dataset="suppliers")
    make_issue(connection, kind=Issue.Kind.DATASET_FAILING, status=Issue.Status.RESOLVED)
    body = home(customer_client)
    assert "Everything is running." in body
    assert "Failing" not in body and "SEMINE is looking into it" not in body
    assert selectors.connection_health(connection).ok


def test_last_successes_are_shown_in_oslo_time(customer_client, live_customer):
    connection = live_connection(live_customer)
    summer = datetime(2024, 6, 3, 8, 15, tzinfo=UTC)  # CEST: 10:15 in Oslo
    winter = datetime(2024, 1, 15, 8, 15, tzinfo=UTC)  # CET: 09:15 in Oslo
    make_run(connection, dataset="suppliers", queued_at=summer, finished_at=summer)
    make_run(connection, dataset="currencies", queued_at=winter, finished_at=winter)
    body = home(customer_client)
    assert row_of(body, "Supplier register")[0] == "June 3, 2024, 10:15 a.m."
    assert row_of(body, "Currencies")[0] == "Jan. 15, 2024, 9:15 a.m."


def test_the_intervals_the_text_refers_to_are_shown(customer_client, live_customer):
    live_connection(live_customer)
    part = live_part(home(customer_client))
    assert "at the intervals below" in part
    assert row_of(part, "Currencies")[2] == "every 1 d"
    assert row_of(part, "Invoices to Xledger")[2] == "every 5 min"


def test_health_costs_the_same_few_queries_for_many_connections(
    customer_client, live_customer, django_assert_max_num_queries
):
    for _ in range(4):
        live_connection(live_customer)
    with CaptureQueriesContext(db) as quiet:
        home(customer_client)  # four connections that never ran

    for connection in selectors.connections_of(live_customer):
        for dataset in ("suppliers", "currencies", "accounts", "vat_codes", "invoices"):
            make_run(connection, dataset=dataset, ago=timedelta(hours=2))
            make_run(connection, dataset=dataset, status="failed")
        make_issue(connection, dataset="suppliers")
        make_issue(connection, kind=Issue.Kind.SCHEMA_MISMATCH, dataset="vat_codes")
    connections = selectors.connections_of(live_customer)  # as the home page reads them
    with django_assert_max_num_queries(3):  # runs, issues, schedules
        health = selectors.connections_health(connections)
    assert [h.state for h in health.values()] == [selectors.HEALTH_FAILING] * 4

    # Runs and issues on every dataset of every connection cost the page no query more.
    with django_assert_max_num_queries(len(quiet)):
        body = home(customer_client)
    assert (
        body.count(
            "Synchronising Supplier register, Currencies, VAT codes, Chart of accounts, "
            "Invoices to Xledger is failing."
        )
        == 4
    )
