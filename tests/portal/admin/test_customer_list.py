from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from tests.admin_builders import make_issue, make_run, make_submitted_customer
from tests.factories import make_connection, make_customer

URL = "/admin/portal/customer/"


def _add_customers(n, start, pm):
    for i in range(start, start + n):
        customer = make_customer(f"Kunde {i:04d} AS", project_manager=pm)
        conn = make_connection(customer=customer)
        make_run(conn, "suppliers")
        make_run(conn, "currencies", status="failed")
        if i % 3 == 0:
            make_issue(conn)


def _count(client, url=URL):
    with CaptureQueriesContext(db) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_it_lists_customers_with_a_constant_number_of_queries(db, client, pm_user):
    client.force_login(pm_user)
    _add_customers(10, 0, pm_user)
    small, _ = _count(client)
    _add_customers(90, 10, pm_user)
    large, html = _count(client)
    assert small == large, (small, large)
    assert "Kunde 0099 AS" in html


def test_it_keeps_the_query_count_with_filters_and_search(db, client, pm_user):
    client.force_login(pm_user)
    _add_customers(10, 0, pm_user)
    url = f"{URL}?onboarding_status__exact=invited&connection_status=unverified&issues=yes&q=Kunde"
    small, _ = _count(client, url)
    _add_customers(60, 10, pm_user)
    large, html = _count(client, url)
    assert small == large
    assert "Kunde 0003 AS" in html  # has an issue
    assert "Kunde 0004 AS" not in html  # has none


def test_it_shows_status_pm_connection_last_success_and_open_issues(db, client, pm_user):
    client.force_login(pm_user)
    customer = make_submitted_customer(pm=pm_user)
    make_run(customer.connections.get(), "suppliers")
    make_issue(customer.connections.get())
    make_issue(customer.connections.get(), kind="auth_failed", dataset="", status="resolved")
    html = client.get(URL).content.decode()
    assert "Submitted" in html
    assert "OK" in html  # connection status
    assert f"?connection={customer.connections.get().pk}" in html  # open issues link
    assert "<strong>1</strong>" in html  # the resolved one is not counted


def test_it_shows_the_detail_sections(db, client, pm_user):
    client.force_login(pm_user)
    customer = make_submitted_customer(pm=pm_user, expected_invoice_volume=None)
    conn = customer.connections.get()
    conn.entities.create(db_id=501, code="C1", description="Datter AS", in_scope=True)
    make_run(conn, "accounts", fetched=1234)
    make_issue(conn, title="Suppliers failing since Monday")
    html = client.get(f"{URL}{customer.pk}/change/").content.decode()
    assert "The token may read suppliers" in html  # the checklist
    assert "Datter AS" in html  # entities
    assert "Åse Ødegård" in html  # contacts inline
    assert "Chart of accounts" in html and "1234" in html  # recent runs
    assert "Suppliers failing since Monday" in html
    assert "Supplier register" in html  # schedules / health
    assert "Approve go-live" in html
    assert "Request changes" in html
    assert conn.token_fingerprint in html
    from tests.factories import TOKEN

    assert TOKEN not in html


def test_support_sees_no_approve_button(db, client, support_user):
    client.force_login(support_user)
    customer = make_submitted_customer()
    html = client.get(f"{URL}{customer.pk}/change/").content.decode()
    assert "Approve go-live" not in html


def test_a_customer_user_gets_no_admin_page(db, client):
    from tests.admin_builders import make_customer_user

    customer = make_submitted_customer()
    client.force_login(make_customer_user(customer))
    for url in [
        "/admin/",
        URL,
        f"{URL}{customer.pk}/change/",
        f"{URL}{customer.pk}/approve/",
        "/admin/integrations/run/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/admin/login/" in response["Location"]


def test_a_pm_filters_their_own_customers(db, client, pm_user):
    make_customer("Min Kunde AS", project_manager=pm_user)
    make_customer("Annen Kunde AS")
    client.force_login(pm_user)
    html = client.get(f"{URL}?pm=mine").content.decode()
    assert "Min Kunde AS" in html and "Annen Kunde AS" not in html


def test_it_filters_by_open_issues(db, client, pm_user):
    client.force_login(pm_user)
    _add_customers(4, 0, pm_user)  # Kunde 0000 and 0003 have an open issue
    resolved = make_connection(customer=make_customer("Løst AS", project_manager=pm_user))
    make_issue(resolved, status="resolved")
    with_issues = client.get(f"{URL}?issues=yes").content.decode()
    without = client.get(f"{URL}?issues=no").content.decode()
    for name in ("Kunde 0000 AS", "Kunde 0003 AS"):
        assert name in with_issues and name not in without
    for name in ("Kunde 0001 AS", "Kunde 0002 AS", "Løst AS"):
        assert name not in with_issues and name in without
