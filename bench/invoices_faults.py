"""Invoices exported while worker processes are SIGKILLed at random, against a faulty sandbox:
how long each invoice took to become final, and why the slowest took that long.

    .venv/bin/python bench/invoices_faults.py [--invoices 1000] [--workers 3] [--churn-seconds 35]
                                              [--seed 20261125] [--dialect xledger]

The scenario of tests/integrations/invoices/test_worker_kills.py, timed instead of asserted:
half of the invoices with 2 accounting lines (3 import items), half with 1 (2 items), in two
client entities; a sandbox in a child process over loopback HTTP (its burst limit on, 30
requests per second as in the test) that drops the connection after storing
(`drop_after_store`), answers HTTP 500 (`http_500`; its faults take no status, so there is no
502) and is slow on some sends; `--workers` real `manage.py send_invoices` processes with the
test's short lease, margin and settle time, one of them SIGKILLed and restarted every 0.4-1.6 s
for `--churn-seconds` (or until nothing is left to do). Then, as in the test, the workers are
killed, the faults cleared and one clean worker at a time settles whatever is left (claims of
dead workers, invoices in doubt).

Scratch database as in bench/sync_suppliers.py (a temporary SQLite file unless DATABASE_URL is
set). Every process it starts runs in its own process group and is killed with its children on
exit, Ctrl-C or SIGTERM. Prints the final statuses, items stored twice and invoices lost (both
must be 0), time from submission to final (p50/p90/p99/max), the slowest invoices with what
happened to them (states seen by polling the outbox every 0.2 s), wall time, Xledger requests
and worker kills. Exits 1 if an invoice was doubled, lost or never became final (and keeps the
workers' log and the SQLite file for a look).
"""

import argparse
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._common import print_machine, use_benchmark_database  # noqa: E402

SCRATCH = not os.environ.get("DATABASE_URL")
use_benchmark_database("invoices_faults")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection as db  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from integrations.invoices import mapping, outbox  # noqa: E402
from integrations.models import ClientEntity, Connection, Invoice  # noqa: E402
from portal.models import Customer  # noqa: E402
from tests.factories import make_connection  # noqa: E402
from tests.integrations.invoices.conftest import invoice_rows  # noqa: E402

MANAGE = ROOT / "manage.py"
# What test_worker_kills.py runs: the sandbox's burst window, its faults, the workers' options.
BURST = (30, 1.0)
FAULTS = (
    {"name": "drop_after_store", "probability": 0.15, "field": "addGLImportItems"},
    {"name": "http_500", "probability": 0.1},
    {"name": "slow", "probability": 0.4, "seconds": 0.5, "field": "addGLImportItems"},
)
CLIENT = {"timeout": 2.0, "max_wait": 0.5, "max_attempts": 2}
OUTBOX = {"lease_seconds": 1.0, "margin_seconds": 1.0, "settle_seconds": 0.3, "batch_items": 20}
KILL_EVERY = (0.4, 1.6)  # seconds between kills, drawn uniformly
SETTLE_ROUNDS = 30  # clean worker runs after the churn, 1 s apart, as in the test
POLL_SECONDS = 0.2
IN_PROGRESS = (Invoice.Status.PENDING, Invoice.Status.SENDING, Invoice.Status.IN_DOUBT)

# The child serves a sandbox on a free loopback port and prints, as one JSON line, its URL, the
# "full" token, the owner entity and a supplier each client entity may use; it serves until its
# stdin closes (so it also ends when this process dies). It needs no database.
SERVE = """
import json, sys
from integrations.xledger.sandbox import Sandbox
seed, dialect, max_requests, window = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
sb = Sandbox(seed=seed, suppliers=40, clients=2, burst_limit=True, dialect=dialect)
sb.burst_max_requests, sb.burst_window_seconds = max_requests, window
suppliers = sb.records("suppliers")
def supplier_for(entity):
    return next(r["code"] for r in suppliers if r["ownerDbId"] in (entity, sb.owner_db_id))
with sb.serve(port=0) as url:
    print(json.dumps({"url": url, "token": sb.demo_tokens["full"], "owner": sb.owner_db_id,
                      "dialect": sb.dialect.name,
                      "entities": [[e, supplier_for(e)] for e in sb.client_entity_ids]}), flush=True)
    sys.stdin.read()
"""  # noqa: E501


