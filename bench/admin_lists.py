"""Time the admin's big lists with thousands of customers and hundreds of thousands of runs.

    .venv/bin/python bench/admin_lists.py [--customers 3000] [--runs-per-customer 100]
    DATABASE_URL=postgres://... .venv/bin/python bench/admin_lists.py   # on PostgreSQL

Works in a throwaway test database (created and destroyed here; never your data), fills it with
bulk inserts, then fetches each page a few times as a support user and prints the median time
and the number of SQL queries. The query count must not depend on the data volume (the tests
assert that); the time shows whether the indexes carry the filters.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

PAGES = [
    ("dashboard", "/admin/"),
    ("customers", "/admin/portal/customer/"),
    (
        "customers: live, has issues",
        "/admin/portal/customer/?onboarding_status__exact=live&issues=yes",
    ),
    ("customers: search", "/admin/portal/customer/?q=Kunde+01"),
    ("customers: by last sync", "/admin/portal/customer/?o=6"),
    ("runs", "/admin/integrations/run/"),
    ("runs: failed", "/admin/integrations/run/?status__exact=failed"),
    (
        "runs: manual suppliers",
        "/admin/integrations/run/?trigger__exact=manual&dataset__exact=suppliers",
    ),
    ("runs: one customer", "/admin/integrations/run/?connection={conn}"),
    ("runs: today", "/admin/integrations/run/?queued_at__gte={today}"),
    ("issues", "/admin/integrations/issue/"),
    ("audit log", "/admin/portal/auditentry/"),
    ("connection page", "/admin/integrations/connection/{conn}/change/"),
    ("customer page", "/admin/portal/customer/{customer}/change/"),
]


def fill(customers, runs_per_customer):
    from integrations.datasets import Dataset
    from integrations.models import Connection, Issue, Run, Schedule
    from portal.models import AuditEntry, Customer

    rng = random.Random(1)
    now = timezone.now()
    statuses = ["live"] * 6 + ["submitted", "invited", "in_progress", "changes_requested"]
    Customer.objects.bulk_create(
        Customer(legal_name=f"Kunde {i:05d} AS", onboarding_status=rng.choice(statuses))
        for i in range(customers)
    )
    ids = list(Customer.objects.values_list("pk", flat=True))
    Connection.objects.bulk_create(
        Connection(
            customer_id=pk,
            owner_entity_id=10000 + pk,
            status=rng.choice(["ok"] * 8 + ["needs_attention", "paused"]),
        )
        for pk in ids
    )
    conns = list(Connection.objects.values_list("pk", flat=True))
    Schedule.objects.bulk_create(
        Schedule(connection_id=c, dataset=d) for c in conns for d in Dataset.values
    )
    datasets = [d for d in Dataset.values if d != "fixed_assets"]
    batch = []
    for c in conns:
        for k in range(runs_per_customer):
            queued = now - timedelta(minutes=30 * k + rng.randint(0, 29))
            status = rng.choice(["succeeded"] * 17 + ["failed", "partial", "abandoned"])
            batch.append(
                Run(
                    connection_id=c,
                    dataset=datasets[k % len(datasets)],
                    status=status,
                    trigger=rng.choice(["scheduled"] * 18 + ["manual", "retry"]),
                    queued_at=queued,
                    started_at=queued,
                    finished_at=queued + timedelta(seconds=3),
                    fetched=rng.randint(0, 500),
                    requests=1,
                )
            )
        if len(batch) >= 20000:
            Run.objects.bulk_create(batch)
            batch = []
    Run.objects.bulk_create(batch)
    Issue.objects.bulk_create(
        Issue(connection_id=c, kind="dataset_failing", dataset="suppliers", title="failing")
        for c in conns[::7]
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(action="resync", target=f"x{i}", customer_id=ids[i % len(ids)])
        for i in range(customers * 5)
    )
    return ids[0], conns[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--runs-per-customer", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    settings.DEBUG = False
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        customer, conn = fill(args.customers, args.runs_per_customer)
        from integrations.models import Run

        runs = Run.objects.count()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"{connection.vendor}: {args.customers} customers, {runs} runs "
            f"(filled in {time.perf_counter() - started:.0f} s)"
        )
        user = User.objects.create_user("bench", "b@semine.example", "x", is_staff=True)
        user.groups.add(Group.objects.get(name="Support"))
        client = Client()
        client.force_login(user)
        midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        today = midnight.isoformat().replace("+", "%2B")
        print(f"{'page':32} {'median ms':>10} {'queries':>8}")
        for name, url in PAGES:
            url = url.format(conn=conn, customer=customer, today=today)
            times = []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as ctx:
                    t0 = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - t0)
                assert response.status_code == 200, (url, response.status_code)
            print(
                f"{name:32} {statistics.median(times) * 1000:10.0f} {len(ctx.captured_queries):8d}"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
