"""Xledger's date-times, and the rule for incremental reads, in one place.

Xledger stores `modifiedAt` in CET/CEST [known]; answers may or may not carry an offset. We read
a value without offset as Oslo time (in the repeated autumn hour, as its first, earlier pass: a
watermark may be early, never late), keep every watermark as an aware UTC datetime in our
database, and send `modifiedAt_gte` the way Xledger's own sample does: `yyyy-MM-ddTHH:mm:ss`,
CET/CEST wall time, no offset [known].

A server comparing wall times sees the clock jump back an hour when summer time ends: a record
changed at 02:05 in the second pass sorts before one changed at 02:40 in the first. So the window
start we send is the earliest wall time any moment after it can show (`modified_since`).
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

XLEDGER_TZ = ZoneInfo("Europe/Oslo")

# Xledger's own sample subtracts 15 minutes from the last run [known]: a record saved while the
# previous run was reading may carry a modifiedAt just before that run's watermark.
INCREMENTAL_OVERLAP = timedelta(minutes=15)


def parse_datetime(value) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=XLEDGER_TZ)


def parse_date(value) -> date | None:
    if value in (None, ""):
        return None
    return date.fromisoformat(str(value)[:10])


WALL_FORMAT = "%Y-%m-%dT%H:%M:%S"  # [known] Xledger's sample: no offset, no Z
# Longest backward jump of Oslo's wall clock (the end of summer time).
LONGEST_FALL_BACK = timedelta(hours=1)


def wall_time(moment: datetime) -> datetime:
    """The naive Oslo wall time of an aware moment."""
    return moment.astimezone(XLEDGER_TZ).replace(tzinfo=None)


def modified_since(watermark: datetime) -> str:
    """The `modifiedAt_gte` to send after a run that reached `watermark`.

    The window starts `INCREMENTAL_OVERLAP` before the watermark. A moment after that start can
    show an earlier wall time only if the clock falls back within the hour after it, and then
    by the jump: `wall(start + 1 h) - 1 h` is that earliest wall time (and is `wall(start)`
    itself when no clock change is near), so the smaller of the two is sent.
    """
    start = watermark.astimezone(UTC) - INCREMENTAL_OVERLAP  # real time, not wall-clock sums
    earliest = min(wall_time(start), wall_time(start + LONGEST_FALL_BACK) - LONGEST_FALL_BACK)
    return earliest.strftime(WALL_FORMAT)


BEGINNING = "2000-01-01T00:00:00"  # the window of an incremental read with no watermark yet
