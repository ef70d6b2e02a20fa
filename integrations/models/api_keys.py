"""API keys for SEMINE's machine client of the JSON API.

A key is a high-entropy random string shown once, when it is created; only its SHA-256 hash is
stored, next to its first characters (the prefix) so people can tell keys apart. A stolen database
therefore holds no usable key, and nothing in the admin can show one again. A key may be limited
to one customer; revoking it is immediate and kept on record.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PREFIX_LENGTH = 8
# Writing last_used_at on every request would turn each read into a write; once a minute is
# precise enough to tell a key that is in use from one that can be revoked.
LAST_USED_PRECISION = timedelta(minutes=1)
# What `secrets.token_urlsafe(32)` makes. Anything else is refused before touching the database.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{40,64}")


def hash_key(key: str) -> str:
    """A plain SHA-256 is right here: the key is 256 random bits, not a guessable password."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def revoke(self) -> int:
        return self.active().update(revoked_at=timezone.now())


class ApiKey(models.Model):
    name = models.CharField(
        max_length=100, help_text=_("Who or what uses this key, e.g. “SEMINE production”.")
    )
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    customer = models.ForeignKey(
        "portal.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Limit the key to one customer. Leave empty for all customers."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, name, customer=None, by=None) -> tuple["ApiKey", str]:
        """Create a key; returns (api_key, plaintext). The plaintext is never stored anywhere."""
        api_key = cls(name=name, customer=customer, created_by=by)
        plaintext = api_key.set_new_key()
        api_key.save()
        return api_key, plaintext

    def set_new_key(self) -> str:
        """Give this (unsaved) key a fresh secret; returns it so the caller can show it once."""
        plaintext = secrets.token_urlsafe(32)
        self.prefix = plaintext[:PREFIX_LENGTH]
        self.key_hash = hash_key(plaintext)
        return plaintext

    @classmethod
    def authenticate(cls, plaintext: str) -> "ApiKey | None":
        """The active key matching `plaintext`, or None. One query; compares in constant time."""
        if not plaintext or not KEY_PATTERN.fullmatch(plaintext):
            return None
        digest = hash_key(plaintext)
        candidates = cls.objects.active().filter(prefix=plaintext[:PREFIX_LENGTH])
        for candidate in candidates:
            if hmac.compare_digest(candidate.key_hash, digest):
                return candidate
        return None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def may_read(self, customer_id: int) -> bool:
        return self.customer_id is None or self.customer_id == customer_id

    def touch(self) -> None:
        """Record use, writing at most once per LAST_USED_PRECISION (and never racing backwards)."""
        now = timezone.now()
        if self.last_used_at is not None and now - self.last_used_at < LAST_USED_PRECISION:
            return
        type(self).objects.filter(pk=self.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
        self.last_used_at = now
