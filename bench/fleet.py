"""A fleet of live customers on one database and real qcluster workers, over a simulated stretch
of their schedules, measured.

    DATABASE_URL=postgres://.../semine_bench_fleet .venv/bin/python bench/fleet.py
        [--customers 10000] [--workers 2] [--simulated-hours 0.2] [--speed 1]
    .venv/bin/python bench/fleet.py --allow-sqlite --customers 20 --simulated-hours 1 --speed 240

The defaults take about 14 minutes on a 2-CPU machine (setup and warm-up under 3, the stretch
12). 10,000 customers ask for about 7 runs a second, more than a third of what this machine does
next to PostgreSQL and the sandbox, so the default plays their schedules at the real pace
(speed 1): the lag measured is then the lag production would see. Smaller fleets can be played
faster; the lag figures stay meaningful as long as the workers keep up (see "busy" below).

PostgreSQL only (DATABASE_URL; the database is created if missing, and EMPTIED: use a
throwaway one); `--allow-sqlite` runs the small configurations on a temporary SQLite file.

What runs
---------
- N customers, each with one live connection (status ok) to its own Xledger owner entity, every
  dataset's schedule enabled, fixed assets applying, two dimensions chosen. Supplier registers
  are a seeded mix: 80 % small (20-200 suppliers), 18 % medium (200-2,000), 2 % large
  (2,000-20,000), log-uniform within each class.
- The Xledger sandbox in a child process over loopback HTTP: a FleetSandbox
  (integrations/xledger/sandbox/fleet.py), one small sandbox per owner entity, all built before
  the measured stretch; each connection's token is the one its owner entity accepts.
- `manage.py qcluster` in a child process group with Q_WORKERS=--workers worker processes, on
  the ORM broker, or on Redis when REDIS_URL is set (portal/settings.py decides).
- This process is the dispatcher: it calls `integrations.dispatch.tick(now=simulated now)` once
  per simulated `--tick-seconds` (60, as production's django-q2 schedule does per real minute).
  django-q2's own schedules (the dispatcher's and the others) are held off: their next_run is
  moved ten years ahead after `migrate`; deleting them is not enough, since every qcluster start
  creates the dispatcher's again (integrations/apps.py), but it leaves an existing one's
  next_run alone. The report checks that no run came from anywhere but this process's ticks.

Steady state, not go-live: before the stretch, the mirrors that the stretch reads in full
(currencies, VAT codes, accounts, fixed assets and dimensions with a slot in the stretch;
suppliers whose daily full sync falls in it) are brought to what the sandbox holds by full runs
on the same workers ("warm-up", not measured). Every schedule then starts on its grid with a
watermark, and the daily full syncs of suppliers and dimensions are spread over the day (last
full sync uniform over the 24 h before the stretch); every watermark lies past the sandbox's
newest modifiedAt. So incremental runs find nothing new and full runs find everything
unchanged, as on an ordinary day (the sandbox's data does not change during the stretch). Nobody
submits invoices: the invoices dataset runs only as often as the dispatcher decides with an empty
outbox. Each connection's RequestUsage row of the month exists (requests 0), as after any
earlier run that month. The daily retention task (django-q2 schedule, held off) does not run:
rows are counted as written, before any roll-up.

The clocks
----------
The simulated clock is `sim(t) = S + (t - R0) * speed` for real time t (R0: start of the
stretch). S is a UTC midnight more than an hour before the real time the stretch ends (the
load is even over the day: every connection has its own offset), so simulated time is
always behind real time: the workers stamp started_at, heartbeat_at and last_full_sync_at with
the real clock, and with simulated time behind it the reaper never takes a live run for dead
and a full sync done in the stretch is not repeated in it (hence --simulated-hours <= 24). This
process's reaper abandons queued runs after RUN_QUEUED_STALE_SECONDS × speed simulated seconds,
i.e. after the same real time as in production. Runs are queued with queued_at = the tick's
simulated now; workers stamp started_at/finished_at with the real clock.

Definitions
-----------
- slot: the schedule's next_run_at when the tick that claimed it ran (read just before each
  tick for the schedules that fell due since the previous one).
- lag (real seconds) = started_at - R0 - (slot - S) / speed: the real time from the moment the
  simulated clock passed the run's slot to the moment a worker started it. It adds up
  (slot -> tick) / speed (the tick granularity, compressed), the tick's own time and its
  lateness, and the wait in the task queue. Both parts are also shown on their own:
  slot -> tick in simulated seconds (what production sees with a tick per real minute) and
  tick -> start in real seconds (the queue, under `speed` times production's load).
- double runs: two window runs of one connection × dataset whose [started_at, finished_at]
  overlap, and two runs for one (schedule, slot); both must be 0.
- SQL statements per run: this process's statements in the ticks (bench._common.
  StatementCounter) per queued run; the workers' from PostgreSQL's pg_stat_statements (calls in
  this database over the stretch, without BEGIN/COMMIT/ROLLBACK and the bench's statistics
  queries, minus every statement this process sent meanwhile) per finished run, split into
  django-q2's own (statements on its django_q_* tables: taking a task, acknowledging it, saving
  its result, polling; and its `SELECT 1` connection check) and the runs' own (the rest).
  PostgreSQL's own foreign-key checks at COMMIT (Django's foreign keys are deferred), which
  pg_stat_statements lists too, are counted apart. Without pg_stat_statements: transactions
  (pg_stat_database) and table scans (pg_stat_user_tables) per run instead, said so.
- task-broker rows per run: OrmQ ids consumed over the stretch (its id sequence) per queued run.
- rows per simulated day: pg_stat_user_tables n_tup_ins/upd/del deltas over the stretch,
  × 24 / simulated hours (net row counts on SQLite); database size: pg_database_size delta,
  scaled the same way.
- Xledger requests per customer per month: the window runs' requests (Run.requests; also
  RequestUsage and the sandbox's own count) / customers / simulated days × 30.
- CPU seconds over the stretch: the machine's (/proc/stat), this process's and the sandbox's
  (getrusage, /proc), the qcluster's (its process tree, counted when reaped), PostgreSQL's (the
  backends of this database and the server's own processes, sampled from /proc after every tick,
  when the server runs on this machine), and the rest: whatever else the machine ran meanwhile.
  The figures above are only as good as the share of the machine the fleet had.
- worker processes needed: one worker process serves 1 / (mean run time) runs a second (the
  runs' own started_at -> finished_at, on this machine with PostgreSQL, the sandbox and this
  process sharing its CPUs); needed = ceil(runs a day / 86,400 / (that rate × 0.5)) for at most
  50 % utilisation, and at least enough to start the largest tick's runs within 60 s of the
  tick. The slot -> tick part of the lag is the tick period's (up to 60 s with a tick a minute),
  whatever the number of workers: a p99 lag from the slot under 60 s needs a shorter tick too
  (`--tick-seconds 30` measures that; production: `manage.py dispatcher --every 30`).
"""

