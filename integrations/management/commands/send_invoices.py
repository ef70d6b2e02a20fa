"""Send a connection's invoice outbox now, outside the scheduler (operations, fault tests).

    manage.py send_invoices --connection 7 [--once] [--loop-seconds 30]

`--once` makes one pass (settle what is in doubt, send at most one batch); otherwise it sends
until nothing is pending. `--loop-seconds N` makes one pass after another for N seconds (a
stand-in worker for tests that kill workers at random moments). The token never appears in
arguments or output.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.clients import client_for
from integrations.invoices.services import invoice_send_all, invoice_send_batch
from integrations.models import Connection
from integrations.xledger.errors import XledgerError

# Options that override the outbox's settings for this process only.
OVERRIDES = {
    "lease_seconds": "INVOICE_CLAIM_LEASE_SECONDS",
    "settle_seconds": "INVOICE_IN_DOUBT_SETTLE_SECONDS",
    "margin_seconds": "INVOICE_CLAIM_MARGIN_SECONDS",
    "batch_items": "INVOICE_BATCH_MAX_ITEMS",
}


class Command(BaseCommand):
    help = "Send a connection's pending invoices to Xledger."

    def add_arguments(self, parser):
        parser.add_argument("--connection", type=int, required=True)
        parser.add_argument("--once", action="store_true", help="One pass: at most one batch.")
        parser.add_argument("--loop-seconds", type=float, default=0.0)
        parser.add_argument("--url", default="", help="Xledger URL (default: the connection's)")
        parser.add_argument("--timeout", type=float, default=None)
        parser.add_argument("--max-wait", type=float, default=None)
        parser.add_argument("--max-attempts", type=int, default=None)
        parser.add_argument("--lease-seconds", type=float, default=None)
        parser.add_argument("--settle-seconds", type=float, default=None)
        parser.add_argument("--margin-seconds", type=float, default=None)
        parser.add_argument("--batch-items", type=int, default=None)

    def handle(self, *args, connection, once, loop_seconds, url, timeout, max_wait, max_attempts,
               **options):  # fmt: skip
        for option, name in OVERRIDES.items():
            if options.get(option) is not None:
                setattr(settings, name, options[option])
        conn = Connection.objects.get(pk=connection)
        client_options = {"timeout": timeout, "max_wait": max_wait, "max_attempts": max_attempts}
        client_options = {k: v for k, v in client_options.items() if v is not None}
        if url:
            client_options["url"] = url
        deadline = time.monotonic() + loop_seconds
        with client_for(conn, **client_options) as client:
            while True:
                try:
                    if once or loop_seconds:
                        result = invoice_send_batch(connection=conn, client=client)
                    else:
                        result = invoice_send_all(connection=conn, client=client)
                    if result.requests or result.expired or not loop_seconds:
                        self.stdout.write(
                            f"sent={result.sent} found={result.found} "
                            f"rejected={result.rejected} in_doubt={result.in_doubt} "
                            f"requeued={result.requeued} expired={result.expired} "
                            f"requests={result.requests}"
                        )
                    self.stdout.flush()
                except XledgerError as exc:
                    self.stdout.write(f"error={exc.kind}: {exc}")
                    time.sleep(min(getattr(exc, "wait_seconds", 0.0), 1.0))
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
