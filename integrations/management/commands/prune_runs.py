from django.core.management.base import BaseCommand

from integrations.retention import ensure_prune_schedule, prune_runs, retention_days


class Command(BaseCommand):
    help = (
        "Roll up quiet runs older than RUN_QUIET_KEEP_HOURS, then delete old run history: "
        "successes after RUN_RETENTION_SUCCESS_DAYS, failures (and roll-ups) after "
        "RUN_RETENTION_FAILURE_DAYS. Keeps active runs and each dataset's last success."
    )

    def add_arguments(self, parser):
        parser.add_argument("--success-days", type=int, default=None)
        parser.add_argument("--failure-days", type=int, default=None)
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Also create the daily django-q2 schedule that runs this (idempotent).",
        )

    def handle(self, *args, **options):
        if options["schedule"]:
            ensure_prune_schedule()
        result = prune_runs(
            success_days=options["success_days"], failure_days=options["failure_days"]
        )
        success_days, failure_days = retention_days()
        self.stdout.write(
            f"Rolled up {result['rolled_up']} quiet runs; deleted {result['succeeded']} "
            f"successful and {result['failed']} failed runs and {result['run_days']} roll-ups "
            f"(defaults: successes kept {success_days} days, failures {failure_days})."
        )
