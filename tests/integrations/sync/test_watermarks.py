"""The incremental rule: Xledger's CET modifiedAt, our UTC watermark, a 15-minute overlap, and
both summer-time transitions."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.xledger import timestamps

# Both transitions of several years, as UTC instants (Europe/Oslo: last Sunday of March and of
# October, 01:00 UTC).
TRANSITIONS = [
    datetime(year, month, day, 1, 0, tzinfo=UTC)
    for year, month, day in [
        (2024, 3, 31), (2024, 10, 27), (2025, 3, 30), (2025, 10, 26),
        (2026, 3, 29), (2026, 10, 25), (2027, 3, 28), (2027, 10, 31),
        (2028, 3, 26), (2028, 10, 29),
    ]
]  # fmt: skip


def wall(moment: datetime) -> str:
    """How a server keeping CET/CEST wall time writes a moment (and compares it: as text)."""
    return timestamps.wall_time(moment).strftime(timestamps.WALL_FORMAT)


def test_it_reads_xledger_times_with_or_without_offset():
    with_offset = timestamps.parse_datetime("2026-11-25T14:30:00+01:00")
    naive_cet = timestamps.parse_datetime("2026-11-25T14:30:00")  # taken as Oslo time
    assert with_offset == naive_cet == datetime(2026, 11, 25, 13, 30, tzinfo=UTC)
    summer = timestamps.parse_datetime("2026-07-01T14:30:00")
    assert summer == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)  # CEST


def test_it_asks_from_the_watermark_minus_the_overlap_in_oslo_time():
    watermark = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)
    since = timestamps.modified_since(watermark)
    assert since == "2026-11-25T14:15:00"  # CET wall time, no offset, as Xledger's sample sends
    assert timestamps.parse_datetime(since) == watermark - timedelta(minutes=15)


def test_it_reads_the_whole_repeated_hour_when_summer_time_ends():
    # 02:40 CEST, then 25 real minutes later 02:05 CET (the second pass of the same hour).
    first = datetime(2026, 10, 25, 0, 40, tzinfo=UTC)
    later = first + timedelta(minutes=25)
    assert (wall(first), wall(later)) == ("2026-10-25T02:40:00", "2026-10-25T02:05:00")
    watermark = timestamps.parse_datetime(wall(first))  # what the run read back
    since = timestamps.modified_since(watermark)
    assert wall(later) >= since  # the later change is inside the next window


@settings(max_examples=400, deadline=None)
@given(
    transition=st.sampled_from(TRANSITIONS),
    offset=st.integers(min_value=-3 * 3600, max_value=3 * 3600),
    delay=st.integers(min_value=0, max_value=4 * 3600),
    oslo=st.booleans(),
)
def test_no_change_after_the_window_start_is_missed_around_either_transition(
    transition, offset, delay, oslo
):
    """For a watermark near a transition (frozen clock: nothing here reads the real time), every
    moment after the window's start has a wall time the server finds at or after `since`."""
    watermark = transition + timedelta(seconds=offset)
    if oslo:  # a watermark read back from Xledger is Oslo-aware, one from our database UTC
        watermark = watermark.astimezone(timestamps.XLEDGER_TZ)
    since = timestamps.modified_since(watermark)
    change = watermark.astimezone(UTC) - timestamps.INCREMENTAL_OVERLAP + timedelta(seconds=delay)
    assert wall(change) >= since
    # ... and the window never reaches back more than the overlap plus one hour.
    start = watermark.astimezone(UTC) - timestamps.INCREMENTAL_OVERLAP
    assert timestamps.parse_datetime(since) >= start - timedelta(hours=2)


@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2029, 1, 1)))
def test_a_watermark_read_back_from_wall_time_is_never_late(moment):
    """A modifiedAt written as wall time and read back (the repeated hour as its first pass)
    is never after the real moment: the next window can only start earlier, never later."""
    moment = moment.replace(tzinfo=UTC)
    assert timestamps.parse_datetime(wall(moment)) <= moment
