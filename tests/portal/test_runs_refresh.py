"""Runs move without a manual reload: while a run is queued or running, the customer's home, the
connection's admin page and the run list refresh themselves (a meta refresh, no JavaScript), and
stop once nothing is active. Deciding costs at most one query."""

import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import Run
from portal.models import Customer
from tests.admin_builders import make_run
from tests.factories import make_connection

REFRESH = '<meta http-equiv="refresh" content="5">'


def _get(client, url):
    with CaptureQueriesContext(db) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), len(ctx.captured_queries)


@pytest.fixture
def live(customer):
    connection = make_connection(customer, live_since=timezone.now())
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.LIVE)
    make_run(connection, dataset="suppliers")
    return connection


@pytest.fixture
def staff(pm_user):
    client = Client()
    client.force_login(pm_user)
    return client


def _urls(connection):
    return [
        f"/admin/integrations/connection/{connection.pk}/change/",
        f"/admin/integrations/run/?connection={connection.pk}",
        "/admin/integrations/run/",
    ]


@pytest.mark.parametrize("status", ["queued", "running"])
def test_the_customer_home_refreshes_while_a_run_is_active(customer_client, live, status):
    customer_client.get("/")  # warm caches (content types, sessions)
    body, idle = _get(customer_client, "/")
    assert REFRESH not in body and "updates itself" not in body
    run = make_run(live, dataset="accounts", status=status, ago=timezone.timedelta(seconds=3))
    body, active = _get(customer_client, "/")
    assert REFRESH in body and "updates itself" in body
    assert ("Synchronising now" if status == "running" else "Queued") in body
    assert active == idle  # read with the health: not one query more
    Run.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    body, _ = _get(customer_client, "/")
    assert REFRESH not in body


def test_the_home_does_not_refresh_a_posted_form(customer_client, live):
    make_run(live, dataset="accounts", status="running")
    response = customer_client.post("/intervals/request/", {"connection": str(live.pk)})
    assert response.status_code == 200
    assert REFRESH not in response.content.decode()


def test_another_customers_runs_do_not_refresh_the_home(customer_client, live):
    other = make_connection(make_connection().customer, live_since=timezone.now())
    make_run(other, dataset="accounts", status="running")
    body, _ = _get(customer_client, "/")
    assert REFRESH not in body


@pytest.mark.parametrize("status", ["queued", "running"])
def test_the_staff_pages_refresh_while_a_run_is_active(staff, live, status):
    urls = _urls(live)
    for url in urls:
        staff.get(url)  # warm caches
    idle = [_get(staff, url) for url in urls]
    for body, _ in idle:
        assert REFRESH not in body
    run = make_run(live, dataset="accounts", status=status, ago=timezone.timedelta(seconds=3))
    active = [_get(staff, url) for url in urls]
    for (body, queries), (_, idle_queries), url in zip(active, idle, urls, strict=True):
        assert REFRESH in body, url
        assert queries <= idle_queries + 1, (url, idle_queries, queries)
    body, _ = _get(staff, f"/admin/integrations/run/{run.pk}/change/")
    assert REFRESH in body
    Run.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    for url in urls + [f"/admin/integrations/run/{run.pk}/change/"]:
        body, _ = _get(staff, url)
        assert REFRESH not in body, url


def test_the_run_list_refreshes_for_the_runs_it_shows(staff, live):
    other = make_connection()
    make_run(other, dataset="accounts", status="running")
    body, _ = _get(staff, f"/admin/integrations/run/?connection={live.pk}")
    assert REFRESH not in body  # the active run is another connection's
    body, _ = _get(staff, "/admin/integrations/run/")
    assert REFRESH in body


def test_the_connection_page_does_not_refresh_a_posted_form(staff, live):
    make_run(live, dataset="accounts", status="running")
    url = f"/admin/integrations/connection/{live.pk}/change/"
    response = staff.post(url, {"selected_dimensions": "not json"})
    assert response.status_code == 200  # the form again, with its error
    assert REFRESH not in response.content.decode()
