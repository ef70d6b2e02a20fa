from django.db import connection as dbc
from django.test.utils import CaptureQueriesContext

from tests.admin_builders import make_issue, make_run, make_submitted_customer


def _queries(client, url):
    with CaptureQueriesContext(dbc) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_connection_and_customer_pages_cost_the_same_with_many_runs(db, client, superuser):
    customer = make_submitted_customer()
    conn = customer.connections.get()
    client.force_login(superuser)
    # One success per dataset first: the health section looks up each dataset's last success
    # (a query per dataset, bounded by the number of datasets, not by the number of runs).
    for dataset in ["suppliers", "accounts", "currencies", "vat_codes", "dimensions"]:
        make_run(conn, dataset)
    urls = [
        f"/admin/integrations/connection/{conn.pk}/change/",
        f"/admin/portal/customer/{customer.pk}/change/",
    ]
    for url in urls:  # warm the caches (content types) first
        client.get(url)
    few = [_queries(client, url) for url in urls]
    for i in range(60):
        make_run(
            conn,
            ["suppliers", "accounts", "currencies"][i % 3],
            status=["succeeded", "failed"][i % 2],
        )
    make_issue(conn)
    many = [_queries(client, url) for url in urls]
    assert few == many
    assert many[0] < 40, many
