"""bench/fleet.py end to end in a small configuration, and the fleet sandbox it stands on.

The bench runs as its own process, as it is run by hand: its own scratch database (a
PostgreSQL database next to the test run's when the tests run on PostgreSQL, else a temporary
SQLite file), a real qcluster and the sandbox as child processes. The figures are read from
what it prints. Every child carries a marker in its environment, so the test can tell that
none is left, even when the bench fails.
"""

import os
import re
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from integrations.datasets import DEFAULT_INTERVALS, Dataset
from integrations.models.schedules import grid_offset_seconds
from integrations.xledger.sandbox.fleet import FleetSandbox, fleet_token

ROOT = Path(__file__).resolve().parents[2]
MARKER_ENV = "SEMINE_FLEET_BENCH"  # bench/fleet.py sets it on every child
MIRROR_DATASETS = [d for d in Dataset.values if d != Dataset.INVOICES]

CUSTOMERS, HOURS, SPEED = 12, 1, 240  # one simulated hour in 15 real seconds


def _scratch_database(tmp_path):
    """(DATABASE_URL for the bench, PostgreSQL database name or None)."""
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        return f"sqlite:///{tmp_path / 'fleet.db'}", None
    name = f"semine_fleet_test_{os.getpid()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}", name


def _drop_database(name):
    import psycopg

    db = settings.DATABASES["default"]
    dsn = dict(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"])
    if db.get("PASSWORD"):
        dsn["password"] = db["PASSWORD"]
    with psycopg.connect(**dsn, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _processes_marked(marker):
    """Live processes whose environment carries the marker (read from /proc)."""
    wanted = f"{MARKER_ENV}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def _expected_datasets():
    """The datasets with a slot in the window (00:00 UTC + HOURS) for connections 1..CUSTOMERS:
    where a schedule's grid falls depends only on its connection id and interval."""
    expected = set()
    for dataset in MIRROR_DATASETS:
        interval = DEFAULT_INTERVALS[dataset]
        for connection_id in range(1, CUSTOMERS + 1):
            offset = timedelta(seconds=grid_offset_seconds(connection_id, interval))
            if offset < timedelta(hours=HOURS) - timedelta(minutes=1):
                expected.add(dataset)
    return expected


def _figures(stdout):
    runs = {}
    for line in stdout.splitlines():
        match = re.match(r"^(\w+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s", line)
        if match and match.group(1) in (*Dataset.values, "all") and match.group(1) not in runs:
            queued, started, succeeded = (int(g.replace(",", "")) for g in match.groups()[1:])
            runs[match.group(1)] = {"queued": queued, "started": started, "succeeded": succeeded}
    doubles = re.search(
        r"double runs: overlapping runs of one connection × dataset: (\d+); "
        r"two runs for one slot: (\d+)",
        stdout,
    )
    foreign = re.search(r"runs not queued by this process's ticks: (\d+)", stdout)
    return runs, doubles, foreign


@pytest.mark.e2e
def test_it_runs_a_small_fleet_and_leaves_no_process_behind(tmp_path):
    assert _expected_datasets() == set(MIRROR_DATASETS), "the window must reach every dataset"
    marker = uuid.uuid4().hex
    url, pg_name = _scratch_database(tmp_path)
    command = [
        sys.executable,
        str(ROOT / "bench" / "fleet.py"),
        "--customers",
        str(CUSTOMERS),
        "--workers",
        "1",
        "--simulated-hours",
        str(HOURS),
        "--speed",
        str(SPEED),
        "--drain-timeout",
        "60",
    ]
    if pg_name is None:
        command.append("--allow-sqlite")
    env = {**os.environ, "DATABASE_URL": url, MARKER_ENV: marker, "PYTHONUNBUFFERED": "1"}
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
    finally:
        left = _processes_marked(marker)
        for pid in left:  # ours (the marker says so): never leave them running
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if pg_name:
            _drop_database(pg_name)
    output = f"{done.stdout[-6000:]}\n--- stderr ---\n{done.stderr[-4000:]}"
    assert done.returncode == 0, output
    assert left == [], f"processes left behind: {left}\n{output}"

    runs, doubles, foreign = _figures(done.stdout)
    for dataset in MIRROR_DATASETS:
        assert runs[dataset]["started"] > 0, (dataset, output)
        assert runs[dataset]["succeeded"] == runs[dataset]["queued"], (dataset, output)
    assert runs["all"]["started"] == runs["all"]["queued"] > 0, output
    assert doubles and doubles.groups() == ("0", "0"), output
    assert foreign and foreign.group(1) == "0", output


def test_it_refuses_sqlite_without_the_flag(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fleet.db'}"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fleet.py"), "--customers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PostgreSQL" in done.stderr and "--allow-sqlite" in done.stderr
    assert not (tmp_path / "fleet.db").exists()


def _ask(client, token, query="{ suppliers(first: 10000) { edges { node { dbId } } } }"):
    return client.post(
        "http://fleet.local/graphql",
        headers={"Authorization": f"token {token}"},
        json={"query": query},
    )


def test_the_fleet_sandbox_serves_each_owner_entity_its_own_data():
    fleet = FleetSandbox([3, 5], seed=7)
    client = httpx.Client(transport=httpx.WSGITransport(app=fleet))

    second = _ask(client, fleet_token(7, 2), "{ entities(first: 10) { edges { node { dbId } } } }")
    assert second.status_code == 200
    assert {e["node"]["dbId"] for e in second.json()["data"]["entities"]["edges"]} == {
        20001,
        20002,
        20003,
        20004,
    }
    assert len(_ask(client, fleet_token(7, 1)).json()["data"]["suppliers"]["edges"]) == 3
    assert len(_ask(client, fleet_token(7, 2)).json()["data"]["suppliers"]["edges"]) == 5
    assert fleet.info() == {"owners": 2, "built": 2, "requests": 3}


def test_the_fleet_sandbox_refuses_a_token_it_did_not_issue():
    fleet = FleetSandbox([3], seed=7)
    client = httpx.Client(transport=httpx.WSGITransport(app=fleet))

    refused = _ask(client, fleet_token(8, 1))
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "UNAUTHENTICATED"
    assert _ask(client, fleet_token(7, 2)).status_code == 401  # no owner 2 in this fleet
    assert fleet.info()["built"] == 0


def test_the_fleet_sandbox_builds_the_same_records_whenever_an_owner_is_built():
    moment = datetime(2025, 3, 1, 12, tzinfo=UTC)
    one = FleetSandbox([50], seed=3, now=moment)
    other = FleetSandbox([50], seed=3, now=moment)
    one.owner(1)
    assert one.owner(1).records("suppliers") == other.owner(1).records("suppliers")
