"""Keyset pagination over (updated_at, id), for lists that change while a client pages through them.

Rows are returned oldest change first. A row that changes while the client is paging gets a newer
`updated_at` and so moves *ahead* of the cursor: it is returned again on a later page, never
skipped. The cursor is opaque to clients (base64 of the last row's key), so its shape can change.
"""

import base64
import binascii
from datetime import UTC, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

MAX_CURSOR_LENGTH = 200


class InvalidCursor(ValueError):
    pass


def encode_cursor(updated_at: datetime, pk: int) -> str:
    raw = f"{updated_at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("Cursor is too long.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.split("|")
        updated_at, pk = datetime.fromisoformat(stamp), int(pk)
        if timezone.is_naive(updated_at) or not 0 < pk < 2**63:
            raise ValueError
        updated_at = updated_at.astimezone(UTC)  # PostgreSQL refuses offsets beyond ±15:59
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise InvalidCursor("Not a cursor this API returned.") from exc
    return updated_at, pk


def keyset_page(queryset: QuerySet, *, cursor: str | None, limit: int, fields=()):
    """One page of `queryset` after `cursor`: (rows as dicts, next cursor or None). One query."""
    if cursor:
        updated_at, pk = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(updated_at__gt=updated_at) | Q(updated_at=updated_at, pk__gt=pk)
        )
    rows = list(
        queryset.order_by("updated_at", "pk").values("pk", "updated_at", *fields)[: limit + 1]
    )
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]["updated_at"], rows[-1]["pk"])
