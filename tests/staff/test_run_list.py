import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from tests.admin_builders import make_run
from tests.factories import make_connection, make_customer

URL = "/admin/integrations/run/"


def _add_runs(n, start):
    for i in range(start, start + n):
        conn = make_connection(customer=make_customer(f"Kunde {i:04d} AS"))
        make_run(conn, "suppliers", fetched=i)
        make_run(
            conn,
            "currencies",
            status="failed",
            error_kind="transient",
            error_message="Xledger answered 500",
        )


def _count(client, url):
    with CaptureQueriesContext(db) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_it_lists_runs_with_a_constant_number_of_queries(db, client, support_user):
    client.force_login(support_user)
    _add_runs(5, 0)
    small, _ = _count(client, URL)
    _add_runs(60, 5)
    large, html = _count(client, URL)
    assert small == large, (small, large)
    assert "Kunde 0064 AS" in html
    assert "Xledger answered 500" in html


def test_it_filters_by_customer_dataset_status_trigger_and_date(db, client, support_user):
    client.force_login(support_user)
    _add_runs(5, 0)
    conn = make_connection(customer=make_customer("Målkunde AS"))
    run = make_run(conn, "suppliers", status="failed", trigger="manual")
    url = (
        f"{URL}?connection={conn.pk}&dataset__exact=suppliers&status__exact=failed"
        f"&trigger__exact=manual&queued_at__gte=2000-01-01T00:00:00%2B00:00"
    )
    small, html = _count(client, url)
    assert f"/admin/integrations/run/{run.pk}/change/" in html
    assert "Kunde 0001 AS" not in html
    assert "Målkunde AS" in html  # the customer filter names the customer
    _add_runs(30, 5)
    large, _ = _count(client, url)
    assert small == large


def test_a_run_page_is_read_only_and_shows_counts(db, client, support_user):
    client.force_login(support_user)
    conn = make_connection()
    run = make_run(
        conn,
        "suppliers",
        fetched=321,
        requests=7,
        rejected=2,
        rejections=[{"code": "X", "reason": "missing name"}],
    )
    html = client.get(f"{URL}{run.pk}/change/").content.decode()
    assert "321" in html and "missing name" in html
    assert 'name="_save"' not in html
    assert "Release stuck run" not in html  # it finished


def test_a_project_manager_may_see_runs(db, client, pm_user):
    client.force_login(pm_user)
    assert client.get(URL).status_code == 200


@pytest.mark.django_db
def test_a_list_longer_than_the_cap_is_not_counted_to_its_end(client, support_user, monkeypatch):
    """The paginator counts at most cap + 1 runs (a LIMIT in the count) and says "more than"."""
    from staff.pagination import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    client.force_login(support_user)
    _add_runs(2, 0)  # four runs
    _queries, html = _count(client, URL)
    assert "4 runs" in html and "More than" not in html
    _add_runs(2, 2)  # eight runs
    with CaptureQueriesContext(db) as ctx:
        html = client.get(URL).content.decode()
    assert "More than 5 runs: filter or search to see the older ones." in html
    assert "Select all matching runs (more than 5)" in html and "Select all 6" not in html
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql for sql in counts), counts
    filtered = client.get(URL + "?status__exact=failed").content.decode()
    assert "4 runs" in filtered  # a filter brings the count back
