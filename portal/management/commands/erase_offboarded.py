"""Erase the data of offboarded customers whose retention has run out, and of connections
offboarded alone: `manage.py erase_offboarded [--schedule] [--dry-run]`.

The same as the daily django-q2 task (`portal.erasure.erase_due`); safe to run at any time and
again: what is erased is not due any more, and an erasure that stopped half-way goes on.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from portal.erasure import BATCH, due_connections, due_customers, ensure_erasure_schedule, erase_due


class Command(BaseCommand):
    help = (
        "Erase the data of customers offboarded OFFBOARD_RETENTION_DAYS ago (or "
        "OFFBOARD_ERASURE_REQUESTED_DAYS, on request) and of connections offboarded alone, "
        "leaving an anonymised record."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=BATCH, help="Customers per round")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only list what is due; erase nothing."
        )
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Also create the daily django-q2 schedule that runs this (idempotent).",
        )

    def handle(self, *args, batch, dry_run, schedule, **options):
        if schedule:
            ensure_erasure_schedule()
        now = timezone.now()
        if dry_run:
            customers = list(due_customers(now=now).values_list("pk", "erase_after"))
            connections = list(due_connections(now=now).values_list("pk", "customer_id"))
            for pk, erase_after in customers:
                self.stdout.write(f"Due: customer {pk} (erase after {erase_after:%Y-%m-%d})")
            for pk, customer_id in connections:
                self.stdout.write(f"Due: connection {pk} of customer {customer_id}")
            self.stdout.write(
                f"{len(customers)} customers and {len(connections)} connections are due; "
                "nothing was erased (--dry-run)."
            )
            return
        result = erase_due(now=now, batch=batch)
        numbers = result["numbers"]
        for pk in numbers["customers"]:
            self.stdout.write(f"Erased customer {pk}")
        for pk in numbers["connections"]:
            self.stdout.write(f"Erased connection {pk} (offboarded alone)")
        for label, n in sorted(result["rows"].items()):
            self.stdout.write(f"  {label}: {n} rows")
        for what in numbers["failed"]:
            self.stderr.write(f"Failed: {what} (see the log; the next run goes on from there)")
        self.stdout.write(
            f"Erased {result['customers']} customers and {result['connections']} connections "
            f"offboarded alone; {result['failed']} failed (retention: "
            f"{settings.OFFBOARD_RETENTION_DAYS} days, "
            f"{settings.OFFBOARD_ERASURE_REQUESTED_DAYS} on an erasure request)."
        )
