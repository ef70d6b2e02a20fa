"""Staff pages of a customer with two connections (two Xledger owner entities): every list, page
and action that showed "the" connection, with two."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection as dbc
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from integrations.models import Connection, IntervalRequest, Issue, Run, Schedule
from portal import operations
from portal.models import AuditEntry, Customer
from tests.admin_builders import (
    VERIFICATION_OK,
    make_issue,
    make_run,
    make_submitted_customer,
    mark_verified,
)
from tests.factories import make_connection, make_customer

CUSTOMERS = "/admin/portal/customer/"
FIRST, SECOND = 10001, 20002


def _verification(owner, name):
    return {
        **VERIFICATION_OK,
        "owner": {"dbId": owner, "code": name[:3].upper(), "description": name},
        "entities": [
            {"dbId": owner, "code": name[:3].upper(), "description": name, "is_owner": True}
        ],
    }


def _two_connections(name="Nordgruppen AS", *, pm=None):
    """A submitted customer with two cleanly verified owner entities."""
    customer = make_submitted_customer(name, pm=pm, verified=False)
    first = customer.connections.get()
    first.owner_entity_id = FIRST
    first.save()
    mark_verified(first, _verification(FIRST, "Nordgruppen Norge AS"))
    second = make_connection(customer=customer, owner_entity_id=SECOND)
    mark_verified(second, _verification(SECOND, "Nordgruppen Sverige AB"))
    return customer, first, second


def _live_with_a_second_awaiting(pm=None):
    """A live customer: the first owner entity running, the second added after go-live, checked,
    scoped and asked for."""
    customer, first, second = _two_connections(pm=pm)
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.LIVE)
    first.live_since = now
    first.save()
    first.schedules.exclude(dataset="fixed_assets").update(
        enabled=True, next_run_at=now, last_full_sync_at=now
    )
    second.entities.create(db_id=SECOND, code="NSA", description="Sverige AB", is_owner=True)
    second.approval_requested_at = now
    second.save()
    return customer, first, second


def _schedules(connection):
    return list(
        Schedule.objects.filter(connection=connection)
        .order_by("dataset")
        .values_list("dataset", "enabled", "next_run_at")
    )


def _change_url(connection):
    return f"/admin/integrations/connection/{connection.pk}/change/"


# --- the customer page and list ------------------------------------------------------------------


def test_it_shows_every_connection_with_its_health_on_the_customer_page(db, client, pm_user):
    customer, first, second = _two_connections(pm=pm_user)
    make_run(first, "accounts", fetched=1111)
    make_run(second, "accounts", fetched=2222)
    make_issue(second, title="Swedish suppliers failing")
    client.force_login(pm_user)
    html = client.get(f"{CUSTOMERS}{customer.pk}/change/").content.decode()
    for connection, name in [(first, "Nordgruppen Norge AS"), (second, "Nordgruppen Sverige AB")]:
        assert f"Owner entity {connection.owner_entity_id} {name} (Production)" in html
        assert _change_url(connection) in html
        assert f"?connection={connection.pk}" in html  # its runs
    assert html.count('class="dataset-health"') == 2  # one health table each
    assert "1111" in html and "2222" in html  # recent runs of each
    assert "Swedish suppliers failing" in html
    assert html.count('class="verification"') == 2


def test_the_list_shows_each_connection_and_finds_either_owner_entity(db, client, pm_user):
    customer, first, second = _two_connections(pm=pm_user)
    second.status = Connection.Status.NEEDS_ATTENTION
    second.save()
    make_customer("Uten Tilkobling AS")
    client.force_login(pm_user)
    html = client.get(CUSTOMERS).content.decode()
    assert "2 connections" in html
    assert _change_url(first) in html and _change_url(second) in html
    assert "OK" in html and "Needs attention" in html
    for owner in (FIRST, SECOND):
        found = client.get(f"{CUSTOMERS}?q={owner}").content.decode()
        assert found.count(f"/admin/portal/customer/{customer.pk}/change/") == 1
        assert "Uten Tilkobling AS" not in found
    for status in ("ok", "needs_attention"):
        found = client.get(f"{CUSTOMERS}?connection_status={status}").content.decode()
        assert found.count(f"/admin/portal/customer/{customer.pk}/change/") == 1
    found = client.get(f"{CUSTOMERS}?connection_status=paused").content.decode()
    assert "Nordgruppen AS" not in found
    none = client.get(f"{CUSTOMERS}?connection_status=none").content.decode()
    assert "Uten Tilkobling AS" in none and "Nordgruppen AS" not in none
    # Sorting by the connection column lists the customer once.
    ordered = client.get(f"{CUSTOMERS}?o=5").content.decode()
    assert ordered.count(f"/admin/portal/customer/{customer.pk}/change/") == 1


def test_the_list_counts_issues_across_connections_with_a_constant_number_of_queries(
    db, client, pm_user
):
    made = []

    def add(n):
        for _ in range(n):
            i = len(made)
            made.append(i)
            customer = make_customer(f"Konsern {i:04d} AS", project_manager=pm_user)
            for _ in range(2):
                conn = make_connection(customer=customer)
                make_run(conn, "suppliers")
                make_issue(conn)

    def count(url):
        with CaptureQueriesContext(dbc) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    client.force_login(pm_user)
    add(5)
    for url in [CUSTOMERS, f"{CUSTOMERS}?connection_status=unverified&issues=yes&q=Konsern"]:
        small, _ = count(url)
        add(20)
        large, html = count(url)
        assert small == large, (url, small, large)
    customer = Customer.objects.get(legal_name="Konsern 0003 AS")
    # Listed once, whatever its two connections, with the open issue of each counted.
    assert html.count(f"/admin/portal/customer/{customer.pk}/change/") == 1
    assert "<strong>2</strong>" in html
    assert f"?customer={customer.pk}" in html  # the issues of both


def test_the_issue_and_run_lists_show_both_connections_of_a_customer(db, client, pm_user):
    customer, first, second = _two_connections(pm=pm_user)
    make_run(first, "suppliers")
    make_run(second, "currencies")
    make_issue(first, title="Norwegian issue")
    make_issue(second, title="Swedish issue")
    make_issue(make_connection(), title="Someone else's issue")
    client.force_login(pm_user)
    issues = client.get(f"/admin/integrations/issue/?customer={customer.pk}").content.decode()
    assert "Norwegian issue" in issues and "Swedish issue" in issues
    assert "Someone else" not in issues
    assert str(SECOND) in issues  # the owner entity column
    runs = client.get(f"/admin/integrations/run/?customer={customer.pk}").content.decode()
    assert 'field-dataset">Supplier register' in runs and 'field-dataset">Currencies' in runs
    one = client.get(f"/admin/integrations/run/?connection={second.pk}").content.decode()
    assert 'field-dataset">Currencies' in one and 'field-dataset">Supplier register' not in one
    assert f"{customer} · {SECOND}" in one  # the filter names the owner entity


# --- the dashboard -------------------------------------------------------------------------------


def test_the_dashboard_counts_both_connections(db, client, pm_user):
    customer, first, second = _live_with_a_second_awaiting(pm=pm_user)
    Connection.objects.filter(pk=first.pk).update(status=Connection.Status.NEEDS_ATTENTION)
    make_connection(customer=make_customer("Enkel AS"))
    client.force_login(pm_user)
    html = client.get("/admin/").content.decode()
    assert "Connections in use: 3 (customers connected: 2)" in html
    attention = html.split("Connections needing attention")[1].split("</table>")[0]
    assert f"Nordgruppen AS · {FIRST}" in attention and str(SECOND) not in attention
    awaiting = html.split("Owner entities waiting for go-live approval")[1].split("</table>")[0]
    assert f"Nordgruppen AS · {SECOND}" in awaiting and _change_url(second) in awaiting


# --- approving a connection added after go-live --------------------------------------------------


def test_a_pm_approves_a_connection_added_after_go_live_and_only_it_goes_live(
    db, client, pm_user, queued, django_capture_on_commit_callbacks
):
    customer, first, second = _live_with_a_second_awaiting(pm=pm_user)
    before = _schedules(first)
    client.force_login(pm_user)
    page = client.get(_change_url(second)).content.decode()
    assert "Approve go-live of this owner entity" in page
    assert (
        "Approve go-live of this owner entity"
        not in client.get(_change_url(first)).content.decode()
    )
    confirm = client.get(f"/admin/integrations/connection/{second.pk}/approve/").content.decode()
    assert "Nordgruppen Sverige AB" in confirm and "cannot go live" not in confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/integrations/connection/{second.pk}/approve/")
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.is_live and not second.awaits_approval
    assert Schedule.objects.filter(connection=second, dataset="suppliers", enabled=True).exists()
    runs = Run.objects.filter(trigger=Run.Trigger.GO_LIVE)
    assert runs.exists() and set(runs.values_list("connection", flat=True)) == {second.pk}
    assert sorted(queued) == sorted(runs.values_list("pk", flat=True))
    assert _schedules(first) == before  # the other keeps running as it was
    entry = AuditEntry.objects.get(action="connection_golive_approved")
    assert entry.after["owner_entity_id"] == SECOND


def test_the_connection_list_finds_those_waiting_for_approval(db, client, pm_user):
    customer, first, second = _live_with_a_second_awaiting(pm=pm_user)
    client.force_login(pm_user)
    html = client.get("/admin/integrations/connection/?state=awaiting").content.decode()
    assert _change_url(second) in html and _change_url(first) not in html


def test_the_customer_approval_page_shows_every_connections_checklist(db, client, pm_user, queued):
    customer, first, second = _two_connections(pm=pm_user)
    client.force_login(pm_user)
    url = f"{CUSTOMERS}{customer.pk}/approve/"
    page = client.get(url).content.decode()
    assert "Nordgruppen Norge AS" in page and "Nordgruppen Sverige AB" in page
    assert page.count('class="verification"') == 2
    client.post(url)
    assert {c.is_live for c in Connection.objects.filter(customer=customer)} == {True}


def test_approval_shows_what_blocks_a_connection_and_takes_nothing_live(
    db, client, pm_user, support_user, queued
):
    customer, first, second = _live_with_a_second_awaiting(pm=pm_user)
    second.entities.update(in_scope=False)
    client.force_login(pm_user)
    url = f"/admin/integrations/connection/{second.pk}/approve/"
    page = client.get(url).content.decode()
    assert "cannot go live yet" in page and "No entity is in scope yet." in page
    client.post(url)
    second.refresh_from_db()
    assert not second.is_live and not Run.objects.exists()
    client.force_login(support_user)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


# --- removing a connection -----------------------------------------------------------------------


def _remove_url(connection):
    return f"/admin/integrations/connection/{connection.pk}/remove/"


def test_removing_a_connection_needs_a_confirmation_with_a_reason(db, client, pm_user, queued):
    customer, first, second = _live_with_a_second_awaiting(pm=pm_user)
    client.force_login(pm_user)
    assert "Remove this connection" in client.get(_change_url(second)).content.decode()
    page = client.get(_remove_url(second)).content.decode()
    assert 'name="reason"' in page and "Nordgruppen Sverige AB" in page
    assert _change_url(first) in page  # the one that keeps running
    response = client.post(_remove_url(second), {"reason": "  "})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    second.refresh_from_db()
    assert not second.is_removed and second.has_token
    assert not AuditEntry.objects.filter(action="connection_removed").exists()


def test_removing_a_connection_stops_it_destroys_its_token_and_keeps_its_history(
    db, client, pm_user, queued
):
    customer, first, second = _two_connections(pm=pm_user)
    now = timezone.now()
    for connection in (first, second):
        connection.live_since = now
        connection.save()
        connection.schedules.exclude(dataset="fixed_assets").update(enabled=True, next_run_at=now)
    first_before = _schedules(first)
    done = make_run(second, "suppliers")
    waiting = make_run(second, "accounts", status="queued")
    make_issue(second)
    asked = IntervalRequest.objects.create(
        connection=second, dataset="suppliers", interval=timedelta(minutes=10), reason="Often"
    )
    client.force_login(pm_user)
    response = client.post(
        _remove_url(second),
        {"reason": "The Swedish company was sold", "confirmation": str(second.owner_entity_id)},
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == Connection.Status.REMOVED and second.is_removed
    assert second.removed_by == pm_user and not second.is_live
    assert Connection.objects.filter(pk=second.pk, api_token__isnull=True).exists()
    assert second.token_fingerprint == ""
    # Schedules off first: releasing the queued run did not make any of them due again.
    assert all(not enabled and next_run is None for _, enabled, next_run in _schedules(second))
    waiting.refresh_from_db()
    assert waiting.status == Run.Status.ABANDONED
    assert Run.objects.filter(pk=done.pk, status="succeeded").exists()  # history stays
    assert not Issue.objects.filter(connection=second).exclude(status="resolved").exists()
    asked.refresh_from_db()
    assert asked.status == IntervalRequest.Status.DECLINED and asked.answer
    entry = AuditEntry.objects.get(action="connection_removed")
    assert entry.actor == pm_user and entry.customer == customer
    assert entry.comment == "The Swedish company was sold"
    assert str(SECOND) in entry.target and entry.after["runs_released"] == [waiting.pk]
    # The other owner entity keeps running, token and all.
    first.refresh_from_db()
    assert first.status == Connection.Status.OK and first.has_token
    assert _schedules(first) == first_before
    # The removed connection's page is its history: read-only, no action offered.
    page = client.get(_change_url(second)).content.decode()
    assert "was removed on" in page
    for action in (
        "Remove this connection",
        "Pause connection",
        "Re-verify token",
        'name="resync"',
    ):
        assert action not in page


def test_removal_is_refused_without_the_permission(db, client, support_user):
    customer, first, second = _two_connections()
    client.force_login(support_user)
    assert "Remove this connection" not in client.get(_change_url(second)).content.decode()
    assert client.get(_remove_url(second)).status_code == 403
    assert client.post(_remove_url(second), {"reason": "Because"}).status_code == 403
    with pytest.raises(PermissionDenied):
        operations.connection_remove(connection=second, by=support_user, reason="Because")
    second.refresh_from_db()
    assert not second.is_removed and second.has_token
    assert not AuditEntry.objects.filter(action="connection_removed").exists()


def test_a_removed_connection_is_not_paused_resumed_resynced_or_reverified(
    db, client, superuser, queued
):
    customer, first, second = _two_connections()
    operations.connection_remove(connection=second, by=superuser, reason="Sold")
    client.force_login(superuser)
    for action, data in [
        ("pause", {}),
        ("resume", {}),
        ("resync", {"dataset": ""}),
        ("reverify", {}),
    ]:
        client.post(f"/admin/integrations/connection/{second.pk}/{action}/", data)
        second.refresh_from_db()
        assert second.status == Connection.Status.REMOVED, action
    assert not Run.objects.exists()
    intervals = client.get(f"/admin/integrations/connection/{second.pk}/intervals/")
    assert intervals.status_code == 302
    assert client.post(_change_url(second), {"owner_entity_id": "1"}).status_code == 403
    # The connection list hides it unless asked.
    listed = client.get("/admin/integrations/connection/").content.decode()
    assert _change_url(first) in listed and _change_url(second) not in listed
    removed = client.get("/admin/integrations/connection/?state=removed").content.decode()
    assert _change_url(second) in removed and _change_url(first) not in removed
    # The customer page shows the one in use only.
    page = client.get(f"{CUSTOMERS}{customer.pk}/change/").content.decode()
    assert _change_url(first) in page and _change_url(second) not in page


# --- intervals and the export --------------------------------------------------------------------


def test_the_intervals_page_adds_up_the_customers_connections(db, client, pm_user):
    customer, first, second = _two_connections(pm=pm_user)
    client.force_login(pm_user)
    html = client.get(f"/admin/integrations/connection/{first.pk}/intervals/").content.decode()
    assert "Estimated Xledger requests a month" in html
    assert "All 2 connections of this customer together" in html
    alone = make_submitted_customer("Alene AS").connections.get()
    html = client.get(f"/admin/integrations/connection/{alone.pk}/intervals/").content.decode()
    assert "connections of this customer together" not in html


def test_the_export_lists_every_owner_entity(db, client, pm_user):
    customer, first, second = _two_connections(pm=pm_user)
    second.entities.create(db_id=777, code="SE2", description="Datter AB", in_scope=True)
    client.force_login(pm_user)
    response = client.get(f"/staff/customers/{customer.pk}/d01-01.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    rows = [row for row in sheet.iter_rows(values_only=True)]
    owners = [row for row in rows if row[0] in (FIRST, SECOND)]
    assert [row[:5] for row in owners] == [
        (FIRST, "Nordgruppen Norge AS", "Production", "OK", 0),
        (SECOND, "Nordgruppen Sverige AB", "Production", "OK", 1),
    ]
    owner_ids = [row[1] for row in rows if row[0] == "Entity owner ID"]
    assert owner_ids == [FIRST, SECOND]
    assert any(row[0] == 777 and row[2] == "Datter AB" for row in rows)
