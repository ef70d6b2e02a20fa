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
