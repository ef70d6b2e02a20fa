from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.roles import CustomerRole


class Customer(models.Model):
    """A SEMINE customer being onboarded or live. Holds what used to be the D01.01 spreadsheet."""

    class Country(models.TextChoices):
        NORWAY = "NO", _("Norway")
        SWEDEN = "SE", _("Sweden")
        DENMARK = "DK", _("Denmark")
        FINLAND = "FI", _("Finland")
        UNITED_KINGDOM = "GB", _("United Kingdom")

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Submitted")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        LIVE = "live", _("Live")

    legal_name = models.CharField(_("legal name"), max_length=200)
    organisation_number = models.CharField(_("organisation number"), max_length=30, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices, default="NO")
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    project_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_customers",
        verbose_name=_("project manager"),
    )
    onboarding_status = models.CharField(
        _("onboarding status"),
        max_length=20,
        choices=Status.choices,
        default=Status.INVITED,
        db_index=True,
    )

    # The rest of the client information (D01.01).
    expected_invoice_volume = models.PositiveIntegerField(
        _("expected invoices per month"), null=True, blank=True
    )
    fixed_assets_apply = models.BooleanField(_("fixed assets apply"), default=False)
    fixed_assets_as_dimension = models.BooleanField(
        _("fixed assets are synced as the values of a dimension"), default=False
    )
    fixed_assets_dimension_code = models.CharField(
        _("fixed assets dimension code"), max_length=20, blank=True, default="35"
    )
    fixed_assets_dimension_name = models.CharField(
        _("fixed assets dimension display name"), max_length=100, blank=True
    )
    supplier_posting_account = models.CharField(
        _("default posting account for suppliers"), max_length=20, blank=True
    )
    customer_posting_account = models.CharField(
        _("default posting account for customers"), max_length=20, blank=True
    )
    desired_go_live = models.DateField(_("desired go-live date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    require_mfa = models.BooleanField(
        _("users must use a second factor"),
        default=False,
        help_text=_(
            "The customer's users must sign in with an authenticator app or a passkey as well as "
            "their password. Turning it on signs them out; they add one at their next sign-in."
        ),
    )
    scope_changes_apply_at_once = models.BooleanField(
        _("scope changes apply at once"),
        default=False,
        help_text=_(
            "After go-live, the customer's changes to client entities and dimensions apply at "
            "once instead of waiting for the project manager's approval."
        ),
    )

    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Offboarding (portal.offboarding): when the customer left, by whom and why, and when its data
    # is erased (sooner when the customer asked for erasure).
    offboarded_at = models.DateTimeField(null=True, blank=True, editable=False)
    offboarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    offboard_reason = models.TextField(blank=True, editable=False)
    erasure_requested = models.BooleanField(default=False, editable=False)
    erase_after = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    # Erasure after retention (portal.erasure): when it began, and when it was done. From then on
    # this row holds no client information (its record: `ErasureRecord`).
    erasure_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_name"]
        permissions = [
            ("approve_golive", "Can approve go-live and request changes"),
            ("export_customer", "Can download the D01.01 spreadsheet"),
            ("offboard_customer", "Can offboard a customer"),
        ]

    def __str__(self):
        return self.legal_name

    @property
    def is_offboarded(self) -> bool:
        return self.offboarded_at is not None

    def language_for(self, email: str) -> str:
        """The language to write to `email` in: that user's own (the one they last used the
        portal in), else the language of the customer's first user, else the site's default."""
        memberships = self.memberships.select_related("user").order_by("created_at", "pk")
        first = None
        for membership in memberships:
            if email and membership.user.email.lower() == email.lower():
                return membership.language
            first = first or membership
        return first.language if first else settings.LANGUAGE_CODE


class Contact(models.Model):
    class Role(models.TextChoices):
        PROJECT = "project", _("Project contact")
        FINANCE = "finance", _("Finance contact")
        IT_PARTNER = "it_partner", _("IT partner")
        ERP_PARTNER = "erp_partner", _("ERP partner")

    REQUIRED_ROLES = (Role.PROJECT, Role.FINANCE)

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "role"], name="uniq_contact_role")
        ]
        ordering = ["customer", "role"]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"


class Membership(models.Model):
    """Binds a customer user to the one customer they may see."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language e-mails to this user are written in: the last one they used."),
    )
    role = models.CharField(
        _("role"), max_length=20, choices=CustomerRole.choices, default=CustomerRole.MEMBER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} → {self.customer}"

    @property
    def is_it_partner(self) -> bool:
        """Invited by the customer for the token step only (token, owner IDs, scope)."""
        return self.role == CustomerRole.IT_PARTNER

    def remember_language(self, language: str) -> None:
        """Keep the language the user reads the portal in, for the e-mails we send them."""
        language = (language or "").split("-")[0]
        if language != self.language and language in dict(settings.LANGUAGES):
            self.language = language
            if self.pk:
                Membership.objects.filter(pk=self.pk).update(language=language)


class AuditEntry(models.Model):
    """Read-only record of who did what, when, with before/after. Never holds a token."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=50, db_index=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    target = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"

    @classmethod
    def record(
        cls, *, actor, action, customer=None, target="", before=None, after=None, comment=""
    ):
        return cls.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            action=action,
            customer=customer,
            target=str(target)[:200],
            before=before or {},
            after=after or {},
            comment=comment,
        )


class ErasureRecord(models.Model):
    """What is left of a customer who left, or of one connection offboarded alone, once its data
    is erased (portal.erasure): numbers and dates, nothing about a person.

    The customer and the connection are plain numbers, not foreign keys: the record must outlive
    the rows it describes. The counts say what there was (read before anything is erased);
    `erased` says, per table, how many rows were deleted, anonymised or redacted so far, and is
    the erasure's progress while `erased_at` is empty.
    """

    customer_number = models.PositiveBigIntegerField(db_index=True)
    connection_number = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Empty: the whole customer."
    )
    customer_since = models.DateTimeField(null=True, blank=True)
    live_since = models.DateTimeField(null=True, blank=True)
    offboarded_at = models.DateTimeField(null=True, blank=True)
    erasure_requested = models.BooleanField(default=False)
    due_at = models.DateTimeField(null=True, blank=True, help_text="End of the retention period")
    started_at = models.DateTimeField()
    erased_at = models.DateTimeField(null=True, blank=True)
    connections = models.PositiveIntegerField(default=0)
    invoices = models.PositiveIntegerField(default=0)
    invoices_sent = models.PositiveIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0, help_text="Rolled-up quiet runs included")
    xledger_requests = models.PositiveIntegerField(default=0)
    users = models.PositiveIntegerField(default=0)
    contacts = models.PositiveIntegerField(default=0)
    erased = models.JSONField(default=dict, blank=True, help_text="Rows per table")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer_number"],
                condition=models.Q(connection_number__isnull=True),
                name="uniq_erasure_of_customer",
            ),
            models.UniqueConstraint(
                fields=["connection_number"],
                condition=models.Q(connection_number__isnull=False),
                name="uniq_erasure_of_connection",
            ),
        ]

    def __str__(self):
        what = f"customer {self.customer_number}"
        if self.connection_number is not None:
            what += f", connection {self.connection_number}"
        return f"Erasure of {what}"

    @property
    def is_done(self) -> bool:
        return self.erased_at is not None


from portal.invitations import Invitation  # noqa: E402  (its own module; registered here)
from portal.token_links import TokenLink  # noqa: E402  (likewise)

__all__ = [
    "AuditEntry",
    "Contact",
    "Customer",
    "ErasureRecord",
    "Invitation",
    "Membership",
    "TokenLink",
]
