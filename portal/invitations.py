"""Invitations: how a customer user gets an account bound to their customer.

The link holds a random token; the database holds only its SHA-256, so a leaked database (or an
admin screen) cannot be turned into a working link. A link works once, until it expires, and
never after a re-send (which makes a new token) or a revoke.

Staff invite the customer's users; a customer user may invite their IT partner (`role`), whose
account then reaches the token step only. Who sent it is `created_by`: staff, or the customer.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.roles import CustomerRole


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def default_ttl() -> timedelta:
    return getattr(settings, "INVITATION_TTL", timedelta(days=7))


class Invitation(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    customer = models.ForeignKey(
        "portal.Customer", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail"))
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The language of the invitation e-mail; blank sends it in every language."),
    )
    role = models.CharField(
        _("role"),
        max_length=20,
        choices=CustomerRole.choices,
        default=CustomerRole.MEMBER,
        help_text=_("An IT partner may only enter owner IDs and tokens and choose the scope."),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self):
        return f"{self.email} → {self.customer}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.accepted_at:
            return self.State.ACCEPTED
        if self.revoked_at:
            return self.State.REVOKED
        if self.expires_at <= now:
            return self.State.EXPIRED
        return self.State.PENDING

    def get_state_display(self) -> str:
        return self.State(self.state()).label

    @property
    def is_usable(self) -> bool:
        return self.state() == self.State.PENDING

    def issue_token(self) -> str:
        """Give the invitation a fresh token and expiry (the old link dies); returns the raw
        token, which exists only in the e-mail that is sent next. Call `save()` after."""
        raw = new_token()
        self.token_hash = hash_token(raw)
        self.expires_at = timezone.now() + default_ttl()
        return raw

    @classmethod
    def find(cls, raw: str):
        """The invitation a link's token belongs to, in whatever state, or None."""
        if not raw or len(raw) > 200:
            return None
        return cls.objects.select_related("customer").filter(token_hash=hash_token(raw)).first()
