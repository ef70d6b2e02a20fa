"""What several benchmarks share: the machine they ran on, and a sandbox in a child process."""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The child serves a sandbox on a free loopback port, prints its URL and the "full" token as
# one JSON line, and serves until its stdin closes. It needs no database.
SERVE = """
import json, sys
from integrations.xledger.sandbox import Sandbox
sb = Sandbox(seed=1, suppliers=int(sys.argv[1]), clients=3, burst_limit=False)
with sb.serve(port=0) as url:
    print(json.dumps({"url": url, "token": sb.demo_tokens["full"]}), flush=True)
    sys.stdin.read()
"""


def print_machine() -> None:
    print(f"platform : {platform.platform()}")
    print(f"python   : {platform.python_implementation()} {platform.python_version()}")
    print(f"cpus     : {os.cpu_count()}")


def serve_sandbox(suppliers: int) -> tuple[subprocess.Popen, dict]:
    """The child (close its stdin to stop it) and {url, token, startup_seconds}."""
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(suppliers)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = child.stdout.readline()
    if not line:
        child.kill()
        raise SystemExit("The sandbox did not start.")
    info = json.loads(line)
    info["startup_seconds"] = time.perf_counter() - started
    return child, info


def use_benchmark_database(name: str) -> None:
    """Point DATABASE_URL at a throwaway SQLite file unless one is given; on PostgreSQL, create
    the named database if it is missing. Call before django.setup()."""
    import tempfile

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="semine-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/{name}.db"
        return
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in cfg["ENGINE"]:
        return
    dsn = dict(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres")
    if cfg.get("PASSWORD"):
        dsn["password"] = cfg["PASSWORD"]
    with psycopg.connect(**dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if not exists.fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


class StatementCounter:
    """A connection.execute_wrapper that counts the SQL statements sent."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)