import argparse
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._common import (  # noqa: E402
    StatementCounter,
    print_machine,
    use_benchmark_database,
)

MARKER_ENV = "SEMINE_FLEET_BENCH"  # set on every child, so a test can find them all
FAR_AHEAD = timedelta(days=3650)
OVERLAP_CLEARED = timedelta(minutes=16)  # integrations.xledger.timestamps: a 15-minute overlap
UTILISATION = 0.5
LAG_TARGET_SECONDS = 60.0

# Supplier registers: (class, share, fewest, most); sizes log-uniform within a class.
MIX = (("small", 0.80, 20, 200), ("medium", 0.18, 200, 2_000), ("large", 0.02, 2_000, 20_000))
DIMENSION_KINDS = ("AVDELING", "PROSJEKT")  # chosen by every customer (the sandbox's codes)

# The sandbox child: reads its configuration as one JSON line, prints its URL, builds every
# owner entity's sandbox, prints that it is done, and serves until its stdin closes.
SERVE_FLEET = """
import json, sys
from datetime import datetime
from integrations.xledger.sandbox.fleet import FleetSandbox
cfg = json.loads(sys.stdin.readline())
fleet = FleetSandbox(cfg["sizes"], seed=cfg["seed"], now=datetime.fromisoformat(cfg["now"]))
with fleet.serve(port=0) as url:
    print(json.dumps({"url": url}), flush=True)
    for n in range(1, len(fleet) + 1):
        fleet.owner(n)
    print(json.dumps({"built": len(fleet)}), flush=True)
    sys.stdin.read()
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="qcluster worker processes")
    parser.add_argument("--simulated-hours", type=float, default=0.2)
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument("--tick-seconds", type=int, default=60, help="simulated, between ticks")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="real seconds")
    parser.add_argument("--allow-sqlite", action="store_true", help="for small configurations")
    args = parser.parse_args()
    if not 0 < args.simulated_hours <= 24:
        parser.error("--simulated-hours must be more than 0 and at most 24 (see the docstring)")
    if args.customers < 1 or args.workers < 1 or args.speed <= 0 or args.tick_seconds < 1:
        parser.error("--customers, --workers, --speed and --tick-seconds must be positive")
    return args


def check_database(args) -> None:
    """PostgreSQL unless --allow-sqlite; then a temporary SQLite file when DATABASE_URL is unset."""
    url = os.environ.get("DATABASE_URL", "")
    on_postgres = url.startswith(("postgres://", "postgresql://", "pgsql://"))
    if not on_postgres and not args.allow_sqlite:
        raise SystemExit(
            "bench/fleet.py measures a fleet on PostgreSQL: set DATABASE_URL=postgres://... "
            "(a throwaway database; it is created if missing and emptied). "
            "For a small configuration on SQLite, pass --allow-sqlite."
        )
    use_benchmark_database("fleet")


# --- The fleet ----------------------------------------------------------------------------------


def register_sizes(count: int, seed: int) -> tuple[list[int], list[str]]:
    """Each customer's supplier count and size class, seeded; at least one large register from
    10 customers on and one medium from 5 on, so small configurations keep the mix."""
    rng = random.Random(f"fleet-sizes-{seed}")
    large = round(MIX[2][1] * count) or (1 if count >= 10 else 0)
    medium = round(MIX[1][1] * count) or (1 if count >= 5 else 0)
    classes = ["large"] * large + ["medium"] * medium + ["small"] * (count - large - medium)
    rng.shuffle(classes)
    bounds = {name: (low, high) for name, _share, low, high in MIX}
    sizes = []
    for name in classes:
        low, high = bounds[name]
        sizes.append(int(math.exp(rng.uniform(math.log(low), math.log(high)))))
    return sizes, classes


def start_sandbox(sizes, seed, reference, env) -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE_FLEET],
        cwd=ROOT,
        env={k: v for k, v in env.items() if k != "DATABASE_URL"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    config = {"sizes": sizes, "seed": seed, "now": reference.isoformat()}
    child.stdin.write(json.dumps(config) + "\n")
    child.stdin.flush()
    line = child.stdout.readline()
    if not line:
        raise SystemExit("The sandbox did not start.")
    return child, json.loads(line)["url"]


def wait_sandbox_built(child) -> None:
    line = child.stdout.readline()
    if not line:
        raise SystemExit("The sandbox stopped while building its owner entities.")


def sandbox_requests(url: str) -> int:
    import httpx

    return httpx.get(url.replace("/graphql", "/_sandbox/fleet"), timeout=30).json()["requests"]


def start_qcluster(env, workers: int, logdir: Path) -> subprocess.Popen:
    log = open(logdir / "qcluster.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        cwd=ROOT,
        env={**env, "Q_WORKERS": str(workers)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_group(process: subprocess.Popen | None, grace: float = 20.0) -> None:
    """Stop a child and its process group: SIGTERM to the child (a qcluster then stops its
    workers itself, saving their results), SIGKILL to whatever is left of the group after
    `grace` seconds; reaps the child."""
    if process is None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            if sig == signal.SIGTERM:
                os.kill(process.pid, sig)
            else:
                os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait
        while group_members(process.pid) and time.monotonic() < deadline:
            process.poll()  # reap the leader, or it stays in the group as a zombie
            time.sleep(0.1)
        if not group_members(process.pid):
            break
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        pass


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def wait_cluster_ready(qcluster, logdir: Path, timeout: float = 60.0) -> None:
    """Until the cluster has run a task (a no-op), so the first tick does not wait for it."""
    from django_q.tasks import async_task, result

    task = async_task("time.time")
    deadline = time.monotonic() + timeout
    while result(task) is None:
        if qcluster.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"qcluster did not start: see {logdir / 'qcluster.log'}")
        time.sleep(0.2)


def flush_own_statistics() -> None:
    """PostgreSQL keeps a backend's table statistics for up to 10 s before publishing them:
    publish this process's now (the workers' are published when their backends exit)."""
    from django.db import connection as db

    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
        time.sleep(0.3)


class CpuClock:
    """CPU seconds of the machine, of this process, of the sandbox child and of the qcluster
    (its processes are counted when reaped: RUSAGE_CHILDREN, minus what its group had used
    when the clock started), from /proc and getrusage."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, sandbox_pid: int, qcluster_pid: int):
        self.sandbox_pid, self.qcluster_pid = sandbox_pid, qcluster_pid
        self.start = self.read(include_group=True)

    @classmethod
    def process(cls, pid: int) -> float:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / cls.TICK

    @classmethod
    def machine(cls) -> tuple[float, float]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return (sum(values) - idle) / cls.TICK, sum(values) / cls.TICK

    def read(self, include_group=False) -> dict:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, total = self.machine()
        reading = {
            "busy": busy,
            "total": total,
            "bench": own.ru_utime + own.ru_stime,
            "children": children.ru_utime + children.ru_stime,
            "sandbox": self.process(self.sandbox_pid),
        }
        if include_group:
            reading["group"] = sum(map(self.process, group_members(self.qcluster_pid)))
        return reading

    def spent(self) -> dict:
        """CPU seconds since the clock started; call once the qcluster has been reaped."""
        end, start = self.read(), self.start
        return {
            "machine": end["busy"] - start["busy"],
            "available": end["total"] - start["total"],
            "qcluster": end["children"] - start["children"] - start["group"],
            "sandbox": end["sandbox"] - start["sandbox"],
            "bench": end["bench"] - start["bench"],
        }


