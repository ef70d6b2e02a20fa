"""Sandbox time: real time by default, frozen or moved by tests.

Everything time-dependent in the sandbox (modifiedAt of changed records, delta retention, the
burst window, ``resetAt`` of exhausted credits) reads this clock, so a test can jump past a
limit instead of sleeping.
"""

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Xledger keeps modifiedAt in CET/CEST; the sandbox answers Oslo local time with its offset [ours].
XLEDGER_TZ = ZoneInfo("Europe/Oslo")


class Clock:
    def __init__(self, now: datetime | None = None):
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        if now is not None:
            self.set(now)

    def now(self) -> datetime:
        frozen = self._frozen
        return frozen if frozen is not None else datetime.now(UTC)

    def timestamp(self) -> float:
        frozen = self._frozen
        return frozen.timestamp() if frozen is not None else time.time()

    def set(self, now: datetime | None) -> None:
        """Freeze the clock at ``now`` (naive means UTC); ``None`` returns to real time."""
        if now is not None and now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        with self._lock:
            self._frozen = now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._frozen = self.now() + timedelta(seconds=seconds)


def format_datetime(ts: float) -> str:
    """How the sandbox writes a DateTime: Oslo local time with offset, second precision."""
    return datetime.fromtimestamp(int(ts), XLEDGER_TZ).isoformat()


WALL_FORMAT = "%Y-%m-%dT%H:%M:%S"  # yyyy-MM-ddTHH:mm:ss, as Xledger's own sample writes it


def format_wall_time(ts: float) -> str:
    """CET/CEST wall time with no offset (dialects with ``datetime_offsets=False``)."""
    return datetime.fromtimestamp(int(ts), XLEDGER_TZ).strftime(WALL_FORMAT)


def parse_wall_time(value) -> str:
    """A filter value as wall time for naive comparison; a value with an offset is refused."""
    text = str(value).strip()
    dt = datetime.fromisoformat(text)  # ValueError for anything else
    if dt.tzinfo is not None or text.upper().endswith("Z"):
        raise ValueError("offset")
    return dt.isoformat()


def parse_datetime(value) -> float:
    """Read a DateTime argument; a value without offset is taken as Oslo time like Xledger's."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=XLEDGER_TZ)
    return dt.timestamp()
