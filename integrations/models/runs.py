from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.datasets import Dataset


class RunLost(Exception):
    """The run was taken away from this worker (reaped or released): stop, write nothing."""


class Run(models.Model):
    """One execution of a schedule: who/what started it, how it went, what it cost in requests."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Manual")
        GO_LIVE = "go_live", _("Go-live")
        RETRY = "retry", _("Retry")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIAL = "partial", _("Partial")
        FAILED = "failed", _("Failed")
        DEFERRED = "deferred", _("Deferred (Xledger unavailable)")
        ABANDONED = "abandoned", _("Abandoned")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="runs"
    )
    schedule = models.ForeignKey(
        "integrations.Schedule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    dataset = models.CharField(max_length=20, choices=Dataset.choices)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.SCHEDULED)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    full = models.BooleanField(default=False, help_text=_("Full sync with deletion detection."))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text=_("host:pid that ran it"))

    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(_("Xledger requests"), default=0)
    pages = models.PositiveIntegerField(default=0)
    rejections = models.JSONField(
        default=list, blank=True, help_text=_("A sample of rejected records with the reason.")
    )
    error_kind = models.CharField(max_length=30, blank=True)
    error_message = models.TextField(blank=True)
    watermark = models.DateTimeField(
        null=True, blank=True, help_text=_("Largest Xledger modifiedAt this run saw.")
    )
    delta_cursor = models.CharField(
        max_length=100, blank=True, help_text=_("Delta cursor this run reached.")
    )

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["connection", "dataset", "-queued_at"], name="run_conn_ds_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="run_status_hb_idx"),
            models.Index(fields=["-queued_at"], name="run_queued_idx"),
            models.Index(fields=["dataset", "status"], name="run_ds_status_idx"),
            # The admin: a connection's runs newest first, each customer's last success, and
            # the run list filtered by status or trigger (newest first); retention by status.
            models.Index(fields=["connection", "-queued_at"], name="run_conn_queued_idx"),
            models.Index(
                fields=["connection", "status", "-finished_at"], name="run_conn_status_fin_idx"
            ),
            models.Index(fields=["status", "-queued_at"], name="run_status_queued_idx"),
            models.Index(fields=["trigger", "-queued_at"], name="run_trigger_queued_idx"),
        ]
        constraints = [
            # At most one queued/running run per connection × dataset: the database itself
            # refuses a second one, whatever several dispatchers on several machines do.
            models.UniqueConstraint(
                fields=["connection", "dataset"],
                condition=models.Q(status__in=["queued", "running"]),
                name="uniq_active_run",
            )
        ]
        permissions = [("release_run", "Can release a stuck run")]

    def __str__(self):
        return f"{self.get_dataset_display()} {self.get_status_display()} #{self.pk}"

    REJECTION_SAMPLE = 20  # rejected records kept with their reason; the count is exact

    @classmethod
    def queue(cls, *, schedule, trigger, full=False, by=None, now=None) -> "Run | None":
        """A new queued run of `schedule` (full if asked or if the schedule needs one), or None
        if the connection × dataset already has an active run (the database refuses a second)."""
        now = now or timezone.now()
        needed = not full and schedule.needs_full_sync(now)
        try:
            with transaction.atomic():
                run = cls.objects.create(
                    connection_id=schedule.connection_id,
                    schedule=schedule,
                    dataset=schedule.dataset,
                    trigger=trigger,
                    triggered_by=by,
                    full=bool(full) or needed,
                    queued_at=now,
                )
        except IntegrityError:
            return None
        if needed and not schedule.always_full:
            # "Needs a full sync" was read before the insert, which may have waited for the
            # dataset's previous run to end: read the schedule again now that it has, so a full
            # sync that just finished is not followed by another one.
            schedule.refresh_from_db(fields=["last_full_sync_at"])
            if not schedule.needs_full_sync(now):
                run.full = False
                cls.objects.filter(pk=run.pk).update(full=False)
        return run

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    # Written by record_page (at most every RUN_PROGRESS_SECONDS) and by the run's end.
    PROGRESS_FIELDS = (
        "fetched", "created", "updated", "unchanged", "deleted", "rejected",
        "pages", "requests", "rejections",
    )  # fmt: skip

    def record_page(self, *, requests=None, rejections=(), **counts) -> None:
        """Add one page's counts; write them and beat the heartbeat in one conditional UPDATE
        when the last beat is RUN_PROGRESS_SECONDS old (default 10). A run that ends sooner
        writes its counts once, with its end: a quiet run costs no statement here.

        The UPDATE only matches while the run is still `running`: if the reaper (or a person)
        has abandoned it meanwhile, this raises RunLost and the worker stops writing. The reaper
        waits minutes of silence (RUN_HEARTBEAT_STALE_AFTER), far longer than the beat.
        """
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + value)
        if requests is not None:
            self.requests = requests
        room = self.REJECTION_SAMPLE - len(self.rejections)
        if rejections and room > 0:
            self.rejections = [*self.rejections, *list(rejections)[:room]]
        self.pages += 1
        now = timezone.now()
        every = float(getattr(settings, "RUN_PROGRESS_SECONDS", 10))
        if self.heartbeat_at is not None and (now - self.heartbeat_at).total_seconds() < every:
            return
        self.heartbeat_at = now
        values = {name: getattr(self, name) for name in (*self.PROGRESS_FIELDS, "heartbeat_at")}
        if not Run.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(**values):
            raise RunLost(f"Run {self.pk} is no longer running (abandoned or released).")

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class Issue(models.Model):
    """A problem on a connection that someone must act on: kept once per problem, not per run."""

    class Kind(models.TextChoices):
        AUTH_FAILED = "auth_failed", _("Token rejected by Xledger")
        PERMISSION_MISSING = "permission_missing", _("Token lacks a permission")
        DATASET_FAILING = "dataset_failing", _("Dataset failing")
        MASS_DELETION = "mass_deletion", _("Mass deletion waiting for confirmation")
        INVOICES_FAILING = "invoices_failing", _("Invoices failing")
        CREDITS_EXHAUSTED = "credits_exhausted", _("Xledger credits used up")
        SCHEMA_MISMATCH = "schema_mismatch", _("Xledger refuses our query (schema differs)")
        NEW_CLIENT_ENTITY = "new_client_entity", _("New client entity in Xledger")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        MUTED = "muted", _("Muted")
        RESOLVED = "resolved", _("Resolved")

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="issues"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    dataset = models.CharField(max_length=20, choices=Dataset.choices, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurrences = models.PositiveIntegerField(default=1)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "dataset"],
                condition=~models.Q(status="resolved"),
                name="uniq_unresolved_issue",
            )
        ]
        indexes = [models.Index(fields=["status", "-last_seen_at"], name="issue_status_idx")]

    def __str__(self):
        return self.title

    @property
    def is_resolved(self):
        return self.status == self.Status.RESOLVED


class RequestUsage(models.Model):
    """Xledger requests made for a connection per calendar month (customers pay beyond 5,000)."""

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="request_usage"
    )
    month = models.DateField(help_text=_("First day of the month"))
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "month"], name="uniq_usage_month")
        ]

    def __str__(self):
        return f"{self.connection} {self.month:%Y-%m}: {self.requests}"


class RunDay(models.Model):
    """Quiet successful runs of one connection × dataset on one day (UTC), rolled up.

    Most runs find nothing new: keeping each of them as a row would add millions of rows a day
    across the fleet. The retention task folds them in here and deletes them; failures and runs
    that changed data keep their detail. Charts and request counts read runs and roll-ups
    together.
    """

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="run_days"
    )
    dataset = models.CharField(max_length=20, choices=Dataset.choices)
    day = models.DateField()
    runs = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(_("Xledger requests"), default=0)
    fetched = models.PositiveIntegerField(default=0)
    duration_p50_ms = models.PositiveIntegerField(default=0)
    duration_p95_ms = models.PositiveIntegerField(default=0)
    duration_max_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "dataset", "day"], name="uniq_run_day")
        ]

    def __str__(self):
        return f"{self.get_dataset_display()} {self.day}: {self.runs} quiet runs"
