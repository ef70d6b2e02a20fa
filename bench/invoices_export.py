"""Export invoices to the sandbox over real loopback HTTP and show what it costs.

    .venv/bin/python bench/invoices_export.py [--invoices 10000] [--lines 1 3] [--dialect xledger]

The sandbox runs in a child process (burst limit on, as Xledger's: 20 requests per 5 s, so more
than 20 batches in 5 s wait for the window); this process fills an outbox
in a throw-away SQLite database (or DATABASE_URL's, if set) and sends it with the same code the
5-minute invoices run uses (`invoice_send_all`), in batches of at most 500 import items.

Prints, per invoice shape: invoices exported per minute, Xledger requests per 1,000 invoices,
batches and time per batch. Then it simulates a day of 5-minute invoice runs (288) for an idle
customer (nothing pending) and for one whose invoices were all sent, and prints the Xledger
requests they made (must be 0) and the SQL queries each idle run costs.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
if "DATABASE_URL" not in os.environ:
    DB_FILE = Path(tempfile.gettempdir()) / f"bench-invoices-{os.getpid()}.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{DB_FILE}"
else:
    DB_FILE = None

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection as db  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from integrations.datasets import invoices as invoices_dataset  # noqa: E402
from integrations.invoices.services import invoice_send_all  # noqa: E402
from integrations.models import ClientEntity, Connection, Invoice, Run  # noqa: E402
from integrations.xledger.client import XledgerClient  # noqa: E402

SERVE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django
django.setup()
from integrations.xledger.sandbox import Sandbox
sb = Sandbox(seed=1, suppliers=200, clients=2, burst_limit=sys.argv[1] == "on")
client = sb.client_entity_ids[0]
supplier = next(r["code"] for r in sb.records("suppliers") if r["ownerDbId"] == client)
with sb.serve(port=0) as url:
    print(json.dumps({"url": url, "token": sb.demo_tokens["full"], "owner": sb.owner_db_id,
                      "clients": sb.client_entity_ids, "supplier": supplier}), flush=True)
    for line in sys.stdin:
        print(json.dumps({"requests": sb.request_count, "imports": len(sb.imports)}), flush=True)
"""


def serve_sandbox(burst_limit: bool, dialect: str):
    env = {**os.environ, "XLEDGER_SANDBOX_DIALECT": dialect}
    env.pop("DATABASE_URL", None)  # the sandbox needs no database
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE, "on" if burst_limit else "off"],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = child.stdout.readline()
    if not line:
        child.kill()
        raise SystemExit("The sandbox did not start.")
    return child, json.loads(line)


def sandbox_counts(child) -> dict:
    child.stdin.write("counts\n")
    child.stdin.flush()
    return json.loads(child.stdout.readline())


def make_connection(info, name):
    from portal.models import Customer
    from tests.factories import make_connection as build

    customer = Customer.objects.create(legal_name=name, onboarding_status="live")
    connection = build(customer=customer, token=info["token"], owner_entity_id=info["owner"])
    connection.status = Connection.Status.OK
    connection.live_since = timezone.now()
    connection.save()
    ClientEntity.objects.create(connection=connection, db_id=info["owner"], is_owner=True)
    for db_id in info["clients"]:
        ClientEntity.objects.create(connection=connection, db_id=db_id, code=str(db_id))
    return connection


def fill_outbox(connection, info, count, lines):
    from tests.integrations.invoices.conftest import invoice_rows

    entity = connection.entities.get(db_id=info["clients"][0])
    shape = tuple(("6300", "1", "100.00") for _ in range(lines))
    for start in range(0, count, 2000):
        invoice_rows(
            connection, min(2000, count - start), entity=entity, supplier=info["supplier"],
            lines=shape, vat=f"{25 * lines}.00", prefix=f"B{lines}-{start}",
        )  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--lines", type=int, nargs="+", default=[1, 3])
    parser.add_argument(
        "--no-burst-limit", action="store_true", help="our own cost, without Xledger's limit"
    )
    parser.add_argument(
        "--dialect",
        default=os.environ.get("XLEDGER_SANDBOX_DIALECT") or "ours",
        help="the sandbox's reading of the contract (integrations/xledger/sandbox/dialects.py)",
    )
    args = parser.parse_args()

    print(f"platform : {platform.platform()}")
    print(f"python   : {platform.python_implementation()} {platform.python_version()}")
    print(f"cpus     : {os.cpu_count()}")
    print(f"database : {db.vendor} ({'temporary file' if DB_FILE else 'DATABASE_URL'})")
    call_command("migrate", verbosity=0)
    child, info = serve_sandbox(not args.no_burst_limit, args.dialect)
    try:
        limit = "off" if args.no_burst_limit else "on (20 requests / 5 s)"
        print(
            f"sandbox  : {info['url']} (child process, dialect {args.dialect}, burst limit {limit})"
        )
        print()
        print(
            f"{'accounting lines':>16} {'items/invoice':>13} {'invoices':>9} {'batches':>8} "
            f"{'s/batch':>8} {'invoices/min':>13} {'requests/1,000 inv.':>20}"
        )
        for lines in args.lines:
            if not args.no_burst_limit:
                time.sleep(5)  # let the sandbox's burst window (20 requests / 5 s) empty
            connection = make_connection(info, f"Bench {lines} lines")
            fill_outbox(connection, info, args.invoices, lines)
            with XledgerClient(info["token"], url=info["url"], timeout=120) as client:
                started = time.perf_counter()
                result = invoice_send_all(connection=connection, client=client)
                elapsed = time.perf_counter() - started
            sent = Invoice.objects.filter(connection=connection, status="sent").count()
            assert sent == args.invoices, f"only {sent} of {args.invoices} sent"
            batches = result.batches
            print(
                f"{lines:>16} {lines + 1:>13} {sent:>9} {batches:>8} "
                f"{elapsed / max(batches, 1):>8.2f} {sent / elapsed * 60:>13,.0f} "
                f"{result.requests / sent * 1000:>20.1f}"
            )
        counts = sandbox_counts(child)
        print(f"sandbox  : {counts['requests']} requests, {counts['imports']} import items stored")
        print()

        # A simulated day of 5-minute invoice runs (24 h × 12) for two idle customers.
        idle = make_connection(info, "Bench idle")
        all_sent = Connection.objects.get(customer__legal_name=f"Bench {args.lines[0]} lines")
        before = sandbox_counts(child)["requests"]
        for label, connection in (
            ("nothing ever submitted", idle),
            ("all invoices sent", all_sent),
        ):
            run = Run.objects.create(connection=connection, dataset="invoices", status="running")
            requests, queries = 0, 0
            with XledgerClient(info["token"], url=info["url"]) as client:
                for _ in range(24 * 12):
                    db.queries_log.clear()
                    with CaptureQueriesContext(db) as captured:
                        invoices_dataset.sync(run=run, client=client, full=False)
                    queries = max(queries, len(captured))
                requests = client.request_count
            run.delete()
            print(
                f"idle day ({label}): 288 runs, {requests} Xledger requests, "
                f"at most {queries} SQL quer{'y' if queries == 1 else 'ies'} per run"
            )
        after = sandbox_counts(child)["requests"]
        print(f"sandbox saw {after - before} requests during the idle days")
    finally:
        child.kill()
        child.wait()
        if DB_FILE is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{DB_FILE}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
