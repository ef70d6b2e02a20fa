import hashlib
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.datasets import DEFAULT_INTERVALS, MAX_INTERVAL, MIN_INTERVAL, Dataset


def format_interval(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} d"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def validate_interval(value: timedelta) -> None:
    if value is None:
        return
    if value < MIN_INTERVAL:
        raise ValidationError(
            _("The interval must be at least 5 minutes (you entered %(value)s)."),
            code="interval_too_short",
            params={"value": format_interval(value) if value >= timedelta(minutes=1) else value},
        )
    if value > MAX_INTERVAL:
        raise ValidationError(
            _("The interval must be at most 7 days (you entered %(value)s)."),
            code="interval_too_long",
            params={"value": format_interval(value)},
        )


def interval_from(amount: int, unit: str) -> timedelta:
    """`amount` minutes, hours or days as a valid interval. A number too large for a timedelta
    (10**12 days) is refused like any other interval over 7 days, not raised as OverflowError."""
    try:
        interval = timedelta(**{unit: amount})
    except OverflowError:
        raise ValidationError(
            _("The interval must be at most 7 days (you entered %(value)s)."),
            code="interval_too_long",
            params={"value": f"{amount} {unit}"},
        ) from None
    validate_interval(interval)
    return interval


class Schedule(models.Model):
    """A connection × dataset: how often it runs, when next, and how far incremental syncs got."""

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="schedules"
    )
    dataset = models.CharField(max_length=20, choices=Dataset.choices)
    interval_override = models.DurationField(
        null=True,
        blank=True,
        validators=[validate_interval],
        help_text=_("Leave empty to use the default interval. Between 5 minutes and 7 days."),
    )
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=False, help_text=_("Turned on at go-live."))
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    watermark = models.DateTimeField(
        null=True, blank=True, help_text=_("Xledger modifiedAt reached by the last successful run.")
    )
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    # Kept here by the run that succeeds, so lists read one column instead of searching the run
    # history (which is rolled up and pruned; see integrations.retention).
    last_success_at = models.DateTimeField(null=True, blank=True)
    failure_streak = models.PositiveIntegerField(default=0)
    delta_cursor = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Xledger's cursor after the last delta read (supplier deletions)."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "dataset"], name="uniq_schedule_dataset")
        ]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="schedule_due_idx")]
        permissions = [("override_interval", "Can override a dataset's interval")]

    def __str__(self):
        return f"{self.connection.customer} · {self.get_dataset_display()}"

    @classmethod
    def ensure_for(cls, connection) -> list["Schedule"]:
        """Create the connection's missing schedules (idempotent); return all of them."""
        from integrations.datasets import Dataset

        existing = {s.dataset: s for s in cls.objects.filter(connection=connection)}
        missing = [
            cls(connection=connection, dataset=d) for d in Dataset.values if d not in existing
        ]
        cls.objects.bulk_create(missing, ignore_conflicts=True)
        return list(cls.objects.filter(connection=connection))

    @property
    def default_interval(self) -> timedelta:
        return DEFAULT_INTERVALS[self.dataset]

    @property
    def interval(self) -> timedelta:
        return self.interval_override or self.default_interval

    def clean(self):
        super().clean()
        if self.interval_override is not None and not self.override_reason.strip():
            raise ValidationError(
                {
                    "override_reason": _(
                        "Say why the interval is overridden; the project manager is told."
                    )
                }
            )

    # --- When it runs ---------------------------------------------------------------------------

    # Due times sit on a fixed grid (anchor + offset + k × interval), so a run that starts late
    # or takes long never pushes the next one later: no drift.
    GRID_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)

    @property
    def offset(self) -> timedelta:
        """A stable per-connection offset within the interval, so that 2,000 customers do not all
        start on the same minute. The same for all of a connection's datasets, so datasets that
        fall due together for a customer are due at the same moment."""
        return timedelta(seconds=grid_offset_seconds(self.connection_id, self.interval))

    def next_due_after(self, moment: datetime) -> datetime:
        """The first grid point strictly after `moment`."""
        step = self.interval.total_seconds()
        start = self.GRID_ANCHOR + self.offset
        elapsed = (moment - start).total_seconds()
        return start + timedelta(seconds=(elapsed // step + 1) * step)

    def retry_after_failure(self, moment: datetime) -> datetime:
        """Sooner than the grid after a failure, backing off: 1, 2, 4, ... minutes, never later
        than the regular next due time."""
        backoff = RETRY_BACKOFF_BASE * 2 ** min(max(self.failure_streak - 1, 0), 10)
        return min(moment + backoff, self.next_due_after(moment))

    @property
    def always_full(self) -> bool:
        return self.dataset in ALWAYS_FULL

    def needs_full_sync(self, moment: datetime) -> bool:
        """Full sync (with deletion detection) for datasets Xledger cannot filter, and at least
        once every FULL_SYNC_EVERY for the others (deltas are kept only a few days)."""
        if self.dataset in ALWAYS_FULL:
            return True
        if self.dataset in NEVER_FULL:
            return False
        return self.last_full_sync_at is None or moment - self.last_full_sync_at >= FULL_SYNC_EVERY


# Datasets Xledger offers no incremental filter for (see xledger-api.md), and the one that is
# not a mirror at all.
ALWAYS_FULL = frozenset({Dataset.CURRENCIES, Dataset.FIXED_ASSETS, Dataset.VAT_CODES})
NEVER_FULL = frozenset({Dataset.INVOICES})
FULL_SYNC_EVERY = timedelta(days=1)
RETRY_BACKOFF_BASE = timedelta(minutes=1)


def grid_offset_seconds(connection_id: int, interval: timedelta) -> int:
    """hash(connection id) mod interval, in whole seconds; stable across processes and restarts
    (Python's own hash() of an int is stable too, but spreads consecutive ids poorly)."""
    digest = hashlib.blake2b(str(connection_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % max(1, int(interval.total_seconds()))
