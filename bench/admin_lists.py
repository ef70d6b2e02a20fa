"""Time the admin's big lists over a fleet with a month of run history, as the daily roll-up
leaves it.

    .venv/bin/python bench/admin_lists.py [--customers 10000] [--days 30]
    DATABASE_URL=postgres://... .venv/bin/python bench/admin_lists.py   # on PostgreSQL

Works in a throwaway test database (created and destroyed here; never your data), fills it with
bulk inserts, then fetches each page a few times as a support user and prints the median time
and the number of SQL queries. The query count must not depend on the data volume (the tests
assert that); the time shows whether the indexes carry the filters.

The history is what `integrations.retention` keeps of `--days` days at the default intervals
(suppliers every 30 minutes, dimensions and fixed assets every 6 hours, the rest daily; invoice
runs only when there is something to send), about 60 runs per customer a day:

- older than 48 hours: the quiet successful runs as `RunDay` roll-ups (written here as the fold
  would have written them), the runs worth reading as runs (failures, deferred and partial
  runs, runs that changed data, manual runs, invoice sends);
- the last 48 hours: every run. Then `rollup_quiet_runs` folds those older than 24 hours, the
  daily task's real work, and its time is printed. The pages are timed after it.

Each schedule's `last_success_at` is its newest completed run's end, as the engine keeps it.
"""

import argparse
import math
import os
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from staff.pagination import CappedCountPaginator  # noqa: E402

PAGES = [
    ("dashboard", "/admin/"),
    ("customers", "/admin/portal/customer/"),
    (
        "customers: live, has issues",
        "/admin/portal/customer/?onboarding_status__exact=live&issues=yes",
    ),
    ("customers: search", "/admin/portal/customer/?q=Kunde+01"),
    ("customers: by last sync", "/admin/portal/customer/?o={last}"),
    ("customers: by last sync, desc", "/admin/portal/customer/?o=-{last}"),
    ("connections", "/admin/integrations/connection/"),
    ("schedules", "/admin/integrations/schedule/"),
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

# Runs a day at the default intervals, and what one run costs in requests.
PER_DAY = {
    "suppliers": 48,
    "currencies": 1,
    "dimensions": 4,
    "vat_codes": 1,
    "accounts": 1,
    "fixed_assets": 4,
}
REQUESTS = {"suppliers": 1, "currencies": 1, "dimensions": 3, "vat_codes": 2, "accounts": 1}
INVOICE_SENDS_PER_DAY = 2
# Of scheduled runs: the share that changed something, and the share that did not complete.
CHANGED = {"suppliers": 0.05, "dimensions": 0.03}
CHANGED_OTHERWISE = 0.02
NOT_COMPLETED = [("failed", 0.010), ("deferred", 0.003), ("partial", 0.002)]
MANUAL = 0.002
RAW_HOURS = 48
BATCH = 20_000


# Every NOT NULL column of a run, in the order History writes them.
RUN_COLUMNS = (
    "connection_id", "dataset", "trigger", "full", "status", "queued_at", "started_at",
    "finished_at", "worker", "fetched", "created", "updated", "unchanged", "deleted", "rejected",
    "requests", "pages", "rejections", "error_kind", "error_message", "delta_cursor",
)  # fmt: skip
RUN_DAY_COLUMNS = (
    "connection_id", "dataset", "day", "runs", "requests", "fetched", "duration_p50_ms",
    "duration_p95_ms", "duration_max_ms",
)  # fmt: skip


def insert_sql(model, columns):
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )


