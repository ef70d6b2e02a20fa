from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from tests.admin_builders import make_issue, make_run, make_submitted_customer
from tests.factories import make_connection, make_customer


def _add(n, start):
    for i in range(start, start + n):
        conn = make_connection(customer=make_customer(f"Kunde {i:04d} AS"))
        make_run(conn, "suppliers")
        make_run(conn, "accounts", status="failed")
        if i % 2:
            conn.status = "needs_attention"
            conn.save()
        if i % 5 == 0:
            make_issue(conn)


def _get(client):
    with CaptureQueriesContext(db) as ctx:
        response = client.get("/admin/")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_dashboard_costs_a_constant_number_of_queries(db, client, support_user):
    client.force_login(support_user)
    _add(5, 0)
    small, _ = _get(client)
    _add(50, 5)
    large, html = _get(client)
    assert small == large, (small, large)
    assert "Connections needing attention" in html
    assert "Runs in the last 24 hours (110)" in html


def test_the_dashboard_shows_customers_by_status_and_attention(db, client, pm_user):
    client.force_login(pm_user)
    make_submitted_customer("Levert AS")
    make_customer("Invitert AS")
    paused = make_connection(customer=make_customer("Pauset AS"))
    paused.status = "paused"
    paused.save()
    html = client.get("/admin/").content.decode()
    assert "Customers by status" in html
    assert "onboarding_status__exact=submitted" in html
    assert "Pauset AS" in html
    assert "Levert AS" not in html.split("Connections needing attention")[1].split("</table>")[0]
