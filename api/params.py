"""Values the API takes the same way everywhere: the ids in a path, `updated_since` and `cursor`
on every list, and text in a body.

One type each, so the read API and the invoice intake accept and refuse the same values.
"""

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from api.cursors import MAX_CURSOR_LENGTH, InvalidCursor, decode_cursor

# The largest id or Xledger dbId the database can hold: a larger one is a 422, never a 500.
MAX_DB_ID = 2**63 - 1

CustomerId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
ConnectionId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]

# RFC 3339, as the OpenAPI `date-time` format says: with a date, a time and an offset. A time
# without an offset would be ambiguous (UTC or Oslo?), and pydantic would take "1700000000" or
# "0.5" as seconds since 1970; all are refused.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")


def rfc3339(value):
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC3339.fullmatch(value.upper()):
        raise ValueError("Must be a date-time with an offset, such as 2026-11-25T13:00:00Z.")
    return value.upper()


def in_utc(value):
    """PostgreSQL refuses offsets beyond ±15:59, which RFC 3339 allows: compare in UTC."""
    if value is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("Date-time out of range.") from None


def valid_cursor(value):
    if value:
        try:
            decode_cursor(value)
        except InvalidCursor as exc:
            raise ValueError(str(exc)) from None
    return value or None


# C0 control characters and DEL, except tab, line feed and carriage return. PostgreSQL cannot
# store NUL in text at all, and none of the others belongs in an invoice or a code.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# An unpaired surrogate: JSON can escape one ("\\ud800"), but it is no character, and no
# database driver of ours can store it.
UNPAIRED_SURROGATE = re.compile("[\ud800-\udfff]")


def no_control_characters(value):
    if CONTROL_CHARACTERS.search(value):
        raise ValueError(
            "Must not contain control characters such as NUL (tab and line breaks are allowed)."
        )
    if UNPAIRED_SURROGATE.search(value):
        raise ValueError(
            "Must not contain an unpaired surrogate escape such as \\ud800 (not a character)."
        )
    return value


# A string without control characters or unpaired surrogates: every text field of a request
# body is one, so a NUL is a 422 on the field, on every database, before anything is stored.
Text = Annotated[str, AfterValidator(no_control_characters)]

# A date-time with an offset (RFC 3339), in UTC once parsed; None when absent.
UpdatedSince = Annotated[datetime | None, BeforeValidator(rfc3339), AfterValidator(in_utc)]

# An opaque `next_cursor` this API returned; None when absent (or empty).
Cursor = Annotated[
    Annotated[str, Field(max_length=MAX_CURSOR_LENGTH)] | None, AfterValidator(valid_cursor)
]
