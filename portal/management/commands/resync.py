"""Queue a manual sync: `manage.py resync CUSTOMER [--dataset NAME] [--full] [--wait]`.

CUSTOMER is the customer's id or legal name. With --wait the command stays until the runs end
(a worker, `manage.py qcluster`, must be running) and exits 1 if any of them failed.

Like the admin's resync button it goes through `portal.operations`, so it is in the audit log
(no actor: the entry says it came from the command line). That is why it lives in portal, not in
integrations (which never imports portal).
"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrations.datasets import Dataset
from integrations.models import Connection, Run
from portal.operations import connection_resync_from_command_line


class Command(BaseCommand):
    help = "Queue a manual sync of one dataset (or all) for a customer."

    def add_arguments(self, parser):
        parser.add_argument("customer", help="Customer id or legal name")
        parser.add_argument("--dataset", choices=Dataset.values)
        parser.add_argument("--full", action="store_true", help="Full sync, deletions included")
        parser.add_argument("--wait", action="store_true", help="Wait until the runs end")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait at most")

    def handle(self, *args, customer, dataset, full, wait, timeout, **options):
        connection = self._connection(customer)
        try:
            runs = connection_resync_from_command_line(
                connection=connection, dataset=dataset, full=full
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for run in runs:
            self.stdout.write(f"Queued run #{run.pk}: {run.dataset}{' (full)' if run.full else ''}")
        if not wait:
            return
        deadline = time.monotonic() + timeout
        pending = {run.pk for run in runs}
        failed = False
        while pending and time.monotonic() < deadline:
            for run in Run.objects.filter(pk__in=pending).exclude(status__in=Run.ACTIVE_STATUSES):
                pending.discard(run.pk)
                failed |= run.status in (Run.Status.FAILED, Run.Status.ABANDONED)
                self.stdout.write(
                    f"Run #{run.pk} {run.dataset}: {run.status} — fetched {run.fetched}, "
                    f"created {run.created}, updated {run.updated}, unchanged {run.unchanged}, "
                    f"deleted {run.deleted}, rejected {run.rejected}, requests {run.requests}"
                    + (f" — {run.error_message}" if run.error_message else "")
                )
            if pending:
                time.sleep(0.5)
        if pending:
            raise CommandError(f"Still running after {timeout:.0f} s: runs {sorted(pending)}")
        if failed:
            raise CommandError("A run did not succeed.")

    def _connection(self, customer: str) -> Connection:
        connections = Connection.objects.select_related("customer")
        found = None
        if customer.isdigit():
            found = connections.filter(customer_id=int(customer)).first()
        if found is None:
            matches = list(connections.filter(customer__legal_name__iexact=customer))
            if len(matches) > 1:
                raise CommandError(f"Several customers are called {customer!r}; use the id.")
            found = matches[0] if matches else None
        if found is None:
            raise CommandError(f"No customer {customer!r} with an Xledger connection.")
        return found