class Processes:
    """Every process this benchmark starts, each in its own process group (so a kill takes its
    children too, and Ctrl-C reaches only this process, which then kills them all)."""

    def __init__(self):
        self.running: list[subprocess.Popen] = []

    def start(self, args, **options) -> subprocess.Popen:
        process = subprocess.Popen(args, cwd=ROOT, start_new_session=True, **options)
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL its process group (its children too, even if it has exited) and reap it."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        if process in self.running:
            self.running.remove(process)

    def kill_all(self) -> None:
        for process in list(self.running):
            self.kill(process)


def serve_sandbox(processes: Processes, seed: int, dialect: str):
    """The sandbox child (stopped by closing its stdin) and its info."""
    env = {**os.environ, "XLEDGER_SANDBOX_DIALECT": dialect}
    env.pop("DATABASE_URL", None)  # the sandbox needs no database
    child = processes.start(
        [sys.executable, "-c", SERVE, str(seed), dialect, *map(str, BURST)],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = child.stdout.readline()
    if not line:
        raise SystemExit("The sandbox did not start.")
    info = json.loads(line)
    info["control"] = info["url"].removesuffix("/graphql") + "/_sandbox"
    return child, info


def stop_sandbox(processes: Processes, child: subprocess.Popen) -> None:
    try:
        child.stdin.close()
        child.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass
    processes.kill(child)


def control(info, method: str, path: str, body=None):
    """The sandbox's control surface (integrations/xledger/sandbox/control.py)."""
    response = httpx.request(method, f"{info['control']}/{path}", json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def command(connection_id: int, *extra: str) -> list[str]:
    """test_worker_kills.py's `command()`: one `send_invoices` worker."""
    options = {**CLIENT, **OUTBOX}
    args = [sys.executable, str(MANAGE), "send_invoices", "--connection", str(connection_id)]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", f"{value:g}"]
    return [*args, *extra]


def effective_lease() -> float:
    """The claim lease the workers really hold: the longest a send can take, plus the margin."""
    with override_settings(
        INVOICE_CLAIM_LEASE_SECONDS=OUTBOX["lease_seconds"],
        INVOICE_CLAIM_MARGIN_SECONDS=OUTBOX["margin_seconds"],
    ):
        return outbox.claim_lease(SimpleNamespace(**CLIENT)).total_seconds()


def make_live_connection(info) -> Connection:
    customer = Customer.objects.create(
        legal_name=f"Bench faults {time.time_ns()}", onboarding_status="live"
    )
    connection = make_connection(
        customer=customer, token=info["token"], owner_entity_id=info["owner"]
    )
    connection.status = Connection.Status.OK
    connection.live_since = timezone.now()
    connection.save()
    ClientEntity.objects.create(
        connection=connection, db_id=info["owner"], code="1000", is_owner=True
    )
    for db_id, _ in info["entities"]:
        ClientEntity.objects.create(connection=connection, db_id=db_id, code=str(db_id))
    return connection


def fill_outbox(connection, info, count: int) -> None:
    """As the test: the first entity's invoices have 2 accounting lines, the second's 1."""
    shares = [count - count // 2, count // 2]
    for n, ((db_id, supplier), share) in enumerate(zip(info["entities"], shares, strict=True)):
        lines = (
            (("6300", "1", "80.00"), ("6800", "1", "20.00"))
            if n % 2 == 0
            else (("6300", "1", "80.00"),)
        )
        entity = connection.entities.get(db_id=db_id)
        for start in range(0, share, 2000):
            invoice_rows(
                connection, min(2000, share - start), entity=entity, supplier=supplier,
                lines=lines, prefix=f"F{n}-{start}",
            )  # fmt: skip


class Watch:
    """Polls the outbox: the states each invoice was seen in (status, when it changed, the
    worker process holding it) and the errors it carried on the way, which its final row no
    longer shows (a sent invoice's `last_error` is cleared). Also notes when each worker was
    killed. A state that lasts less than a poll is not seen: an invoice a killed worker held
    stays `sending` until its lease runs out, then the next pass turns it `in_doubt` and looks
    it up at once."""

    def __init__(self, connection):
        self.connection = connection
        self.states: dict[int, list] = {}
        self.errors: dict[int, list[str]] = {}
        self.killed: dict[int, object] = {}  # worker pid → when it was SIGKILLed
        self.left = None  # invoices still in progress at the last poll

    def poll(self) -> int:
        rows = Invoice.objects.filter(
            connection=self.connection, status__in=IN_PROGRESS
        ).values_list(
            "id", "status", "status_changed_at", "claimed_by", "claimed_until", "last_error"
        )
        self.left = 0
        for pk, status, changed, claimed_by, until, error in rows:
            self.left += 1
            # A claim token is host:pid:random (outbox.new_claim_token).
            pid = int(claimed_by.split(":")[-2]) if claimed_by.count(":") >= 2 else None
            state = (status, changed, pid, until if pid is not None else None)
            states = self.states.setdefault(pk, [])
            if not states or states[-1] != state:
                states.append(state)
            errors = self.errors.setdefault(pk, [])
            if error and (not errors or errors[-1] != error):
                errors.append(error)
        return self.left

    def wait(self, seconds: float) -> bool:
        """Poll for `seconds`; True as soon as nothing is in progress."""
        until = time.monotonic() + seconds
        while True:
            if self.poll() == 0:
                return True
            remaining = until - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(POLL_SECONDS, remaining))


def timeline(invoice, watch: Watch, final_at, lease: timedelta) -> str:
    """`pending +0.0 s → sending +5.5 s (worker 123, SIGKILLed +6.0 s, ...) → sent +13.2 s`:
    the states seen, a worker's claim (to send, or to look an invoice in doubt up) with the
    worker and, if it was killed while it held the claim, when and when the claim ran out."""

    def at(moment) -> str:
        return f"+{max(0.0, (moment - invoice.created_at).total_seconds()):.1f} s"

    def start(state):  # a claim starts a lease before it runs out
        status, changed, pid, until = state
        return until - lease if until is not None else changed

    states = watch.states.get(invoice.pk, [])
    steps, last, sends, doubts = [], None, 0, 0
    for n, state in enumerate(states):
        status, changed, pid, until = state
        if status == Invoice.Status.IN_DOUBT and last != status:
            doubts += 1
        if until is not None:
            ended = start(states[n + 1]) if n + 1 < len(states) else final_at
            killed = watch.killed.get(pid)
            note = f"worker {pid}"
            if killed is not None and start(state) <= killed <= ended:
                note += f", SIGKILLed {at(killed)}, its claim ran out {at(until)}"
                if status == Invoice.Status.SENDING:  # its invoices go in doubt from there
                    doubts += 1
                    status = Invoice.Status.IN_DOUBT
            if state[0] == Invoice.Status.SENDING:
                sends += 1
                steps.append(f"sending {at(start(state))} ({note})")
            else:
                steps.append(f"in_doubt, looked up {at(start(state))} ({note})")
        elif status != last:
            steps.append(f"{status} {at(changed)}")
        last = status
    steps.append(f"{invoice.status} {at(final_at)}")
    unseen = [
        f"{count} {what}{'s' if count > 1 else ''}"
        for count, what in (
            (invoice.attempts - sends, "send"),
            (invoice.lookups - doubts, "lookup"),
        )
        if count > 0
    ]
    if unseen:
        steps[-1] += f"; not seen, shorter than a poll: {' and '.join(unseen)}"
    return " → ".join(steps)


def percentile(values, p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fell_over(process: subprocess.Popen, log_path: Path) -> bool:
    """A worker that exited by itself (not killed, before its loop ended) is a failure to look
    at, not to work around: say so with the end of the workers' log."""
    print()
    print(f"A worker (pid {process.pid}) exited by itself with status {process.returncode}.")
    print("The end of the workers' log:")
    lines = log_path.read_text(errors="replace").splitlines()
    for line in lines[-25:]:
        print(f"  {line}")
    return True


ERROR_NAMES = (
    ("Server disconnected", "connection dropped"),
    ("HTTP 500", "HTTP 500"),
    ("Burst", "burst limit"),
    ("timed out", "timeout"),
)


def worker_log_summary(text: str) -> str:
    """What the workers printed, as far as each got before it was killed: a pass that ends in
    an error prints only the error (its invoices were left in doubt or pending)."""

    def total(name):
        return sum(int(n) for n in re.findall(rf"\b{name}=(\d+)", text))

    errors = Counter()
    for kind, message in re.findall(r"^error=(\w+): (.*)$", text, flags=re.MULTILINE):
        name = next((name for key, name in ERROR_NAMES if key in message), kind)
        errors[name] += 1
    crashes = text.count("Traceback (most recent call last)")
    said = (
        f"sent {total('sent')}, found by lookup {total('found')}, requeued by lookup "
        f"{total('requeued')}, dead workers' claims taken over {total('expired')}; passes "
        "stopped by an error: "
        + (", ".join(f"{name} {n}" for name, n in errors.most_common()) or "none")
    )
    return said + (f"; tracebacks {crashes}" if crashes else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--churn-seconds", type=float, default=35.0, help="how long workers are killed/restarted"
    )
    parser.add_argument(
        "--seed", type=int, default=20261125, help="kill schedule, and the sandbox's fault draws"
    )
    parser.add_argument(
        "--dialect",
        default=os.environ.get("XLEDGER_SANDBOX_DIALECT") or "ours",
        help="the sandbox's reading of the contract (integrations/xledger/sandbox/dialects.py)",
    )
    args = parser.parse_args()
    if args.invoices < 2 or args.workers < 1:
        parser.error("at least 2 invoices and 1 worker")

    def terminate(signum, frame):
        raise SystemExit(128 + signum)  # unwinds through the finally below

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    scratch_dir = Path(db.settings_dict["NAME"]).parent if SCRATCH else None
    work = Path(tempfile.mkdtemp(prefix="semine-bench-faults-"))
    processes = Processes()
    keep = False
    try:
        keep = run(args, processes, work)
    except KeyboardInterrupt:
        print("\ninterrupted: every process it started is killed", file=sys.stderr)
        sys.exit(130)
    finally:
        processes.kill_all()
        db.close()
        if keep:
            print(f"kept for a look: {work / 'workers.log'}", end="")
            print(f", {db.settings_dict['NAME']}" if SCRATCH else "")
        else:
            shutil.rmtree(work, ignore_errors=True)
            if scratch_dir is not None:
                shutil.rmtree(scratch_dir, ignore_errors=True)
    sys.exit(1 if keep else 0)


def run(args, processes: Processes, work: Path) -> bool:  # noqa: C901 - one scenario, top to bottom
    """The scenario and its report; True if something went wrong (doubled, lost, not final)."""
    print_machine()
    version = db.Database.sqlite_version if db.vendor == "sqlite" else db.pg_version
    where = "temporary file" if SCRATCH else "DATABASE_URL"
    print(f"database : {db.vendor} {version} ({where})")
    call_command("migrate", verbosity=0)
    child, info = serve_sandbox(processes, args.seed, args.dialect)
    faults = ", ".join(
        f"{f['name']} p={f['probability']:g}"
        + (f" {f['seconds']:g} s" if "seconds" in f else "")
        + (f" on {f['field']}" if "field" in f else "")
        for f in FAULTS
    )
    print(
        f"sandbox  : {info['url']} (child process, dialect {info['dialect']}, "
        f"burst limit {BURST[0]} requests / {BURST[1]:g} s, seed {args.seed})"
    )
    print(f"faults   : {faults}; no 502 (the sandbox's http_500 takes no status)")
    lease = effective_lease()
    worst = CLIENT["max_attempts"] * (CLIENT["timeout"] + CLIENT["max_wait"])
    print(
        "worker   : manage.py send_invoices "
        + " ".join(command(0)[5:])
        + f" --loop-seconds {args.churn_seconds + 30:g}"
    )
    print(
        f"lease    : --lease-seconds {OUTBOX['lease_seconds']:g} → held "
        f"{lease:g} s = max({OUTBOX['lease_seconds']:g}, {CLIENT['max_attempts']} × "
        f"({CLIENT['timeout']:g} + {CLIENT['max_wait']:g}) + --margin-seconds "
        f"{OUTBOX['margin_seconds']:g}); a killed worker's claim waits that long"
    )
    print(
        f"settle   : --settle-seconds {OUTBOX['settle_seconds']:g} before an invoice in doubt is "
        f"looked up; at most {OUTBOX['batch_items']} import items a batch; a send takes up to "
        f"{worst:g} s before it gives up"
    )
    print(
        f"churn    : {args.workers} workers, one SIGKILLed and restarted every "
        f"{KILL_EVERY[0]:g}-{KILL_EVERY[1]:g} s for {args.churn_seconds:g} s, then a clean "
        f"worker without faults (at most {SETTLE_ROUNDS} runs, 1 s apart)"
    )

    connection = make_live_connection(info)
    fill_outbox(connection, info, args.invoices)
    total = Invoice.objects.filter(connection=connection).count()
    assert total == args.invoices, total
    for fault in FAULTS:
        control(info, "POST", "faults", fault)
    control(info, "POST", "counts/reset")

    rng = random.Random(args.seed)
    env = {**os.environ, "XLEDGER_API_URL": info["url"]}
    log_path = work / "workers.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed below, shared by every worker
    loop = ("--loop-seconds", f"{args.churn_seconds + 30:g}")

    def worker(*extra):
        return processes.start(
            command(connection.pk, *extra), env=env, stdout=log, stderr=subprocess.STDOUT
        )

    watch = Watch(connection)
    kills = kills_holding = held_at_kill = 0
    started = time.monotonic()
    workers = [worker(*loop) for _ in range(args.workers)]
    deadline = started + args.churn_seconds
    done = False
    while time.monotonic() < deadline:
        if watch.wait(rng.uniform(*KILL_EVERY)):
            done = True
            break
        fallen = next((p for p in workers if p.poll() is not None), None)
        if fallen is not None:
            return fell_over(fallen, log_path)
        victim = rng.randrange(len(workers))
        pid = workers[victim].pid
        holding = Invoice.objects.filter(
            connection=connection, claimed_by__contains=f":{pid}:"
        ).count()
        processes.kill(workers[victim])
        watch.killed[pid] = timezone.now()
        kills += 1
        kills_holding += holding > 0
        held_at_kill += holding
        workers[victim] = worker(*loop)
    churn_seconds = time.monotonic() - started
    left_after_churn = watch.poll()
    for process in workers:
        processes.kill(process)
        watch.killed[process.pid] = timezone.now()

    rounds = 0
    if not done:
        control(info, "DELETE", "faults")
        while rounds < SETTLE_ROUNDS and watch.poll():
            rounds += 1
            process = worker()
            try:
                if process.wait(timeout=60) != 0:
                    return fell_over(process, log_path)
            except subprocess.TimeoutExpired:
                print(f"a clean worker (pid {process.pid}) ran for over 60 s: killed")
            processes.kill(process)
            if watch.wait(1.0):
                break
    wall = time.monotonic() - started
    log.close()
    counts = control(info, "GET", "counts")
    stored = control(info, "GET", "imports")
    stop_sandbox(processes, child)

    # --- what became of each invoice -------------------------------------------------------
    invoices = list(Invoice.objects.filter(connection=connection).order_by("id"))
    statuses = Counter(invoice.status for invoice in invoices)
    by_client_id: dict[str, list[dict]] = {}
    for item in stored:
        by_client_id.setdefault(item["clientId"], []).append(item)
    doubled_items = sum(len(items) - 1 for items in by_client_id.values() if len(items) > 1)
    doubled, lost, mismatched, expected = [], [], [], set()
    for invoice in invoices:
        cids = mapping.client_ids(invoice)
        expected.update(cids)
        if any(len(by_client_id.get(cid, [])) > 1 for cid in cids):
            doubled.append(invoice)
        if invoice.status == Invoice.Status.SENT:
            if any(cid not in by_client_id for cid in cids):
                lost.append(invoice)
            elif any(
                str((invoice.xledger_db_ids or {}).get(cid)) != str(by_client_id[cid][0]["dbId"])
                for cid in cids
            ):
                mismatched.append(invoice)
    strays = sorted(set(by_client_id) - expected)
    not_final = [i for i in invoices if i.status not in Invoice.FINAL_STATUSES]

    print()
    print(f"statuses : {', '.join(f'{s} {n}' for s, n in sorted(statuses.items()))}")
    print(
        f"doubles  : {len(doubled)} invoices ({doubled_items} import items stored twice or more "
        f"of {len(stored)} stored, {len(expected)} expected)"
    )
    print(
        f"lost     : {len(lost)} (sent, but an item is not in the sandbox); dbIds not the "
        f"sandbox's: {len(mismatched)}; items of no invoice: {len(strays)}; "
        f"not final: {len(not_final)}"
    )
    for label, found in (
        ("doubled", doubled),
        ("lost", lost),
        ("dbIds differ", mismatched),
        ("not final", not_final),
    ):
        for invoice in found[:5]:
            print(
                f"  {label}: {invoice.external_id} {invoice.status} attempts={invoice.attempts} "
                f"lookups={invoice.lookups} last_error={invoice.last_error!r} "
                f"xledger_message={invoice.xledger_message[:200]!r}"
            )
    for cid in strays[:5]:
        print(f"  item of no invoice: {cid}")

    finals = [i for i in invoices if i.status in Invoice.FINAL_STATUSES]
    took = {
        i.pk: ((i.sent_at or i.status_changed_at) - i.created_at).total_seconds() for i in finals
    }
    if took:
        values = list(took.values())
        print(
            f"to final : p50 {percentile(values, 50):.1f} s, p90 {percentile(values, 90):.1f} s, "
            f"p99 {percentile(values, 99):.1f} s, max {max(values):.1f} s "
            f"(Invoice.created_at → sent_at; {len(values)} invoices)"
        )
        attempts = Counter(i.attempts for i in finals)
        lookups = Counter(i.lookups for i in finals)
        print(
            "attempts : "
            + ", ".join(f"{n}× {c}" for n, c in sorted(attempts.items()))
            + " invoices; in doubt (lookups): "
            + ", ".join(f"{n}× {c}" for n, c in sorted(lookups.items()))
        )
        position = {invoice.pk: n for n, invoice in enumerate(invoices, start=1)}
        print()
        print(
            "slowest  : in line = its place in the outbox (oldest sent first); in doubt = its "
            "lookups (each time in doubt ends in one); path = states seen every "
            f"{POLL_SECONDS:g} s, times from submission (a killed worker's invoices stay "
            f"`sending` for its {lease:g} s lease, then are looked up in the next pass)"
        )
        previous = None
        for pk in sorted(took, key=took.get, reverse=True)[:5]:
            invoice = next(i for i in invoices if i.pk == pk)
            print(
                f"  {invoice.external_id}: {took[pk]:.1f} s, in line {position[pk]}/{total}, "
                f"attempts {invoice.attempts}, in doubt {invoice.lookups}×, "
                f"last_error {invoice.last_error!r}"
            )
            final_at = invoice.sent_at or invoice.status_changed_at
            story = (
                timeline(invoice, watch, final_at, timedelta(seconds=lease)),
                watch.errors.get(pk, []),
            )
            if previous and story == previous[1]:
                print(f"    path and errors: as {previous[0]}'s")
                continue
            print(f"    path: {story[0]}")
            for error in story[1]:
                print(f"    error seen on the way: {error}")
            previous = (invoice.external_id, story)

    print()
    print(
        f"wall     : {wall:.1f} s from the first worker's start to every invoice final "
        f"(churn {churn_seconds:.1f} s, {left_after_churn} left after it"
        + (f", settled by {rounds} clean worker run(s)" if rounds else "")
        + ")"
    )
    by_field = ", ".join(f"{k} {v}" for k, v in sorted(counts["by_field"].items()))
    print(
        f"requests : {counts['total']} to the sandbox ({by_field}); "
        f"{counts['total'] / max(len(invoices), 1) * 1000:.0f} per 1,000 invoices"
    )
    print(
        f"kills    : {kills} SIGKILLs during the churn, {kills_holding} of them of a worker "
        f"holding invoices ({held_at_kill} invoices held), and the {args.workers} workers at "
        "its end"
    )
    print(f"workers  : {worker_log_summary(log_path.read_text(errors='replace'))}")
    return bool(doubled or lost or mismatched or strays or not_final)


if __name__ == "__main__":
    main()