# --- Setting up -------------------------------------------------------------------------------


def empty_database():
    """A clean slate: the bench's database is a throwaway one (see the docstring)."""
    from django.db import connection as db
    from django_q.models import OrmQ, Task

    from portal.models import Customer

    if db.vendor == "postgresql":
        tables = [Customer._meta.db_table, OrmQ._meta.db_table, Task._meta.db_table]
        with db.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    else:
        Customer.objects.all().delete()
        OrmQ.objects.all().delete()
        Task.objects.all().delete()


def hold_off_qschedules() -> int:
    from django.utils import timezone
    from django_q.models import Schedule as QSchedule

    return QSchedule.objects.update(next_run=timezone.now() + FAR_AHEAD)


def dimension_kind_ids(seed: int, reference) -> list[str]:
    """The chosen object kinds' dbIds, as the sandbox numbers them (the same in every owner
    entity's tables), as connection.selected_dimensions holds them."""
    from integrations.xledger.sandbox.fleet import OwnerSandbox

    sample = OwnerSandbox(n=1, seed=seed, suppliers=0, now=reference)
    kinds = {r["code"]: r["dbId"] for r in sample.records("objectKinds")}
    return [str(kinds[code]) for code in DIMENSION_KINDS]


def populate(args, sizes, start, reference, step):
    """Customers, connections and schedules, bulk-created; returns (schedules, warm set)."""
    from django.utils import timezone

    from integrations.datasets import Dataset
    from integrations.models import Connection, RequestUsage, Schedule
    from integrations.xledger.sandbox.fleet import fleet_token
    from integrations.xledger.sandbox.seed import owner_db_id
    from portal.models import Customer

    rng = random.Random(f"fleet-schedules-{args.seed}")
    kinds = dimension_kind_ids(args.seed, reference)
    customers = Customer.objects.bulk_create(
        [
            Customer(legal_name=f"Flåtekunde {i:05d} AS", fixed_assets_apply=True)
            for i in range(1, args.customers + 1)
        ],
        batch_size=2000,
    )
    connections = []
    for i, customer in enumerate(customers, start=1):
        connection = Connection(
            customer=customer,
            owner_entity_id=owner_db_id(i),
            selected_dimensions=kinds,
            live_since=start - timedelta(days=30),
            verified_at=start - timedelta(days=30),
        )
        connection.set_token(fleet_token(args.seed, i))
        connection.status = Connection.Status.OK
        connections.append(connection)
    connections = Connection.objects.bulk_create(connections, batch_size=2000)
    # Live for a month already: each connection's row of this (real) month's Xledger requests
    # exists, as usage_add finds it on any day but the first of a month.
    month = timezone.localdate().replace(day=1)
    RequestUsage.objects.bulk_create(
        [RequestUsage(connection=c, month=month, requests=0) for c in connections],
        batch_size=2000,
    )

    # Past the sandbox's newest modifiedAt (its records are stamped up to the UTC midnight at or
    # before `reference`) by more than the incremental overlap: a quiet run reads nothing.
    watermark = reference.replace(hour=0, minute=0, second=0, microsecond=0) + OVERLAP_CLEARED
    last_tick = start + timedelta(hours=args.simulated_hours) - timedelta(seconds=step)
    schedules, warm = [], []
    for connection in connections:
        for dataset in Dataset.values:
            schedule = Schedule(
                connection=connection, connection_id=connection.pk, dataset=dataset, enabled=True
            )
            schedule.next_run_at = schedule.next_due_after(start - timedelta(seconds=step))
            if dataset in (Dataset.SUPPLIERS, Dataset.DIMENSIONS):
                schedule.last_full_sync_at = start - timedelta(seconds=rng.uniform(0, 86_400))
            elif dataset != Dataset.INVOICES:
                schedule.last_full_sync_at = start - timedelta(days=1, seconds=step)
            if dataset != Dataset.INVOICES:
                schedule.watermark = watermark
            schedules.append(schedule)
            if dataset == Dataset.INVOICES:
                continue
            if dataset == Dataset.SUPPLIERS:
                due_full = schedule.last_full_sync_at + timedelta(days=1) <= last_tick
            else:
                due_full = schedule.next_run_at <= last_tick
            if due_full:
                warm.append(schedule)
    Schedule.objects.bulk_create(schedules, batch_size=2000)
    return schedules, warm


