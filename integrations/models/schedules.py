from datetime import timedelta

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
    failure_streak = models.PositiveIntegerField(default=0)

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