class History:
    """Runs and roll-ups for the fill, written in bulk as they accumulate: rows of plain values
    and one executemany per batch (the ORM's bulk_create spends most of a 10,000-customer fill
    preparing values)."""

    def __init__(self):
        from integrations.models import Run, RunDay

        self.run_sql = insert_sql(Run, RUN_COLUMNS)
        self.day_sql = insert_sql(RunDay, RUN_DAY_COLUMNS)
        self.no_rejections = Run._meta.get_field("rejections").get_db_prep_save([], connection)
        self.runs, self.days = [], []
        self.counts = {"runs": 0, "run_days": 0, "quiet_rolled": 0}
        self.last_success = {}  # (connection, dataset) -> finished_at

    def run(self, connection_id, dataset, queued, seconds, status, **fields):
        finished = queued + timedelta(seconds=seconds)
        at = connection.ops.adapt_datetimefield_value
        self.runs.append(
            (
                connection_id,
                dataset,
                fields.get("trigger", "scheduled"),
                fields.get("full", False),
                status,
                at(queued),
                at(queued),
                at(finished),
                "",
                fields.get("fetched", 0),
                fields.get("created", 0),
                fields.get("updated", 0),
                0,
                0,
                fields.get("rejected", 0),
                fields.get("requests", 0),
                1,
                self.no_rejections,
                fields.get("error_kind", ""),
                "",
                "",
            )
        )
        if status in ("succeeded", "partial"):
            key = (connection_id, dataset)
            if finished > self.last_success.get(key, finished - timedelta(1)):
                self.last_success[key] = finished
        if len(self.runs) >= BATCH:
            self.flush()

    def day(self, connection_id, dataset, day, runs, requests, fetched, rng):
        p50 = rng.randint(400, 2500)
        self.days.append(
            (
                connection_id,
                dataset,
                connection.ops.adapt_datefield_value(day),
                runs,
                requests,
                fetched,
                p50,
                p50 * 3,
                p50 * 6,
            )
        )
        self.counts["quiet_rolled"] += runs
        if len(self.days) >= BATCH:
            self.flush()

    def flush(self):
        with transaction.atomic(), connection.cursor() as cursor:
            if self.runs:
                cursor.executemany(self.run_sql, self.runs)
            if self.days:
                cursor.executemany(self.day_sql, self.days)
        self.counts["runs"] += len(self.runs)
        self.counts["run_days"] += len(self.days)
        self.runs, self.days = [], []


def worth_reading_share(dataset):
    return (
        sum(share for _status, share in NOT_COMPLETED)
        + MANUAL
        + CHANGED.get(dataset, CHANGED_OTHERWISE)
    )


def worth_reading(rng, dataset):
    """(status, trigger, fields) of a run that keeps its detail, in proportion to the shares."""
    draw = rng.random() * worth_reading_share(dataset)
    for status, share in NOT_COMPLETED:
        if draw < share:
            kind = {"failed": "network", "deferred": "unavailable", "partial": "rejections"}
            fields = {"error_kind": kind[status], "rejected": int(status == "partial")}
            return status, "scheduled", fields
        draw -= share
    if draw < MANUAL:
        return "succeeded", "manual", {}
    return "succeeded", "scheduled", {"created": rng.randint(0, 3), "updated": rng.randint(1, 20)}


def chosen(rng, share, count):
    """The slots (of `count`) that fall to a `share`, drawn with geometric gaps: cheap when the
    share is small, however many slots there are."""
    picked, k = set(), -1
    while True:
        k += 1 + int(math.log(1.0 - rng.random()) / math.log(1.0 - share))
        if k >= count:
            return picked
        picked.add(k)