def warm_up(warm, deadline_seconds: float) -> tuple[int, float, Counter]:
    """Full runs of the warm set on the workers; waits for them. Returns (runs, seconds,
    statuses)."""
    from django.db import transaction
    from django.utils import timezone

    from integrations import dispatch
    from integrations.models import Run

    started = time.perf_counter()
    queued = []
    for start in range(0, len(warm), 500):
        with transaction.atomic():
            now = timezone.now()
            runs = [
                Run.queue(schedule=s, trigger=Run.Trigger.GO_LIVE, full=True, now=now)
                for s in warm[start : start + 500]
            ]
            runs = [run for run in runs if run is not None]
            dispatch.enqueue_runs(runs)
        queued += [run.pk for run in runs]
    if not queued:
        return 0, 0.0, Counter()
    first, last = min(queued), max(queued)
    window = Run.objects.filter(pk__gte=first, pk__lte=last)
    deadline = time.monotonic() + deadline_seconds
    while window.filter(status__in=Run.ACTIVE_STATUSES).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    statuses = Counter(window.values_list("status", flat=True))
    return len(queued), time.perf_counter() - started, statuses


def restore_plan(warm) -> None:
    """The warm-up's full runs moved last_full_sync_at to real time: put back the plan."""
    from integrations.models import Schedule

    for schedule in warm:
        schedule.failure_streak = 0
    Schedule.objects.bulk_update(
        warm, ["last_full_sync_at", "next_run_at", "failure_streak"], batch_size=500
    )


class BrokerAwareCounter(StatementCounter):
    """Counts statements, and apart those on django-q2's tables."""

    def __init__(self):
        super().__init__()
        self.broker = 0

    def __call__(self, execute, sql, params, many, context):
        if "django_q_" in sql:
            self.broker += 1
        return super().__call__(execute, sql, params, many, context)


# --- Database statistics ------------------------------------------------------------------------


class PgStats:
    """Server-side statistics of the bench's PostgreSQL database, read on a connection of its
    own (its few statements are left out of the pg_stat_statements sums by their text)."""

    OWN = "'%pg\\_stat%', '%pg\\_database\\_size%', '%pg\\_sequence\\_last\\_value%'"
    # django-q2's: statements on its tables, and the connection check before each task.
    BROKER = "s.query ILIKE '%django\\_q\\_%' OR s.query = 'SELECT $1'"
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL checks them at COMMIT
    # with queries of its own, which pg_stat_statements lists as top-level statements. No client
    # sends them; they are counted apart.
    FK_CHECK = "s.query ILIKE 'SELECT $2 FROM ONLY %FOR KEY SHARE OF x'"

    def __init__(self, settings_dict):
        self.dsn = dict(
            host=settings_dict["HOST"] or "127.0.0.1",
            port=settings_dict["PORT"] or 5432,
            user=settings_dict["USER"],
            dbname=settings_dict["NAME"],
        )
        if settings_dict.get("PASSWORD"):
            self.dsn["password"] = settings_dict["PASSWORD"]
        self.statements = self._statements_available()

    def _connect(self):
        import psycopg

        return psycopg.connect(**self.dsn, autocommit=True)

    def _statements_available(self) -> bool:
        import psycopg

        try:
            with self._connect() as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()
            return True
        except psycopg.Error:
            return False

    def snapshot(self) -> dict:
        with self._connect() as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            tables = {
                name: (ins, upd, dele, size)
                for name, ins, upd, dele, size in conn.execute(
                    "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, "
                    "pg_total_relation_size(relid) FROM pg_stat_user_tables"
                )
            }
            scans = conn.execute(
                "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables"
            ).fetchone()[0]
            size, xacts = conn.execute(
                "SELECT pg_database_size(current_database()), xact_commit + xact_rollback "
                "FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
            ormq = conn.execute(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence('django_q_ormq', 'id'))"
            ).fetchone()[0]
            snap = {
                "tables": tables,
                "scans": int(scans),
                "size": size,
                "xacts": xacts,
                "ormq": ormq or 0,
            }
            if self.statements:
                calls, broker, checks, dealloc = conn.execute(
                    "SELECT coalesce(sum(calls), 0), "
                    f"coalesce(sum(calls) FILTER (WHERE {self.BROKER}), 0), "
                    f"coalesce(sum(calls) FILTER (WHERE {self.FK_CHECK}), 0), "
                    "(SELECT dealloc FROM pg_stat_statements_info) "
                    "FROM pg_stat_statements s WHERE s.dbid = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) "
                    "AND s.query NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK') "
                    f"AND NOT s.query ILIKE ANY (ARRAY[{self.OWN}])"
                ).fetchone()
                snap["statements"] = int(calls) - int(checks)
                snap["broker_statements"], snap["fk_checks"] = int(broker), int(checks)
                snap["dealloc"] = int(dealloc)
        return snap


def sqlite_snapshot() -> dict:
    from django.apps import apps
    from django.db import connection as db

    tables = {}
    with db.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            tables[table] = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = 'django_q_ormq'")
        row = cursor.fetchone()
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        size = pages * cursor.fetchone()[0]
    return {"tables": tables, "ormq": row[0] if row else 0, "size": size}


class PgCpu:
    """CPU seconds of the PostgreSQL processes serving this database (and the server's own
    background processes), when the server runs on this machine: their pids from
    pg_stat_activity, sampled after every tick (a backend's CPU is lost from /proc when it
    exits, so the last sample before the workers stop is what counts)."""

    def __init__(self, stats: "PgStats"):
        self.conn = stats._connect()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.local = True
        self.sample(first=True)

    def sample(self, first=False) -> None:
        if not self.local:
            return
        pids = [
            pid
            for (pid,) in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE (datname = current_database() "
                "OR datname IS NULL) AND pid <> pg_backend_pid()"
            )
        ]
        if first and pids and not any(Path(f"/proc/{pid}").exists() for pid in pids):
            self.local = False
            return
        for pid in pids:
            seconds = CpuClock.process(pid)
            if seconds:
                self.last[pid] = seconds
                if first:
                    self.first[pid] = seconds

    def spent(self) -> float | None:
        self.conn.close()
        if not self.local:
            return None
        return sum(last - self.first.get(pid, 0.0) for pid, last in self.last.items())


