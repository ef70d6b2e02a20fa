"""`make run` end to end: rundev starts sandbox, worker and web; the printed demo login works;
Ctrl-C stops every process it started, the worker's children included."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyotp
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes():
    """{pid: (ppid, start time, state)} of every process, from /proc (Linux)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (command)"
        found[int(entry.name)] = (int(fields[1]), fields[19], fields[0])
    return found


def descendants(root):
    """(pid, start time) of every living process below `root`."""
    table = processes()
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, pending = set(), list(children.get(root, []))
    while pending:
        pid = pending.pop()
        found.add((pid, table[pid][1]))
        pending.extend(children.get(pid, []))
    return found


def survivors(started):
    """Those of `started` (pid, start time) still running: not gone, not a zombie, not reused."""
    table = processes()
    return sorted(
        pid
        for pid, start in started
        if pid in table and table[pid][1] == start and table[pid][2] != "Z"
    )


def csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


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

        # A new staff member's first sign-in: the password, then an authenticator app to add (its
        # key read from the page, as a phone would scan it), the recovery codes, the admin.
        with httpx.Client(base_url=base, follow_redirects=True) as browser:
            page = browser.get("/admin/login/")
            answer = browser.post(
                "/admin/login/?next=/admin/",
                data={
                    "username": "pm",
                    "password": login.group(1),
                    "csrfmiddlewaretoken": csrf(page),
                },
            )
            assert answer.status_code == 200, answer.text[:500]
            assert answer.url.path == "/accounts/security/", answer.url
            assert "Add a second factor to continue." in answer.text, answer.text[:500]
            page = browser.get("/accounts/security/authenticator/", params={"next": "/admin/"})
            secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text).group(1)
            answer = browser.post(
                "/accounts/security/authenticator/",
                data={
                    "code": pyotp.TOTP(secret).now(),  # a fresh app: the code it shows now
                    "next": "/admin/",
                    "csrfmiddlewaretoken": csrf(page),
                },
            )
            assert answer.status_code == 200, answer.text[:500]
            codes = re.findall(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4})</code></li>", answer.text)
            assert len(codes) == 10, answer.text[:1000]
            assert 'href="/admin/">I have kept them; continue</a>' in answer.text
            answer = browser.get("/admin/")
            assert answer.url.path == "/admin/", answer.url
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
        # Everything rundev started: sandbox, web, the worker and the worker's own children.
        started = descendants(proc.pid)
        assert len(started) > 3, started
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
        try:
            proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        log.close()
    # Ctrl-C stopped everything: rundev waited for each process group to be empty before exiting.
    assert proc.returncode == 0, (tmp_path / "rundev.log").read_text()[-3000:]
    assert survivors(started) == []
    for port in (web, sandbox):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
