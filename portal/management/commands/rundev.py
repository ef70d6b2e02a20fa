"""`make run`: the Xledger sandbox, the portal and a django-q2 worker, together until Ctrl-C.

Order matters: the sandbox starts first; once it answers, the demo customer is connected to it
and goes live (seed_demo --sandbox), then the worker and the web server start, both pointed at
the sandbox through XLEDGER_API_URL / XLEDGER_DEMO_API_URL.
"""

import os
import signal
import subprocess
import sys
import time

import httpx
from django.core.management.base import BaseCommand, CommandError


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
        processes: list[tuple[str, subprocess.Popen]] = []
        try:
            processes.append(
                (
                    "sandbox",
                    subprocess.Popen(
                        [
                            *manage,
                            "xledger_sandbox",
                            "--port",
                            str(options["sandbox_port"]),
                            "--suppliers",
                            str(options["suppliers"]),
                        ],
                        env=env,
                    ),
                )
            )
            self._wait_for(f"{base}/_sandbox/info", processes[0][1])
            subprocess.run([*manage, "seed_demo", "--sandbox", base], env=env, check=True)
            processes.append(("worker", subprocess.Popen([*manage, "qcluster"], env=env)))
            processes.append(
                (
                    "web",
                    subprocess.Popen(
                        [*manage, "runserver", options["addr"], "--noreload"], env=env
                    ),
                )
            )
            self.stdout.write(
                f"\nPortal: http://{options['addr']}/   admin: http://{options['addr']}/admin/"
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
            self._stop(processes)

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

    def _stop(self, processes):
        for _, proc in processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for _, proc in processes:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