# --- The stretch ----------------------------------------------------------------------------------


class Stretch:
    """The simulated clock, the ticks, and what each tick claimed."""

    def __init__(self, start, speed, step, ticks):
        self.start, self.speed, self.step, self.count = start, speed, step, ticks
        self.r0 = None
        self.slots: dict[int, datetime] = {}  # schedule -> its unclaimed due slot
        self.claimed: dict[int, tuple] = {}  # run id -> (slot, tick index)
        self.ticks: list[dict] = []
        self.tick_statements = StatementCounter()

    def sim_to_real(self, moment) -> float:
        return self.r0 + (moment - self.start).total_seconds() / self.speed

    def run(self, progress, sample=lambda: None) -> None:
        from django.db import connection as db

        from integrations import dispatch
        from integrations.models import Schedule

        self.r0 = time.time() + 0.5
        previous = self.start - timedelta(seconds=self.step)
        for k in range(self.count):
            now = self.start + timedelta(seconds=k * self.step)
            due_real = self.sim_to_real(now)
            time.sleep(max(0.0, due_real - time.time()))
            began = time.time()
            for pk, slot in Schedule.objects.filter(
                enabled=True, next_run_at__gt=previous, next_run_at__lte=now
            ).values_list("pk", "next_run_at"):
                self.slots.setdefault(pk, slot)
            before = self.tick_statements.count
            with db.execute_wrapper(self.tick_statements):
                result = dispatch.tick(now=now)
            ended = time.time()
            for run in result.runs:
                self.claimed[run.pk] = (self.slots.pop(run.schedule_id, now), k)
            self.ticks.append(
                {
                    "now": now,
                    "due": due_real,
                    "began": began,
                    "ended": ended,
                    "queued": len(result.runs),
                    "reaped": result.reaped,
                    "statements": self.tick_statements.count - before,
                }
            )
            previous = now
            sample()
            if progress and (k + 1) % max(1, self.count // 10) == 0:
                queued = sum(t["queued"] for t in self.ticks)
                print(
                    f"  ... simulated {now:%H:%M} ({k + 1}/{self.count} ticks), "
                    f"{queued} runs queued",
                    file=sys.stderr,
                    flush=True,
                )


def drain(first_run_id: int, timeout: float, sample=lambda: None) -> float:
    from integrations.models import Run

    started = time.monotonic()
    active = Run.objects.filter(pk__gte=first_run_id, status__in=Run.ACTIVE_STATUSES)
    while active.exists() and time.monotonic() - started < timeout:
        sample()
        time.sleep(0.5)
    sample()
    return time.monotonic() - started


# --- Figures ------------------------------------------------------------------------------------


def pct(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[index]


def fmt(value, digits=1):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def grid_slot(schedule, queued_at):
    """The grid point at or before queued_at (the slot of a run the bench did not see due)."""
    step = schedule.interval.total_seconds()
    origin = schedule.GRID_ANCHOR + schedule.offset
    return origin + timedelta(seconds=((queued_at - origin).total_seconds() // step) * step)


def double_runs(runs, stretch, schedules_by_id):
    by_pair = defaultdict(list)
    for run in runs:
        if run.started_at is not None:
            by_pair[(run.connection_id, run.dataset)].append(run)
    overlapping = 0
    for pair_runs in by_pair.values():
        pair_runs.sort(key=lambda r: r.started_at)
        for earlier, later in zip(pair_runs, pair_runs[1:], strict=False):
            if earlier.finished_at is None or later.started_at < earlier.finished_at:
                overlapping += 1
    slots = Counter()
    for run in runs:
        if run.schedule_id is None:
            continue
        claimed = stretch.claimed.get(run.pk)
        slot = claimed[0] if claimed else grid_slot(schedules_by_id[run.schedule_id], run.queued_at)
        slots[(run.schedule_id, slot)] += 1
    return overlapping, sum(count - 1 for count in slots.values() if count > 1)


def report(args, ctx):
    """Print every figure; ctx holds what the run measured."""
    stretch, runs = ctx["stretch"], ctx["runs"]
    hours = args.simulated_hours
    per_day = 24 / hours
    customers = args.customers
    datasets = ctx["datasets"]

    print()
    print(f"runs of the stretch (queued by the ticks at simulated {ctx['window']})")
    header = (
        f"{'dataset':<13} {'queued':>8} {'started':>8} {'succeeded':>9} {'other':>6} "
        f"{'full':>6} {'requests':>9} {'req/run':>7} {'run ms p50':>10} {'p99':>7} "
        f"{'runs/cust/day':>13}"
    )
    print(header)
    print("-" * len(header))
    by_dataset = defaultdict(list)
    for run in runs:
        by_dataset[run.dataset].append(run)

    def row(label, group):
        started = [r for r in group if r.started_at]
        done = [r for r in started if r.finished_at]
        durations = [(r.finished_at - r.started_at).total_seconds() * 1000 for r in done]
        succeeded = sum(r.status == "succeeded" for r in group)
        requests = sum(r.requests for r in group)
        print(
            f"{label:<13} {len(group):>8,} {len(started):>8,} {succeeded:>9,} "
            f"{len(group) - succeeded:>6,} {sum(r.full for r in group):>6,} {requests:>9,} "
            f"{fmt(requests / len(group) if group else None, 2):>7} "
            f"{fmt(pct(durations, 50), 0):>10} {fmt(pct(durations, 99), 0):>7} "
            f"{fmt(len(group) * per_day / customers, 2):>13}"
        )

    for dataset in datasets:
        row(dataset, by_dataset.get(dataset, []))
    row("all", runs)
    statuses = Counter(r.status for r in runs)
    print(f"statuses: {dict(statuses)}")
    not_ours = ctx["foreign_runs"]
    print(
        f"runs not queued by this process's ticks: {not_ours}; django-q2 dispatcher tasks run "
        f"by the workers: {ctx['qschedule_ticks']}; reaped by the ticks: "
        f"{sum(t['reaped'] for t in stretch.ticks)}"
    )
    failed = [r for r in runs if r.status not in ("succeeded", "queued", "running")]
    for run in failed[:5]:
        print(f"  {run.dataset} run {run.pk} {run.status}: {run.error_message[:200]}")

    # Lag.
    lags, to_tick, to_start = defaultdict(list), [], []
    for run in runs:
        claimed = stretch.claimed.get(run.pk)
        if claimed is None or run.started_at is None:
            continue
        slot, k = claimed
        tick = stretch.ticks[k]
        started = run.started_at.timestamp()
        lag = started - stretch.sim_to_real(slot)
        lags[run.dataset].append(lag)
        lags["all"].append(lag)
        to_tick.append((tick["now"] - slot).total_seconds())
        to_start.append(started - tick["began"])
    never = sum(1 for r in runs if r.started_at is None)
    print()
    print(f"lag from slot to start, real seconds at speed {args.speed:g} (docstring: lag)")
    header = f"{'dataset':<13} {'runs':>8} {'p50':>8} {'p99':>8} {'max':>8}"
    print(header)
    print("-" * len(header))
    for dataset in [*datasets, "all"]:
        values = lags.get(dataset, [])
        print(
            f"{dataset:<13} {len(values):>8,} {fmt(pct(values, 50), 2):>8} "
            f"{fmt(pct(values, 99), 2):>8} {fmt(max(values) if values else None, 2):>8}"
        )
    print(
        f"  slot -> tick, simulated s: p50 {fmt(pct(to_tick, 50))}  p99 {fmt(pct(to_tick, 99))}"
        f"  max {fmt(max(to_tick) if to_tick else None)}   (a tick every {args.tick_seconds} s)"
    )
    print(
        f"  tick -> start, real s:     p50 {fmt(pct(to_start, 50), 2)}  "
        f"p99 {fmt(pct(to_start, 99), 2)}  max {fmt(max(to_start) if to_start else None, 2)}"
    )
    tick_ms = [(t["ended"] - t["began"]) * 1000 for t in stretch.ticks]
    late = [t["began"] - t["due"] for t in stretch.ticks]
    print(
        f"  ticks: {len(stretch.ticks)}, each p50 {fmt(pct(tick_ms, 50), 0)} ms, "
        f"max {fmt(max(tick_ms), 0)} ms; started late by > 1 s: "
        f"{sum(1 for v in late if v > 1)}; runs never started: {never}"
    )

    overlapping, same_slot = ctx["doubles"]
    print()
    print(
        f"double runs: overlapping runs of one connection × dataset: {overlapping}; "
        f"two runs for one slot: {same_slot}"
    )

    # SQL and broker rows.
    queued = len(runs)
    finished = sum(1 for r in runs if r.finished_at)
    print()
    print(
        f"SQL, dispatcher (this process, StatementCounter): {stretch.tick_statements.count:,} "
        f"statements in {len(stretch.ticks)} ticks = "
        f"{fmt(stretch.tick_statements.count / queued if queued else None, 2)} per queued run"
    )
    before, after = ctx["stats_before"], ctx["stats_after"]
    bench_total = ctx["bench_statements"]
    if ctx["vendor"] == "postgresql":
        if "statements" in after:
            total = after["statements"] - before["statements"]
            workers = total - bench_total.count
            broker = after["broker_statements"] - before["broker_statements"] - bench_total.broker

            def each(count):
                return fmt(count / finished if finished else None, 1)

            checks = after["fk_checks"] - before["fk_checks"]
            print(
                f"SQL, workers (pg_stat_statements, the qcluster's processes): {total:,} in the "
                f"database - {bench_total.count:,} from this process = {workers:,} = "
                f"{each(workers)} per finished run: the runs' own {each(workers - broker)}, "
                f"django-q2's {each(broker)} (on its django_q_* tables: taking, acknowledging, "
                f"results, polling; and its connection check before each task)"
            )
            print(
                f"  and foreign-key checks PostgreSQL ran at COMMIT (all processes): {checks:,} "
                f"= {each(checks)} per finished run"
            )
            if after["dealloc"] != before["dealloc"]:
                print(
                    "  (pg_stat_statements evicted entries meanwhile: the figure is a lower "
                    "bound; raise pg_stat_statements.max)"
                )
        else:
            xacts = after["xacts"] - before["xacts"]
            scans = after["scans"] - before["scans"]
            print(
                "SQL, workers: not measured (pg_stat_statements is not loaded: start PostgreSQL "
                "with shared_preload_libraries=pg_stat_statements). Instead, over every process: "
                f"{xacts:,} transactions (pg_stat_database) = "
                f"{fmt(xacts / finished if finished else None, 1)} per run, {scans:,} table and "
                f"index scans (pg_stat_user_tables) = "
                f"{fmt(scans / finished if finished else None, 1)} per run"
            )
    else:
        print("SQL, workers: not measured on SQLite (no server-side statistics)")
    if ctx["redis"]:
        print("task broker: Redis (REDIS_URL): no broker rows in the database")
    else:
        ormq = after["ormq"] - before["ormq"]
        print(
            f"task broker (ORM, django_q_ormq): {ormq:,} rows inserted = "
            f"{fmt(ormq / queued if queued else None, 2)} per queued run"
        )

    # Rows and size per simulated day.
    print()
    if ctx["vendor"] == "postgresql":
        print(f"rows per simulated day (pg_stat_user_tables deltas × {per_day:g})")
        header = (
            f"{'table':<34} {'inserted':>12} {'updated':>12} {'deleted':>12} {'size/day MiB':>12}"
        )
        print(header)
        print("-" * len(header))
        lines = []
        for table, (ins, upd, dele, size) in after["tables"].items():
            b = before["tables"].get(table, (0, 0, 0, 0))
            delta = (ins - b[0], upd - b[1], dele - b[2], size - b[3])
            if any(delta[:3]):
                lines.append((table, delta))
        for table, (ins, upd, dele, size) in sorted(lines, key=lambda item: -item[1][0]):
            print(
                f"{table:<34} {ins * per_day:>12,.0f} {upd * per_day:>12,.0f} "
                f"{dele * per_day:>12,.0f} {size * per_day / 2**20:>12,.1f}"
            )
    else:
        print(f"net rows per simulated day (row counts before/after × {per_day:g}, SQLite)")
        for table, count in sorted(after["tables"].items()):
            delta = count - before["tables"].get(table, 0)
            if delta:
                print(f"  {table:<34} {delta * per_day:>12,.0f}")
    growth = after["size"] - before["size"]
    print(
        f"database size: {before['size'] / 2**20:,.1f} MiB -> {after['size'] / 2**20:,.1f} MiB "
        f"over {fmt(hours, 2)} simulated hours = {growth * per_day / 2**20:,.1f} MiB per "
        "simulated day"
    )

    # Xledger requests.
    requests = sum(r.requests for r in runs)
    month = requests / customers * per_day * 30
    print()
    print(
        f"Xledger requests: {requests:,} (Run.requests); RequestUsage +{ctx['usage']:,}; "
        f"counted by the sandbox: {ctx['sandbox_requests']:,}"
    )
    print(
        f"  per customer per month: {requests:,} / {customers:,} customers × {per_day:g} "
        f"× 30 days = {month:,.0f} (5,000 included in the UK price list)"
    )

    # Where the CPU went.
    spent = ctx["cpu"]
    finished_runs = sum(1 for r in runs if r.finished_at)
    rest = spent["machine"] - spent["qcluster"] - spent["sandbox"] - spent["bench"]
    postgresql = spent.get("postgresql")
    print()
    print(
        f"CPU seconds over the stretch ({spent['available']:,.0f} available on "
        f"{os.cpu_count()} CPUs, {spent['machine'] / spent['available']:.0%} used):"
    )
    parts = [
        ("qcluster (workers, pusher, monitor; from start-up to exit)", spent["qcluster"]),
        ("sandbox (the simulated Xledger)", spent["sandbox"]),
        ("this process (ticks, bookkeeping)", spent["bench"]),
    ]
    if postgresql is not None:
        parts.append(("PostgreSQL (this database's backends, the server's own)", postgresql))
        parts.append(("everything else on the machine (other work)", rest - postgresql))
    else:
        parts.append(("PostgreSQL or SQLite and everything else on the machine", rest))
    for label, seconds in parts:
        per_run = seconds / finished_runs * 1000 if finished_runs else float("nan")
        print(f"  {label:<58} {seconds:>9,.1f} s  {fmt(per_run, 1):>7} ms per run")

    # Throughput and worker count.
    done = [r for r in runs if r.started_at and r.finished_at]
    print()
    if not done:
        print("worker processes needed: no run finished, nothing to measure")
        return
    service = [(r.finished_at - r.started_at).total_seconds() for r in done]
    mean = statistics.fmean(service)
    per_worker = 1 / mean
    span = max(r.finished_at.timestamp() for r in done) - stretch.r0
    utilisation = sum(service) / (args.workers * span)
    runs_per_day = queued * per_day
    rate = runs_per_day / 86_400
    needed_util = rate / (per_worker * UTILISATION)
    biggest = max(t["queued"] for t in stretch.ticks)
    needed_burst = biggest * mean / LAG_TARGET_SECONDS
    needed = max(1, math.ceil(needed_util), math.ceil(needed_burst))
    print(
        f"throughput: {len(done):,} runs finished in {span:,.1f} real s by {args.workers} worker "
        f"processes = {len(done) / span:,.2f} runs/s at speed {args.speed:g}; the workers were "
        f"busy {utilisation:.0%} of that time"
    )
    print(
        f"  one worker process: mean run {mean * 1000:,.1f} ms -> {per_worker:,.1f} runs/s "
        "(run time only: django-q2's hand-over between runs is not in it)"
    )
    print(
        f"worker processes needed for {customers:,} customers at production pace (at most "
        f"{UTILISATION:.0%} busy, every tick's runs started within {LAG_TARGET_SECONDS:.0f} s):"
    )
    print(
        f"  load: {queued:,} runs in {fmt(hours, 2)} simulated h × {per_day:g} = "
        f"{runs_per_day:,.0f} runs a day / 86,400 s = {rate:,.2f} runs/s"
    )
    print(
        f"  utilisation <= {UTILISATION:.0%}: {rate:,.2f} / ({per_worker:,.1f} × "
        f"{UTILISATION:g}) = {needed_util:,.2f} worker processes"
    )
    print(
        f"  the largest tick queued {biggest:,} runs: {biggest:,} × {mean:,.3f} s / "
        f"{LAG_TARGET_SECONDS:.0f} s = {needed_burst:,.2f} worker processes to start them all "
        "within a minute"
    )
    print(
        f"  => {needed} worker process{'es' if needed != 1 else ''} on machines like this one; "
        f"the lag from the slot adds the slot -> tick wait on top (up to {args.tick_seconds} s "
        f"with a tick every {args.tick_seconds} s)"
    )
    cores = [("qcluster", spent["qcluster"]), ("PostgreSQL", spent.get("postgresql"))]
    needs = [
        f"{name} {seconds / len(done) * rate:,.2f} ({seconds / len(done) * 1000:,.1f} ms × "
        f"{rate:,.2f} runs/s)"
        for name, seconds in cores
        if seconds is not None
    ]
    print(f"  CPUs busy at production pace, from the CPU per run above: {'; '.join(needs)}")


# --- Main -----------------------------------------------------------------------------------------


def main():
    args = parse_args()
    check_database(args)
    # The reaper runs in this process's ticks, in simulated time: a queued run waits as long in
    # real time before it is abandoned as in production.
    stale = int(os.environ.get("RUN_QUEUED_STALE_SECONDS", "1800"))
    os.environ["RUN_QUEUED_STALE_SECONDS"] = str(int(stale * args.speed))
    marker = os.environ.setdefault(MARKER_ENV, uuid.uuid4().hex)

    import django

    django.setup()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import logging

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection as db
    from django.utils import timezone
    from django_q.models import Task

    from integrations import dispatch
    from integrations.datasets import Dataset
    from integrations.models import RequestUsage, Run

    logging.getLogger("django-q").setLevel(logging.WARNING)
    logging.getLogger("integrations").setLevel(logging.WARNING)

    sandbox = qcluster = None
    logdir = Path(tempfile.mkdtemp(prefix="semine-fleet-"))
    ok = False
    try:
        call_command("migrate", verbosity=0)
        empty_database()
        held = hold_off_qschedules()

        print_machine()
        if db.vendor == "sqlite":
            version = db.Database.sqlite_version
        else:
            version = f"{db.pg_version // 10000}.{db.pg_version % 10000}"
        pg = PgStats(db.settings_dict) if db.vendor == "postgresql" else None
        extra = ""
        if pg:
            extra = f" (pg_stat_statements: {'yes' if pg.statements else 'not loaded'})"
        print(f"database : {db.vendor} {version}{extra}")
        redis = bool(getattr(settings, "REDIS_URL", ""))
        broker = "Redis (REDIS_URL)" if redis else "django-q2 ORM broker (django_q_ormq)"
        print(f"broker   : {broker}; {held} django-q2 schedules held off")

        step = args.tick_seconds
        now_real = timezone.now()
        # At UTC midnight, more than an hour before the stretch's end in real time.
        start = (now_real - timedelta(hours=args.simulated_hours + 1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        reference = start
        ticks = int(args.simulated_hours * 3600 // step)
        sizes, classes = register_sizes(args.customers, args.seed)
        counts = Counter(classes)
        print(
            f"config   : {args.customers:,} customers × 1 live connection × "
            f"{len(Dataset.values)} datasets; {args.workers} qcluster worker processes; "
            f"{fmt(args.simulated_hours, 2)} simulated h at speed {args.speed:g} "
            f"({args.simulated_hours * 3600 / args.speed / 60:,.1f} real min), a tick every "
            f"{step} simulated s"
        )
        print(
            "suppliers: "
            + ", ".join(
                f"{name} {counts[name]:,} ({low:,}-{high:,})" for name, _s, low, high in MIX
            )
            + f"; {sum(sizes):,} in all"
        )

        env = {**os.environ, "PYTHONUNBUFFERED": "1", MARKER_ENV: marker}
        setup_started = time.perf_counter()
        sandbox, url = start_sandbox(sizes, args.seed, reference, env)
        schedules, warm = populate(args, sizes, start, reference, step)
        populated = time.perf_counter() - setup_started
        qcluster_env = {
            **env,
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "XLEDGER_API_URL": url,
            "LOG_LEVEL": "WARNING",
        }
        qcluster = start_qcluster(qcluster_env, args.workers, logdir)
        warm_runs, warm_seconds, warm_statuses = warm_up(warm, args.drain_timeout)
        restore_plan(warm)
        # A fresh cluster for the stretch: the warm-up's backends exit, so their statistics
        # are flushed before the baseline is read.
        stop_group(qcluster)
        qcluster = None
        wait_sandbox_built(sandbox)
        print(
            f"setup    : {len(schedules):,} schedules in {populated:,.1f} s; warm-up: "
            f"{warm_runs:,} full runs in {warm_seconds:,.1f} s {dict(warm_statuses)}; sandbox "
            f"ready after {time.perf_counter() - setup_started:,.1f} s"
        )
        qcluster = start_qcluster(qcluster_env, args.workers, logdir)
        wait_cluster_ready(qcluster, logdir)

        first_run = (Run.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        usage_before = sum(RequestUsage.objects.values_list("requests", flat=True))
        sandbox_before = sandbox_requests(url)
        qticks_before = Task.objects.filter(func=dispatch.DISPATCHER_FUNC).count()
        flush_own_statistics()
        stats_before = pg.snapshot() if pg else sqlite_snapshot()
        cpu = CpuClock(sandbox.pid, qcluster.pid)
        pg_cpu = PgCpu(pg) if pg else None
        sample = pg_cpu.sample if pg_cpu else (lambda: None)

        bench_counter = BrokerAwareCounter()
        stretch = Stretch(start, args.speed, step, ticks)
        with db.execute_wrapper(bench_counter):
            stretch.run(progress=True, sample=sample)
            drained = drain(first_run, args.drain_timeout, sample=sample)
        stop_group(qcluster)
        qcluster_rc, qcluster = qcluster.returncode, None
        cpu_spent = cpu.spent()
        cpu_spent["postgresql"] = pg_cpu.spent() if pg_cpu else None
        flush_own_statistics()  # and the workers' backends have exited: theirs are flushed
        stats_after = pg.snapshot() if pg else sqlite_snapshot()
        print(
            f"stretch  : {len(stretch.ticks)} ticks in "
            f"{stretch.ticks[-1]['ended'] - stretch.r0:,.1f} real s, then {drained:,.1f} s "
            f"until no run was queued or running; qcluster exit code {qcluster_rc}",
        )

        runs = list(
            Run.objects.filter(pk__gte=first_run)
            .only(
                "pk",
                "connection_id",
                "schedule_id",
                "dataset",
                "status",
                "full",
                "queued_at",
                "started_at",
                "finished_at",
                "requests",
                "error_message",
            )
            .order_by("pk")
        )
        schedules_by_id = {s.pk: s for s in schedules}
        ctx = {
            "stretch": stretch,
            "runs": runs,
            "datasets": list(Dataset.values),
            "window": f"{start:%Y-%m-%d %H:%M} - "
            f"{start + timedelta(hours=args.simulated_hours):%H:%M} UTC",
            "foreign_runs": sum(1 for r in runs if r.pk not in stretch.claimed),
            "qschedule_ticks": Task.objects.filter(func=dispatch.DISPATCHER_FUNC).count()
            - qticks_before,
            "doubles": double_runs(runs, stretch, schedules_by_id),
            "stats_before": stats_before,
            "stats_after": stats_after,
            "bench_statements": bench_counter,
            "vendor": db.vendor,
            "redis": redis,
            "usage": sum(RequestUsage.objects.values_list("requests", flat=True)) - usage_before,
            "sandbox_requests": sandbox_requests(url) - sandbox_before,
            "cpu": cpu_spent,
        }
        report(args, ctx)
        ok = True
    finally:
        stop_group(qcluster)
        if sandbox is not None:
            if sandbox.stdin:
                try:
                    sandbox.stdin.close()
                except OSError:
                    pass
            stop_group(sandbox, grace=5.0)
        if not ok:
            log = logdir / "qcluster.log"
            if log.exists():
                print(f"--- qcluster log ({log}), last lines ---", file=sys.stderr)
                print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        else:
            for path in logdir.iterdir():
                path.unlink()
            logdir.rmdir()


if __name__ == "__main__":
    main()
