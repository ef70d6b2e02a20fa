"""`make run`: the Xledger sandbox, the portal and a django-q2 worker, together until Ctrl-C.

Order matters: the sandbox starts first; once it answers, the demo customer is connected to it
and goes live (seed_demo --sandbox), then the worker and the web server start, both pointed at
the sandbox through XLEDGER_API_URL / XLEDGER_DEMO_API_URL. The organisation number lookup uses
the local fake register (BRREG_TRANSPORT_FACTORY=portal.brreg_fake.transport).

Each of the three runs in a process group of its own (the worker's children too), so stopping
stops the whole group, not only the process rundev started: Ctrl-C (or SIGTERM, SIGHUP) asks each
to stop, then SIGTERM goes to each group, then SIGKILL; rundev exits only once every group is
empty. (qcluster's sentinel ignores SIGINT and outlived its main process before.)
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.core.management.base import BaseCommand, CommandError

GRACE_SECONDS = 20  # to stop after Ctrl-C (a worker finishes its task), then SIGTERM
KILL_GRACE_SECONDS = 10  # after SIGTERM, then SIGKILL


def group_members(pgid: int) -> list[int]:
    """The living processes (not zombies) of process group `pgid`."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: any process in the group, zombies included
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # gone meanwhile
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def wait_for_groups(processes, timeout) -> bool:
    """Wait until every group is empty (reaping the leaders); False if some is not by then."""
    deadline = time.monotonic() + timeout
    while True:
        for proc in processes:
            proc.poll()  # reap the leader, so it no longer counts
        if not any(group_members(proc.pid) for proc in processes):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def stop_all(processes) -> None:
    """Stop every process group: SIGINT to each leader (as Ctrl-C), SIGTERM to each whole group
    after GRACE_SECONDS, SIGKILL after KILL_GRACE_SECONDS more; return once all are empty.
    Another Ctrl-C meanwhile is ignored: stopping half-way would leave processes behind."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    for proc in processes:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
    if wait_for_groups(processes, GRACE_SECONDS):
        return
    for proc in processes:
        signal_group(proc.pid, signal.SIGTERM)
    if wait_for_groups(processes, KILL_GRACE_SECONDS):
        return
    for proc in processes:
        signal_group(proc.pid, signal.SIGKILL)
    wait_for_groups(processes, 60)  # SIGKILL cannot be refused: this ends at once
    for proc in processes:
        if proc.poll() is None:
            proc.wait()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def start(args, env) -> subprocess.Popen:
    """`args` in a new session, so in a process group of its own that its children inherit
    (and the terminal's Ctrl-C reaches rundev only, which stops them in order)."""
    return subprocess.Popen(args, env=env, start_new_session=True)


class Command(BaseCommand):
    help = "Run the Xledger sandbox, a qcluster worker and the web server; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--sandbox-port", type=int, default=8765)
        parser.add_argument("--suppliers", type=int, default=500)

    def handle(self, *args, **options):
        manage = [sys.executable, "manage.py"]
        base = f"http://127.0.0.1:{options['sandbox_port']}"
        env = dict(os.environ)
        env["XLEDGER_API_URL"] = env["XLEDGER_DEMO_API_URL"] = f"{base}/graphql"
        # Brønnøysundregistrene: the in-process fake (portal/brreg_fake.py) unless set otherwise.
        env.setdefault("BRREG_TRANSPORT_FACTORY", "portal.brreg_fake.transport")
        # Browse it at localhost: passkeys need a host name (not an IP address) and their origin.
        host, _, port = options["addr"].rpartition(":")
        shown = f"localhost:{port}" if host in ("127.0.0.1", "localhost", "") else options["addr"]
        env.setdefault("PORTAL_BASE_URL", f"http://{shown}")
        processes: list[tuple[str, subprocess.Popen]] = []
        # SIGTERM (kill, docker stop) and SIGHUP (terminal closed) stop everything as Ctrl-C does.
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _interrupt)
        try:
            processes.append(
                (
                    "sandbox",
                    start(
                        [
                            *manage,
                            "xledger_sandbox",
                            "--port",
                            str(options["sandbox_port"]),
                            "--suppliers",
                            str(options["suppliers"]),
                        ],
                        env,
                    ),
                )
            )
            self._wait_for(f"{base}/_sandbox/info", processes[0][1])
            subprocess.run([*manage, "seed_demo", "--sandbox", base], env=env, check=True)
            processes.append(("worker", start([*manage, "qcluster"], env)))
            processes.append(
                ("web", start([*manage, "runserver", options["addr"], "--noreload"], env))
            )
            self.stdout.write(
                f"\nPortal: http://{shown}/   admin: http://{shown}/admin/"
                f"   sandbox: {base}/graphql   (Ctrl-C stops all)\n"
            )
            while True:
                for name, proc in processes:
                    if proc.poll() is not None:
                        raise CommandError(f"{name} exited with {proc.returncode}; stopped all.")
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        except subprocess.CalledProcessError as exc:
            raise CommandError(f"seed_demo failed ({exc.returncode}); stopped all.") from None
        finally:
            stop_all([proc for _, proc in processes])

    def _wait_for(self, url, proc, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise CommandError("The Xledger sandbox did not start (see above).")
            try:
                httpx.get(url, timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise CommandError(f"The Xledger sandbox did not answer at {url} within {timeout}s.")
