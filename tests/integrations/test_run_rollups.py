"""Quiet runs are rolled up per connection × dataset × day and deleted; everything worth reading
keeps its detail; the figures and the last success read the same before and after."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection as dbc
from django.test.utils import CaptureQueriesContext

from integrations import retention
from integrations.models import Run, RunDay, Schedule
from integrations.retention import prune_runs, rollup_quiet_runs
from integrations.selectors import last_success_by_dataset, runs_by_day
from portal import selectors as portal_selectors
from staff import sections
from tests.admin_builders import make_run
from tests.factories import make_connection, make_customer

NOW = datetime(2026, 12, 3, 3, 17, tzinfo=UTC)  # when the daily task runs
DAY = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # a day long enough ago to be folded whole


def ran(connection, dataset="suppliers", status="succeeded", *, at, seconds=2.0, **fields):
    """A run queued and started at `at` that took `seconds` (a scheduled run that changed
    nothing, unless told otherwise)."""
    finished = None if status in Run.ACTIVE_STATUSES else at + timedelta(seconds=seconds)
    fields = {"requests": 1, "fetched": 0, **fields}
    return make_run(
        connection, dataset, status, queued_at=at, started_at=at, finished_at=finished, **fields
    )


def quiet(connection, dataset="suppliers", *, at, **fields):
    return ran(connection, dataset, at=at, **fields)


def latest(connection, dataset="suppliers"):
    """A success an hour before NOW: the one the admin shows, and too recent to fold."""
    return quiet(connection, dataset, at=NOW - timedelta(hours=1))


def day_row(connection, dataset="suppliers", day=date(2026, 12, 1)):
    return RunDay.objects.get(connection=connection, dataset=dataset, day=day)


def test_it_folds_quiet_runs_per_connection_dataset_and_day(db):
    conn = make_connection()
    for i in range(20):  # 1 s, 2 s, ... 20 s, one every half hour
        quiet(conn, at=DAY + timedelta(minutes=30 * i), seconds=i + 1, requests=1 + i % 2)
    quiet(conn, at=DAY + timedelta(days=1), seconds=3, fetched=5000)  # a full sync, unchanged
    quiet(conn, "currencies", at=DAY + timedelta(hours=5), seconds=0.25)
    kept = [latest(conn), latest(conn, "currencies")]

    assert rollup_quiet_runs(now=NOW) == 22

    suppliers = day_row(conn)
    assert (suppliers.runs, suppliers.requests, suppliers.fetched) == (20, 30, 0)
    assert suppliers.duration_p50_ms == 10_000  # nearest rank: the 10th of 20
    assert suppliers.duration_p95_ms == 19_000  # the 19th of 20
    assert suppliers.duration_max_ms == 20_000
    next_day = day_row(conn, day=date(2026, 12, 2))
    assert (next_day.runs, next_day.fetched, next_day.duration_p50_ms) == (1, 5000, 3000)
    currencies = day_row(conn, "currencies")
    assert (currencies.runs, currencies.duration_max_ms) == (1, 250)
    assert set(Run.objects.values_list("pk", flat=True)) == {run.pk for run in kept}


def test_runs_worth_reading_keep_their_detail(db, settings):
    conn = make_connection()
    at = DAY + timedelta(hours=2)
    worth_reading = [
        ran(conn, status="failed", at=at, error_kind="network"),
        ran(conn, status="partial", at=at, rejected=1),
        ran(conn, status="deferred", at=at),
        ran(conn, status="abandoned", at=at),
        quiet(conn, at=at, created=1),
        quiet(conn, at=at, updated=3),
        quiet(conn, at=at, deleted=2),
        quiet(conn, at=at, rejected=1),
        quiet(conn, at=at, error_kind="rejections"),
        quiet(conn, at=at, trigger=Run.Trigger.MANUAL),
        quiet(conn, at=at, trigger=Run.Trigger.GO_LIVE),
        quiet(conn, at=NOW - timedelta(hours=20)),  # finished less than 24 hours ago
        ran(conn, "accounts", status="running", at=at),
    ]
    folded = quiet(conn, at=at, trigger=Run.Trigger.RETRY)
    # A dataset whose successes are all old: the newest of them is its last success.
    old_vat = [quiet(conn, "vat_codes", at=DAY + timedelta(hours=h)) for h in (1, 2, 3)]
    latest(conn)

    assert rollup_quiet_runs(now=NOW) == 3
    left = set(Run.objects.values_list("pk", flat=True))
    assert {run.pk for run in worth_reading} <= left
    assert folded.pk not in left
    assert [run.pk in left for run in old_vat] == [False, False, True]
    assert last_success_by_dataset(conn)["vat_codes"].run == old_vat[-1]

    # Kept longer when the setting says so.
    quiet(conn, at=NOW - timedelta(hours=30))
    settings.RUN_QUIET_KEEP_HOURS = 48
    assert rollup_quiet_runs(now=NOW) == 0


def test_a_second_call_changes_nothing(db):
    conn = make_connection()
    for i in range(6):
        quiet(conn, at=DAY + timedelta(hours=i), seconds=i + 1, fetched=i)
    latest(conn)
    assert rollup_quiet_runs(now=NOW) == 6
    before = list(RunDay.objects.values())
    runs = list(Run.objects.values_list("pk", flat=True))

    assert rollup_quiet_runs(now=NOW) == 0
    assert list(RunDay.objects.values()) == before
    assert list(Run.objects.values_list("pk", flat=True)) == runs


def test_a_day_folded_in_two_goes_adds_up(db):
    conn = make_connection()
    for i, seconds in enumerate([1, 2, 3, 4]):  # 00:00 to 00:30: folded on the first night
        quiet(conn, at=DAY + timedelta(minutes=10 * i), seconds=seconds, requests=2)
    for i, seconds in enumerate([10, 20, 30, 40]):  # the afternoon: folded the next night
        quiet(conn, at=DAY + timedelta(hours=14, minutes=10 * i), seconds=seconds, requests=3)
    latest(conn)

    assert rollup_quiet_runs(now=DAY + timedelta(days=1, hours=3)) == 4
    assert rollup_quiet_runs(now=NOW) == 4
    row = day_row(conn)
    assert (row.runs, row.requests) == (8, 20)  # exact
    assert row.duration_max_ms == 40_000  # exact
    # Approximate: each part's percentile weighted by its runs (2 s and 20 s; 4 s and 40 s).
    assert (row.duration_p50_ms, row.duration_p95_ms) == (11_000, 22_000)


def test_it_resumes_after_a_crash_half_way(db, monkeypatch):
    connections = [make_connection() for _ in range(3)]
    for conn in connections:
        for day in range(2):
            for i in range(4):
                at = DAY + timedelta(days=day, hours=i)
                quiet(conn, at=at, seconds=i + 1, requests=i + 1, fetched=10)
        latest(conn)
    fold = retention._fold
    calls = []

    def crash_on_the_second_batch(days):
        calls.append(days)
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        return fold(days)

    monkeypatch.setattr(retention, "_fold", crash_on_the_second_batch)
    with pytest.raises(RuntimeError):
        rollup_quiet_runs(now=NOW, batch=8)
    # The first batch (two whole days, 8 runs) is folded and gone; nothing else moved.
    assert sum(RunDay.objects.values_list("runs", flat=True)) == 8
    assert Run.objects.count() == 3 * 9 - 8

    monkeypatch.setattr(retention, "_fold", fold)
    assert rollup_quiet_runs(now=NOW, batch=8) == 24 - 8
    assert Run.objects.count() == 3  # the latest successes
    rows = RunDay.objects.all()
    assert len(rows) == 6
    for row in rows:  # each day exactly once: 1 + 2 + 3 + 4 s, requests, 4 runs of 10 records
        assert (row.runs, row.requests, row.fetched) == (4, 10, 40)
        assert (row.duration_p50_ms, row.duration_p95_ms, row.duration_max_ms) == (
            2000,
            4000,
            4000,
        )


def test_the_daily_prune_rolls_up_first(db):
    conn = make_connection()
    for i in range(3):
        quiet(conn, at=DAY + timedelta(hours=i))
    old_failure = ran(conn, status="failed", at=NOW - timedelta(days=200))
    latest(conn)
    RunDay.objects.create(connection=conn, dataset="suppliers", day=date(2026, 5, 1), runs=9)

    result = prune_runs(now=NOW)

    assert result == {"rolled_up": 3, "succeeded": 0, "failed": 1, "run_days": 1}
    assert not Run.objects.filter(pk=old_failure.pk).exists()
    assert list(RunDay.objects.values_list("day", "runs")) == [(date(2026, 12, 1), 3)]


def requests_in_chart(html):
    return re.findall(r"Xledger requests (\d+), records (\d+)", html)


def test_request_totals_are_the_same_before_and_after_folding(db, monkeypatch):
    conn = make_connection()
    for i in range(30):
        quiet(conn, at=DAY + timedelta(minutes=45 * i), requests=1 + i % 3, fetched=i)
        quiet(conn, "dimensions", at=DAY + timedelta(minutes=40 * i), requests=3)
    ran(conn, status="failed", at=DAY + timedelta(hours=4), requests=7)
    quiet(conn, at=DAY + timedelta(hours=5), created=2, requests=2)
    latest(conn)
    latest(conn, "dimensions")
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)

    def figures():
        totals = runs_by_day(conn, days=14, now=NOW)
        return {key: (t.runs, t.requests, t.fetched) for key, t in totals.items()}

    before, chart_before = figures(), requests_in_chart(sections.run_chart(conn))
    assert rollup_quiet_runs(now=NOW) == 60
    after, chart_after = figures(), requests_in_chart(sections.run_chart(conn))

    assert before == after
    assert chart_before == chart_after and len(chart_after) == 2 * 14
    assert sum(requests for _runs, requests, _fetched in after.values()) == (
        sum(1 + i % 3 for i in range(30)) + 30 * 3 + 7 + 2 + 2
    )
    assert runs_by_day(conn, now=NOW)[("suppliers", date(2026, 12, 1))].rolled_up == 30


def test_the_last_success_shows_after_its_run_is_gone(db, client, superuser):
    conn = make_connection()
    done = ran(conn, status="partial", at=DAY + timedelta(hours=8), seconds=3600, rejected=1)
    client.force_login(superuser)
    shown = "2026-12-01 10:00"  # 09:00 UTC in Oslo

    page = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert f'/admin/integrations/run/{done.pk}/change/">{shown}</a>' in page

    Run.objects.all().delete()  # pruned (a partial run is kept 180 days), or removed by hand

    assert shown in client.get("/admin/portal/customer/").content.decode()
    page = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert f'<span title="The run itself is no longer in the run history.">{shown}</span>' in page
    assert last_success_by_dataset(conn)["suppliers"].run is None
    health = portal_selectors.connection_health(conn)
    assert [row.last_success for row in health.datasets if row.dataset == "suppliers"] == [
        DAY + timedelta(hours=9)
    ]


def last_success_sort(client) -> str:
    """The `o` of the customer list sorted by last success, as its column header links it (the
    column's position depends on whether the user has actions, hence a checkbox column)."""
    html = client.get("/admin/portal/customer/").content.decode()
    header = html.split("column-last_success_display", 1)[1]
    return re.search(r'<a href="\?o=([\d.-]+)"', header).group(1).split(".")[0]


def test_the_customer_list_sorts_by_the_last_success(db, client, pm_user):
    # Names in the opposite order to the times, so a sort by name cannot pass for it.
    for name, hours in [("A Late AS", 5), ("B Early AS", 1), ("C Never AS", None)]:
        conn = make_connection(customer=make_customer(name, project_manager=pm_user))
        if hours:
            Schedule.objects.filter(connection=conn, dataset="currencies").update(
                last_success_at=DAY + timedelta(hours=hours)
            )
    client.force_login(pm_user)
    column = last_success_sort(client)

    def order(sort):
        html = client.get(f"/admin/portal/customer/?o={sort}").content.decode()
        return sorted(("A Late AS", "B Early AS"), key=html.index)

    assert order(column) == ["B Early AS", "A Late AS"]
    assert order(f"-{column}") == ["A Late AS", "B Early AS"]


def _add_customers(n, start, pm):
    for i in range(start, start + n):
        conn = make_connection(customer=make_customer(f"Kunde {i:04d} AS", project_manager=pm))
        for hour in range(3):
            quiet(conn, at=DAY + timedelta(hours=hour))
        ran(conn, "currencies", status="failed", at=DAY)
        latest(conn)
    rollup_quiet_runs(now=NOW)


def test_the_customer_list_costs_the_same_for_3_and_30_customers(
    db, client, pm_user, django_assert_num_queries
):
    client.force_login(pm_user)
    _add_customers(3, 0, pm_user)
    url = f"/admin/portal/customer/?o=-{last_success_sort(client)}"
    with CaptureQueriesContext(dbc) as few:
        assert client.get(url).status_code == 200

    _add_customers(27, 3, pm_user)
    assert RunDay.objects.count() == 30
    with django_assert_num_queries(len(few)):
        html = client.get(url).content.decode()
    assert "Kunde 0029 AS" in html
    assert html.count("2026-12-03 03:17") == 30  # the latest successes (02:17 UTC) in Oslo time