def fill_connection(history, rng, connection_id, fixed_assets, now, days):
    """One connection's history: roll-ups before the raw window, every run inside it."""
    raw_from = now - timedelta(hours=RAW_HOURS)
    last_slot = now - timedelta(minutes=5)
    first_day = (now - timedelta(days=days)).astimezone(UTC).date()
    offset = rng.randint(0, 29 * 60)  # seconds: the dispatcher spreads connections
    for dataset, per_day in PER_DAY.items():
        if dataset == "fixed_assets" and not fixed_assets:
            continue
        step = timedelta(days=1) / per_day
        cost = REQUESTS.get(dataset, 1)
        share = worth_reading_share(dataset)
        for d in range(days + 1):
            day = first_day + timedelta(days=d)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=offset)
            slots = min(per_day, max(math.ceil((last_slot - start) / step), 0))
            raw = min(max(math.ceil((raw_from - start) / step), 0), slots)  # first raw slot
            kept = chosen(rng, share, slots)
            for k in sorted(kept | set(range(raw, slots))):
                full = dataset != "suppliers" or k == 0  # suppliers: one full sync a day
                if k in kept:
                    status, trigger, fields = worth_reading(rng, dataset)
                else:
                    status, trigger, fields = "succeeded", "scheduled", {}
                history.run(
                    connection_id,
                    dataset,
                    start + k * step,
                    rng.uniform(0.3, 4.0),
                    status,
                    trigger=trigger,
                    full=full,
                    fetched=rng.randint(20, 5000) if full else rng.randint(0, 3),
                    requests=cost,
                    **fields,
                )
            quiet = raw - len([k for k in kept if k < raw])
            if quiet:
                fulls = quiet if dataset != "suppliers" else int(0 not in kept)
                fetched = fulls * rng.randint(20, 5000) + (quiet - fulls) * rng.randint(0, 3)
                history.day(connection_id, dataset, day, quiet, quiet * cost, fetched, rng)
    for d in range(days):  # invoice sends: always something sent, so always kept
        for _ in range(INVOICE_SENDS_PER_DAY):
            queued = now - timedelta(days=d, seconds=rng.randint(300, 86_000))
            history.run(
                connection_id,
                "invoices",
                queued,
                rng.uniform(0.5, 3.0),
                "succeeded",
                created=rng.randint(1, 12),
                requests=2,
            )


