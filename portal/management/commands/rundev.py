"""`make run`: the portal, a django-q2 worker and the Xledger sandbox, together until Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

from django.core.management import get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, a qcluster worker and the Xledger sandbox; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--sandbox-port", type=int, default=8765)
        parser.add_argument("--suppliers", type=int, default=500)
        parser.add_argument("--no-sandbox", action="store_true")

    def handle(self, *args, **options):
        manage = [sys.executable, "manage.py"]
        env = dict(os.environ)
        processes: list[tuple[str, subprocess.Popen]] = []
        with_sandbox = not options["no_sandbox"] and "xledger_sandbox" in get_commands()
        if with_sandbox:
            url = f"http://127.0.0.1:{options['sandbox_port']}/graphql"
            env.setdefault("XLEDGER_API_URL", url)
            env.setdefault("XLEDGER_DEMO_API_URL", url)
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
            time.sleep(1.0)
        processes.append(("worker", subprocess.Popen([*manage, "qcluster"], env=env)))
        processes.append(
            (
                "web",
                subprocess.Popen([*manage, "runserver", options["addr"], "--noreload"], env=env),
            )
        )
        self.stdout.write(
            f"Portal: http://{options['addr']}/  admin: http://{options['addr']}/admin/"
        )
        try:
            while True:
                for name, proc in processes:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping all.")
                        raise KeyboardInterrupt
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for _, proc in processes:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for _, proc in processes:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
