from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScopeChange(models.Model):
    """A customer changing the scope of a live connection: which client entities (and fixed
    assets per entity) and which dimensions are synced.

    The project manager applies or declines it, unless the customer is set to have scope
    changes apply at once (`Customer.scope_changes_apply_at_once`); then it is stored applied.
    A connection has at most one pending change: asking again replaces the earlier one.
    The next run of each dataset the change touches is a full one.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the project manager")
        APPLIED = "applied", _("Applied")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Replaced by a newer change")

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="scope_changes"
    )
    # {"<dbId>": {"in_scope": bool, "fixed_assets": bool}} for every entity the checklist listed.
    entities = models.JSONField(default=dict, blank=True)
    dimensions = models.JSONField(default=list, blank=True)  # object kind keys
    transaction_source = models.CharField(max_length=20, blank=True)
    # What the change does, in words for the project manager (made when it is asked for).
    summary = models.TextField(blank=True)
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
                fields=["connection"],
                condition=models.Q(status="pending"),
                name="uniq_pending_scope_change",
            )
        ]

    def __str__(self):
        return f"{self.connection} · scope change · {self.get_status_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
