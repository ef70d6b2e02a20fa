"""Replace-token links: how staff ask for a new API token without ever handling one.

A project manager (or support) sends a customer user, or the customer's IT partner, a link to
the token page of one connection. Like an invitation, the link holds a random token and the
database only its SHA-256; it works until it expires, once (a successful replacement uses it
up), and never after it is revoked or the connection is removed.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.invitations import hash_token, new_token


def default_ttl() -> timedelta:
    return getattr(settings, "TOKEN_LINK_TTL", timedelta(days=7))


class TokenLink(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the new token")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="token_links"
    )
    email = models.EmailField(_("e-mail"))
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    message = models.TextField(_("message"), blank=True, help_text=_("Shown in the e-mail."))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("replace-token link")
        verbose_name_plural = _("replace-token links")

    def __str__(self):
        return f"{self.email} → {self.connection}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.used_at:
            return self.State.USED
        if self.revoked_at or self.connection.removed_at:
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
        """A fresh token and expiry; returns the raw token (only ever in the e-mail)."""
        raw = new_token()
        self.token_hash = hash_token(raw)
        self.expires_at = timezone.now() + default_ttl()
        return raw

    @classmethod
    def find(cls, raw: str):
        if not raw or len(raw) > 200:
            return None
        return (
            cls.objects.select_related("connection__customer")
            .filter(token_hash=hash_token(raw))
            .first()
        )
