from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations import crypto
from integrations.fields import EncryptedTokenField, Secret

# [ours] The transaction source SEMINE's invoices are filed under unless the customer names
# another: whether a source must exist in Xledger first is not public.
DEFAULT_TRANSACTION_SOURCE = "SEMINE"


class ConnectionQuerySet(models.QuerySet):
    def current(self):
        """The connections in use: not removed by staff (a removed one keeps its history)."""
        return self.filter(removed_at__isnull=True)


class Connection(models.Model):
    """A customer's link to one Xledger owner entity. A customer has one or more (a group with
    several owner/domain entities has one each). The token is write-only: set it with
    `set_token`."""

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        DEMO = "demo", _("Demo")

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Unverified")
        OK = "ok", _("OK")
        NEEDS_ATTENTION = "needs_attention", _("Needs attention")
        PAUSED = "paused", _("Paused")
        REMOVED = "removed", _("Removed")

    customer = models.ForeignKey(
        "portal.Customer", on_delete=models.CASCADE, related_name="connections"
    )
    environment = models.CharField(
        max_length=20, choices=Environment.choices, default=Environment.PRODUCTION
    )
    owner_entity_id = models.PositiveBigIntegerField(
        _("owner entity ID"),
        null=True,
        blank=True,
        help_text=_("Xledger: Administration → Entity → Owner ID."),
    )
    api_token = EncryptedTokenField(null=True, blank=True, editable=False)
    token_fingerprint = models.CharField(max_length=40, blank=True, editable=False)
    token_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    token_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNVERIFIED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification = models.JSONField(
        default=dict, blank=True, help_text=_("The latest verification checklist, as shown.")
    )
    selected_dimensions = models.JSONField(
        default=list,
        blank=True,
        help_text=_("The object kinds (dimensions) to sync: their Xledger dbIds, as text."),
    )
    transaction_source_code = models.CharField(
        _("transaction source"),
        max_length=20,
        default=DEFAULT_TRANSACTION_SOURCE,
        help_text=_(
            "The code of the transaction source in Xledger that SEMINE's invoices are filed "
            "under. It must exist in Xledger."
        ),
    )
    live_since = models.DateTimeField(null=True, blank=True)
    # A connection added after the customer went live is approved on its own: the customer
    # asks for it once the token is checked and the scope chosen.
    approval_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        # The admin dashboard and list filter connections by status.
        indexes = [models.Index(fields=["status"], name="connection_status_idx")]
        constraints = [
            # One owner entity, one connection (in each environment), across all customers.
            models.UniqueConstraint(
                fields=["environment", "owner_entity_id"],
                condition=models.Q(owner_entity_id__isnull=False, removed_at__isnull=True),
                name="uniq_connection_owner_entity",
            )
        ]
        permissions = [
            ("pause_connection", "Can pause and resume a connection"),
            ("reverify_connection", "Can re-check a connection's token"),
            ("resync_connection", "Can trigger a manual resync"),
            ("remove_connection", "Can remove a connection (its history stays)"),
        ]

    def __str__(self):
        owner = self.owner_entity_id if self.owner_entity_id is not None else "?"
        return f"{self.customer} · {owner} ({self.get_environment_display()})"

    @property
    def owner_entity_name(self) -> str:
        """The owner entity's name as the last token check listed it (blank before)."""
        for entity in (self.verification or {}).get("entities", []):
            if entity.get("is_owner"):
                return entity.get("description") or entity.get("code") or ""
        return ""

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def has_token(self) -> bool:
        return self.api_token is not None

    def set_token(self, plaintext: str, *, by=None) -> None:
        """Replace the token (the old one is overwritten, never kept). Call `save()` after."""
        plaintext = plaintext.strip()
        self.api_token = Secret.from_plaintext(plaintext)
        self.token_fingerprint = crypto.fingerprint(plaintext)
        self.token_set_at = timezone.now()
        self.token_set_by = by
        self.status = self.Status.UNVERIFIED
        self.status_changed_at = self.token_set_at

    def reveal_token(self) -> str:
        if self.api_token is None:
            raise ValueError("This connection has no API token.")
        return self.api_token.reveal()

    @property
    def api_url(self) -> str:
        if self.environment == self.Environment.DEMO:
            return settings.XLEDGER_DEMO_API_URL
        return settings.XLEDGER_API_URL

    def verify_options(self) -> dict:
        """What a token check of this connection must cover, from the customer's setup: fixed
        assets (their read scope), the default posting accounts (in the chart of accounts) and the
        number of the fixed-assets dimension (found among the object kinds)."""
        customer = self.customer
        return {
            "fixed_assets": bool(customer.fixed_assets_apply),
            "posting_accounts": (
                customer.supplier_posting_account or "",
                customer.customer_posting_account or "",
            ),
            "dimension_number": (
                customer.fixed_assets_dimension_code or ""
                if customer.fixed_assets_as_dimension
                else ""
            ),
        }

    @property
    def is_live(self) -> bool:
        return self.live_since is not None and self.removed_at is None

    @property
    def awaits_approval(self) -> bool:
        """Added after go-live, checked and scoped, and waiting for the project manager."""
        return self.approval_requested_at is not None and not self.is_live and not self.is_removed

    @property
    def may_call_xledger(self) -> bool:
        return self.has_token and self.status == self.Status.OK


class ClientEntity(models.Model):
    """An Xledger entity the token reaches: the owner entity or a client entity below it."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="entities")
    db_id = models.PositiveBigIntegerField(_("Xledger dbId"))
    code = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=500, blank=True)
    company_number = models.CharField(max_length=50, blank=True)
    is_owner = models.BooleanField(default=False)
    in_scope = models.BooleanField(default=True)
    fixed_assets = models.BooleanField(_("fixed assets apply"), default=False)

    class Meta:
        verbose_name_plural = "client entities"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "db_id"], name="uniq_entity_per_connection"
            )
        ]
        ordering = ["-is_owner", "code"]

    def __str__(self):
        return f"{self.code} {self.description}".strip() or str(self.db_id)
