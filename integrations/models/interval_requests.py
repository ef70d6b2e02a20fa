from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.datasets import Dataset
from integrations.models.schedules import format_interval, validate_interval


class IntervalRequest(models.Model):
    """A customer asking for another interval for one dataset of one connection.

    The project manager accepts it (the schedule's override is set, through the same path as a
    staff override) or declines it, with an answer the customer reads. A connection has at most
    one pending request per dataset: asking again withdraws the earlier one.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the project manager")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Replaced by a newer request")

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="interval_requests"
    )
    dataset = models.CharField(max_length=20, choices=Dataset.choices)
    interval = models.DurationField(validators=[validate_interval])
    reason = models.CharField(max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True, help_text=_("Shown to the customer."))

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "dataset"],
                condition=models.Q(status="pending"),
                name="uniq_pending_interval_request",
            )
        ]

    def __str__(self):
        return f"{self.connection.customer} · {self.get_dataset_display()} · {self.interval_text}"

    @property
    def interval_text(self) -> str:
        return format_interval(self.interval)

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
