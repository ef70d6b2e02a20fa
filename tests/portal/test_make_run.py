"""`make run` end to end: rundev starts sandbox, worker and web; the printed demo login works."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.e2e
def test_it_serves_the_admin_with_a_printed_demo_login_and_syncs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "XLEDGER_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    env["PYTHONUNBUFFERED"] = "1"
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=180)
    web, sandbox = free_port(), free_port()
    log = open(tmp_path / "rundev.log", "w+")
    proc = subprocess.Popen(
        [*manage, "rundev", "--addr", f"127.0.0.1:{web}", "--sandbox-port", str(sandbox)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{web}"
    try:
        wait_until(lambda: httpx.get(f"{base}/admin/login/").status_code == 200, 90, "the portal")
        output = (tmp_path / "rundev.log").read_text()
        login = re.search(r"^\s+pm\s+(\S+)\s+Project managers", output, re.M)
        assert login, output

        with httpx.Client(base_url=base, follow_redirects=True) as browser:
            page = browser.get("/admin/login/")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            answer = browser.post(
                "/admin/login/?next=/admin/",
                data={"username": "pm", "password": login.group(1), "csrfmiddlewaretoken": csrf},
            )
            assert answer.status_code == 200 and "Log out" in answer.text, answer.text[:500]

        # The worker syncs the live demo customer from the sandbox on its own.
        check = [
            *manage,
            "shell",
            "-c",
            "from integrations.models import Run; "
            "print(Run.objects.filter(dataset='suppliers', status='succeeded').count())",
        ]

        def suppliers_synced():
            out = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True)
            return out.stdout.strip().splitlines()[-1:] not in ([], ["0"])

        wait_until(suppliers_synced, 90, "a successful supplier run")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        log.close()
    for port in (web, sandbox):  # Ctrl-C stopped everything
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
