"""One dispatcher tick over 10,000 live connections (7 schedules each), and what it costs.

    .venv/bin/python bench/dispatch_tick.py [--connections 10000] [--due 10000]
    DATABASE_URL=postgres://.../semine_bench_tick .venv/bin/python bench/dispatch_tick.py

Scratch database as in bench/sync_suppliers.py. Tasks really go to django-q2's ORM broker
(one OrmQ row per run), so the enqueue cost is included. Three ticks:

- a typical minute: schedules on their grid with per-connection offsets, the tick at T claims
  what fell due in the minute before T;
- an idle tick (nothing due): the cost of the query alone (idle invoice schedules included:
  they are due for ever but skipped, as their outboxes are empty);
- 10,000 schedules due at once (the issue's mark: ≤ 2 s on PostgreSQL);
- the worst case: every schedule of every connection due at once (after an outage).
"""

import argparse
import logging
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._common import StatementCounter, print_machine, use_benchmark_database  # noqa: E402

use_benchmark_database("tick")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection as db  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_q.models import OrmQ  # noqa: E402

from integrations import dispatch  # noqa: E402
from integrations.datasets import Dataset  # noqa: E402
from integrations.models import Connection, Run, Schedule  # noqa: E402
from portal.models import Customer  # noqa: E402

TOKEN = "Zx9-Qm_4TtR2pL8vWc3nYb7Ks1Ha5Ge0Ud6J"


def populate(count: int, now):
    Run.objects.all().delete()
    OrmQ.objects.all().delete()
    Schedule.objects.all().delete()
    Connection.objects.all().delete()
    Customer.objects.all().delete()
    customers = Customer.objects.bulk_create(
        [Customer(legal_name=f"Kunde {i:04d} AS") for i in range(count)]
    )
    template = Connection()
    template.set_token(TOKEN)
    connections = Connection.objects.bulk_create(
        [
            Connection(
                customer=c,
                owner_entity_id=10001 + i,
                api_token=template.api_token,
                token_fingerprint=template.token_fingerprint,
                status=Connection.Status.OK,
                live_since=now,
            )
            for i, c in enumerate(customers)
        ]
    )
    schedules = [
        Schedule(connection=c, connection_id=c.pk, dataset=d, enabled=True)
        for c in connections
        for d in Dataset.values
    ]
    for s in schedules:
        s.next_run_at = s.next_due_after(now - timedelta(minutes=1))
    Schedule.objects.bulk_create(schedules, batch_size=2000)
    return len(schedules)


def timed_tick(now):
    counter = StatementCounter()
    started = time.perf_counter()
    with db.execute_wrapper(counter):
        result = dispatch.tick(now)
    return result, time.perf_counter() - started, counter.count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=10_000, help="schedules due in the third tick")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    logging.getLogger("django-q").setLevel(logging.WARNING)  # one line per task otherwise

    print_machine()
    version = db.Database.sqlite_version if db.vendor == "sqlite" else db.pg_version
    print(f"database : {db.vendor} {version}")
    now = timezone.now().replace(second=0, microsecond=0)
    started = time.perf_counter()
    schedules = populate(args.connections, now)
    print(
        f"setup    : {args.connections} live connections, {schedules} schedules "
        f"({time.perf_counter() - started:.1f} s)"
    )
    print()
    header = f"{'tick':<34} {'queued':>7} {'seconds':>8} {'SQL':>7} {'SQL/run':>8} {'OrmQ':>6}"
    print(header)
    print("-" * len(header))

    def line(label, result, seconds, statements):
        runs = len(result.runs)
        per_run = f"{statements / runs:>8.1f}" if runs else f"{'-':>8}"
        print(
            f"{label:<34} {runs:>7} {seconds:>8.2f} {statements:>7} {per_run} "
            f"{OrmQ.objects.count():>6}",
            flush=True,
        )

    line("typical minute (grid + offsets)", *timed_tick(now))
    line("idle (nothing due)", *timed_tick(now))
    Run.objects.all().delete()
    OrmQ.objects.all().delete()
    first = Schedule.objects.exclude(dataset="invoices").order_by("pk")[: args.due]
    Schedule.objects.filter(pk__in=list(first.values_list("pk", flat=True))).update(
        next_run_at=now - timedelta(seconds=1)
    )
    line(f"{args.due:,} due at once", *timed_tick(now + timedelta(seconds=1)))
    Run.objects.all().delete()
    OrmQ.objects.all().delete()
    Schedule.objects.update(next_run_at=now - timedelta(seconds=1))
    line("worst case: everything due", *timed_tick(now + timedelta(seconds=1)))


if __name__ == "__main__":
    main()
