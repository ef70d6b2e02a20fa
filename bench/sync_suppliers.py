"""A full supplier sync of N records from the sandbox into the mirror, and what it costs.

    .venv/bin/python bench/sync_suppliers.py [--sizes 10000 100000] [--naive 10000]
    DATABASE_URL=postgres://.../semine_bench .venv/bin/python bench/sync_suppliers.py

Uses a scratch database: a fresh temporary SQLite file unless DATABASE_URL is set (then that
database is created if missing and migrated; use a throwaway one). The sandbox runs in a child
process over loopback HTTP, so its memory is not counted here. For each size:

- full sync: the engine's own path (run_create + run_execute), timed; records/s; Xledger
  requests; SQL statements per page (every statement the run issued, divided by its pages);
- the same full sync again under tracemalloc, on a fresh connection: peak Python memory, which
  must not grow with N (one page in memory at a time);
- an incremental sync with nothing changed: requests and SQL statements (tiny, independent of N);
- the naive baseline for the sizes in --naive: the same pages written with one
  update_or_create per record.
"""

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._common import (  # noqa: E402
    StatementCounter,
    print_machine,
    serve_sandbox,
    use_benchmark_database,
)  # noqa: E402

use_benchmark_database("bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection as db  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from integrations import dispatch  # noqa: E402
from integrations.datasets import suppliers as supplier_dataset  # noqa: E402
from integrations.models import Connection, Run, Schedule, Supplier  # noqa: E402
from integrations.services import run_create, run_execute  # noqa: E402
from integrations.xledger import queries  # noqa: E402
from integrations.xledger.client import XledgerClient  # noqa: E402
from portal.models import Customer  # noqa: E402


def make_connection(token: str, label: str) -> Connection:
    customer = Customer.objects.create(legal_name=f"Bench {label} {time.time_ns()}")
    connection = Connection(customer=customer, owner_entity_id=10001)
    connection.set_token(token)
    connection.status = Connection.Status.OK
    connection.live_since = timezone.now()
    connection.save()
    Schedule.ensure_for(connection)
    return connection


def sync(connection, *, full: bool):
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    run = run_create(schedule=schedule, trigger=Run.Trigger.MANUAL, full=full)
    counter = StatementCounter()
    started = time.perf_counter()
    with db.execute_wrapper(counter):
        run_execute(run_id=run.pk)
    seconds = time.perf_counter() - started
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error_message
    return run, seconds, counter.count


def naive_sync(connection, url, token):
    """The baseline: the same pages, one update_or_create per record."""
    started, count = time.perf_counter(), 0
    counter = StatementCounter()
    with XledgerClient(token, url=url, timeout=120) as client, db.execute_wrapper(counter):
        for page in client.paginate(queries.SUPPLIERS, first=queries.MAX_PAGE_SIZE):
            for node in page.nodes:
                row = supplier_dataset.MAPPING.row(node)
                db_id = row.pop("db_id")
                Supplier.objects.update_or_create(connection=connection, db_id=db_id, defaults=row)
                count += 1
    return count, time.perf_counter() - started, counter.count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--naive", type=int, nargs="*", default=[10_000])
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    dispatch._async_task = lambda run_id, name: None  # this process is the worker
    print_machine()
    version = db.Database.sqlite_version if db.vendor == "sqlite" else db.pg_version
    print(f"database : {db.vendor} {version}")
    print(f"page size: {queries.MAX_PAGE_SIZE}")
    print()
    header = (
        f"{'suppliers':>9} {'mode':<18} {'seconds':>8} {'records/s':>10} {'requests':>8} "
        f"{'pages':>5} {'SQL':>6} {'SQL/page':>8}"
    )
    print(header)
    print("-" * len(header))

    def line(size, mode, seconds, requests, pages, statements, records=None):
        records = size if records is None else records
        rate = f"{records / seconds:>10,.0f}" if records else f"{'-':>10}"
        per_page = f"{statements / pages:>8.1f}" if pages else f"{'-':>8}"
        print(
            f"{size:>9} {mode:<18} {seconds:>8.2f} {rate} {requests:>8} {pages:>5} "
            f"{statements:>6} {per_page}",
            flush=True,
        )

    full_runs = {}
    for size in args.sizes:
        child, info = serve_sandbox(size)
        try:
            with override_settings(XLEDGER_API_URL=info["url"], XLEDGER_TIMEOUT_SECONDS=120):
                connection = make_connection(info["token"], f"full-{size}")
                run, seconds, statements = sync(connection, full=True)
                assert run.created == size
                line(size, "full (engine)", seconds, run.requests, run.pages, statements)
                full_runs[size] = (run.pages, statements)

                run, seconds, statements = sync(connection, full=False)
                line(
                    size,
                    "incremental, none",
                    seconds,
                    run.requests,
                    run.pages,
                    statements,
                    records=0,
                )

                traced = make_connection(info["token"], f"traced-{size}")
                tracemalloc.start()
                tracemalloc.reset_peak()
                run, _, _ = sync(traced, full=True)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                print(
                    f"{'':>9} {'  peak memory of a full sync (tracemalloc):':<50} "
                    f"{peak / 2**20:.1f} MiB"
                )

                if size in args.naive:
                    naive = make_connection(info["token"], f"naive-{size}")
                    count, seconds, statements = naive_sync(naive, info["url"], info["token"])
                    line(
                        size,
                        "naive baseline",
                        seconds,
                        run.requests,
                        run.pages,
                        statements,
                        records=count,
                    )
        finally:
            child.stdin.close()
            child.wait(timeout=30)
    if len(full_runs) >= 2:
        (p1, s1), (p2, s2) = full_runs[min(full_runs)], full_runs[max(full_runs)]
        print()
        print(
            f"SQL statements per extra page of 10,000 records: {(s2 - s1) / (p2 - p1):.1f} "
            f"(the rest, {s1 - (s2 - s1) / (p2 - p1) * p1:.0f}, is the run's fixed cost: "
            "claim, load, scope, deletion check, finish, schedule, usage)"
        )


if __name__ == "__main__":
    main()
