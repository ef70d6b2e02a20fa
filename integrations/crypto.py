"""Encryption of Xledger API tokens at rest: MultiFernet over FIELD_ENCRYPTION_KEYS, newest first.

The keys are independent of SECRET_KEY. A token that none of the keys can decrypt raises
`TokenDecryptionError` instead of returning garbage, so a deployment with the wrong keys fails
loudly the first time it needs a token.
"""

import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TokenDecryptionError(Exception):
    """A stored token could not be decrypted with any key in FIELD_ENCRYPTION_KEYS."""


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: no key to encrypt tokens with.")
    try:
        fernets = [Fernet(key.encode() if isinstance(key, str) else key) for key in keys]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; make one with `manage.py generate_encryption_key`)."
        ) from exc
    return MultiFernet(fernets), fernets[0]


def keyring() -> tuple[MultiFernet, Fernet]:
    """(all keys, newest key) for the current settings."""
    return _fernets(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    multi, _ = keyring()
    return multi.encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    multi, _ = keyring()
    try:
        return multi.decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError(
            "A stored API token cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS. "
            "The keys are wrong or an old key was removed before `manage.py rotate_token_keys` ran."
        ) from None


def is_under_newest_key(ciphertext: str) -> bool:
    _, newest = keyring()
    try:
        newest.decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the newest key (raises TokenDecryptionError when no key fits)."""
    multi, _ = keyring()
    try:
        return multi.rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError(
            "A stored API token cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS."
        ) from None


def fingerprint(plaintext: str) -> str:
    """A short, non-reversible label to tell tokens apart on screen (never the token itself)."""
    digest = hashlib.sha256(plaintext.encode()).hexdigest()
    return f"sha256:{digest[:12]}"