def fill(customers, days, now):
    from integrations.datasets import Dataset
    from integrations.models import Connection, Issue, Schedule
    from portal.models import AuditEntry, Customer

    rng = random.Random(1)
    statuses = ["live"] * 6 + ["submitted", "invited", "in_progress", "changes_requested"]
    Customer.objects.bulk_create(
        (
            Customer(
                legal_name=f"Kunde {i:05d} AS",
                onboarding_status=rng.choice(statuses),
                fixed_assets_apply=rng.random() < 0.3,
            )
            for i in range(customers)
        ),
        batch_size=5000,
    )
    customer_rows = list(Customer.objects.values_list("pk", "fixed_assets_apply"))
    Connection.objects.bulk_create(
        (
            Connection(
                customer_id=pk,
                owner_entity_id=10000 + pk,
                status=rng.choice(["ok"] * 8 + ["needs_attention", "paused"]),
            )
            for pk, _fixed in customer_rows
        ),
        batch_size=5000,
    )
    fixed = dict(customer_rows)
    conns = list(Connection.objects.values_list("pk", "customer_id"))
    history = History()
    for c, customer_id in conns:
        fill_connection(history, rng, c, fixed[customer_id], now, days)
    history.flush()
    Schedule.objects.bulk_create(
        (
            Schedule(
                connection_id=c,
                dataset=d,
                enabled=True,
                last_success_at=history.last_success.get((c, d)),
            )
            for c, _customer in conns
            for d in Dataset.values
        ),
        batch_size=5000,
    )
    Issue.objects.bulk_create(
        Issue(connection_id=c, kind="dataset_failing", dataset="suppliers", title="failing")
        for c, _customer in conns[::7]
    )
    ids = [pk for pk, _fixed in customer_rows]
    AuditEntry.objects.bulk_create(
        (
            AuditEntry(action="resync", target=f"x{i}", customer_id=ids[i % len(ids)])
            for i in range(customers * 5)
        ),
        batch_size=5000,
    )
    return ids[0], conns[0][0], history.counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--keep", action="store_true", help="leave the test database behind (to EXPLAIN queries)"
    )
    args = parser.parse_args()

    setup_test_environment()
    settings.DEBUG = False
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from integrations.models import Run, RunDay
        from integrations.retention import rollup_quiet_runs

        now = timezone.now()
        started = time.perf_counter()
        customer, conn, counts = fill(args.customers, args.days, now)
        filled = time.perf_counter() - started
        raw = counts["runs"] + counts["quiet_rolled"]
        print(
            f"{connection.vendor}: {args.customers} customers, {args.days} days of history "
            f"({raw:,} runs made; filled in {filled:.0f} s)"
        )
        before = Run.objects.count()
        started = time.perf_counter()
        folded = rollup_quiet_runs(now=now)
        seconds = time.perf_counter() - started
        after = Run.objects.count()
        rolled = RunDay.objects.aggregate(n=Sum("runs"))["n"] or 0
        print(
            f"daily roll-up: {folded:,} quiet runs of the last {RAW_HOURS} h folded in "
            f"{seconds:.1f} s ({folded / max(seconds, 1e-9):,.0f} runs/s); "
            f"runs {before:,} -> {after:,}, run days {RunDay.objects.count():,}; "
            f"runs kept + rolled up = {after + rolled:,} (made {raw:,})"
        )
        assert after + rolled == raw, "the roll-up lost or double-counted runs"
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        user = User.objects.create_user("bench", "b@semine.example", "x", is_staff=True)
        user.groups.add(Group.objects.get(name="Support"))
        # A complete staff sign-in: the password, then the second factor (signin.middleware
        # holds every admin page of a session without it).
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        client = Client()
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        today = midnight.isoformat().replace("+", "%2B")
        # The last success column's sort key, as its header links it (its position depends on
        # whether the user has actions, hence a checkbox column).
        html = client.get("/admin/portal/customer/").content.decode()
        header = html.split("column-last_success_display", 1)[1]
        last = re.search(r'<a href="\?o=([\d.-]+)"', header).group(1).split(".")[0]
        print(f"{'page':36} {'median ms':>10} {'queries':>8}")
        run_admin = admin.site._registry[Run]
        postgres = connection.vendor == "postgresql"

        def variants(name, url):
            """The page as the portal serves it, then (timed in turn with it, so that neither
            gets the warmer cache) with Django's own paginator (a COUNT(*) of every matching
            run) and, for the customer lists, with PostgreSQL's JIT on."""
            yield name, CappedCountPaginator, "off"
            if "/integrations/run/" in url and "change" not in url:
                yield f"{name} (full COUNT)", Paginator, "off"
            if postgres and name.startswith("customer"):
                yield f"{name} (JIT on)", CappedCountPaginator, "on"

        for page, url in PAGES:
            url = url.format(conn=conn, customer=customer, today=today, last=last)
            rows = list(variants(page, url))
            times = {name: [] for name, _p, _j in rows}
            queries = {}
            for _ in range(args.repeat):
                for name, paginator, jit in rows:
                    run_admin.paginator = paginator
                    if postgres:
                        with connection.cursor() as cursor:
                            cursor.execute(f"SET jit = {jit}")
                    with CaptureQueriesContext(connection) as ctx:
                        t0 = time.perf_counter()
                        response = client.get(url)
                        times[name].append(time.perf_counter() - t0)
                    assert response.status_code == 200, (url, response.status_code)
                    queries[name] = len(ctx.captured_queries)
                    if postgres:  # the page ran on the session set above
                        with connection.cursor() as cursor:
                            cursor.execute("SHOW jit")
                            assert cursor.fetchone()[0] == jit, name
            for name, _p, _j in rows:
                median = statistics.median(times[name]) * 1000
                print(f"{name:36} {median:10.0f} {queries[name]:8d}")
        run_admin.paginator = CappedCountPaginator
    finally:
        if args.keep:
            print(f"kept the database {connection.settings_dict['NAME']}")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
