"""Starting and stopping the real processes of the end-to-end tests (each in its own process
group, so SIGKILL takes a qcluster's workers with it)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import connection as db

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The test database, as a URL the subprocesses can open."""
    s = db.settings_dict
    if db.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_for(check, timeout=20.0, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")


class Processes:
    def __init__(self, env: dict, logdir: Path):
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.logdir = logdir
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started[name] = process
        return process

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        """Signal the process's whole group, children included, even when its leader has
        already exited (a qcluster that stops can leave a worker behind, still holding the
        database); with SIGKILL, wait until nothing of the group is left."""
        process = self.started.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(10)
        if sig == signal.SIGKILL:
            _wait_until_gone(process.pid)

    def stop_all(self) -> None:
        for name in list(self.started):
            process = self.started[name]
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(5)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            self.kill(name)

    def logs(self) -> str:
        """The end of every process's log, for a failing test's report."""
        return "\n".join(
            f"--- {path.stem} ---\n{self.log(path.stem)}" for path in self.logdir.glob("*.log")
        )

    def log(self, name: str) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _wait_until_gone(group: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


class SandboxControl:
    """The sandbox process's /_sandbox HTTP surface."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/graphql"

    def call(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def ready(self) -> bool:
        try:
            return bool(self.call("GET", "info"))
        except OSError:
            return False
