"""`EncryptedTokenField`: a write-only secret column.

Values come back from the database as `Secret`, whose repr and str never show the token; only
`Secret.reveal()` decrypts. Because Fernet ciphertexts are randomised, equality lookups cannot
work, so every lookup but `isnull` is refused instead of silently matching nothing.
"""

from django.core.exceptions import FieldError
from django.db import models

from integrations import crypto


class Secret:
    """A token held encrypted in memory too; decrypted only when `reveal()` is called."""

    __slots__ = ("_ciphertext",)

    def __init__(self, ciphertext: str):
        self._ciphertext = ciphertext

    @classmethod
    def from_plaintext(cls, plaintext: str) -> "Secret":
        return cls(crypto.encrypt(plaintext))

    @property
    def ciphertext(self) -> str:
        return self._ciphertext

    def reveal(self) -> str:
        return crypto.decrypt(self._ciphertext)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other):  # compares ciphertexts only: equal secrets may still differ
        return isinstance(other, Secret) and other._ciphertext == self._ciphertext

    def __hash__(self):
        return hash(self._ciphertext)

    def __reduce__(self):
        # Pickling (task arguments, caches) must never carry a token, not even encrypted.
        raise TypeError("Secrets cannot be pickled; pass the connection id instead.")


class EncryptedTokenField(models.TextField):
    description = "An API token, encrypted with FIELD_ENCRYPTION_KEYS"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return Secret(value)

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        return Secret.from_plaintext(str(value))

    def get_prep_value(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, Secret):
            return value.ciphertext
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"Encrypted tokens cannot be looked up with '{lookup_name}'; only 'isnull' works."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, name):
        raise FieldError("Encrypted tokens support no transforms.")

    def value_to_string(self, obj):
        # Serialisation (dumpdata, exports) never writes the token, not even encrypted.
        return ""
