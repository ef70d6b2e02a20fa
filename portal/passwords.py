"""A password validator for Norwegians: Django's CommonPasswordValidator knows English passwords
("password1"), not Norwegian ones ("passord123", "Sommer2025").

The list (portal/data/common_passwords_nb.txt) holds common Norwegian passwords and the words they
are made of; a password is refused when it is one of them, or one of them with digits or signs
added before or after: people make "sommer" into "Sommer2025!" to pass a rule, and so does every
password-guessing list.
"""

import re
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LIST = Path(__file__).resolve().parent / "data" / "common_passwords_nb.txt"

_ADDED = re.compile(r"^[\W\d_]+|[\W\d_]+$")  # digits and signs at either end
_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})  # "påske" is also typed "paske"


def _normal(text: str) -> str:
    return text.strip().lower().translate(_LETTERS)


@cache
def common_passwords(path: Path = LIST) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(_normal(line) for line in lines if line.strip() and not line.startswith("#"))


class NorwegianCommonPasswordValidator:
    """In AUTH_PASSWORD_VALIDATORS, after Django's own. The messages are Django's, so they come
    translated by Django's catalogues."""

    def __init__(self, password_list_path: str | Path = LIST):
        self.path = Path(password_list_path)

    def is_common(self, password: str) -> bool:
        words = common_passwords(self.path)
        password = _normal(password)
        return password in words or _ADDED.sub("", password) in words

    def validate(self, password, user=None):
        if self.is_common(password):
            raise ValidationError(_("This password is too common."), code="password_too_common")

    def get_help_text(self):
        return _("Your password can’t be a commonly used password.")
