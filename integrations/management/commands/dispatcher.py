"""Run the dispatcher tick: once, or in a loop every N seconds.

In production django-q2's schedule ticks it every minute (see integrations.dispatch); this
command is for a faster pace (end-to-end tests, `make run`) or a one-off look at what is due.
Several may run at once: claiming is safe.
"""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from integrations.dispatch import tick


class Command(BaseCommand):
    help = "Reap dead runs and queue the due ones (once, or every --every seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Loop, ticking every N s")
        parser.add_argument("--ticks", type=int, default=0, help="With --every: stop after N")

    def handle(self, *args, every, ticks, **options):
        done = 0
        while True:
            try:
                result = tick()
                if options["verbosity"] > 1 or not every:
                    self.stdout.write(
                        f"{result.ticked_at:%H:%M:%S} queued {len(result.runs)}, "
                        f"reaped {result.reaped} ({result.duration_ms} ms)"
                    )
            except Exception as exc:  # a loop that survives its own exceptions
                self.stderr.write(f"Dispatcher tick failed: {exc}")
            finally:
                close_old_connections()
            done += 1
            if not every or done == ticks:
                return
            time.sleep(every)
