"""How codes are read and kept: as people type them, and what the database keeps of a recovery
code (a keyed hash, never the code)."""

import hashlib
import hmac

from django.conf import settings


def normalise(code: str) -> str:
    """Codes as people type them: spaces and hyphens dropped, case ignored."""
    return "".join(str(code).split()).replace("-", "").lower()


def recovery_digests(code: str) -> list[str]:
    """What the database keeps of a recovery code: an HMAC-SHA256 of it under each field
    encryption key (newest first, so codes made before a key rotation still work), 16 hex digits
    (django-otp's token column). A copy of the database alone gives nothing to sign in with: the
    keys are not in it, and without them ten 40-bit codes cannot be guessed from their hashes."""
    text = normalise(code).encode()
    return [
        hmac.new(key.encode(), text, hashlib.sha256).hexdigest()[:16]
        for key in settings.FIELD_ENCRYPTION_KEYS
    ]
