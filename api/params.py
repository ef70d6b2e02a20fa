"""Query parameters every list in the API takes the same way: `updated_since` and `cursor`.

One type each, so the read API and the invoice status feed accept and refuse the same values.
"""

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from api.cursors import MAX_CURSOR_LENGTH, InvalidCursor, decode_cursor

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


# A date-time with an offset (RFC 3339), in UTC once parsed; None when absent.
UpdatedSince = Annotated[datetime | None, BeforeValidator(rfc3339), AfterValidator(in_utc)]

# An opaque `next_cursor` this API returned; None when absent (or empty).
Cursor = Annotated[
    Annotated[str, Field(max_length=MAX_CURSOR_LENGTH)] | None, AfterValidator(valid_cursor)
]
