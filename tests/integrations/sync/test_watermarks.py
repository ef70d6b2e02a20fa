"""The incremental rule: Xledger's CET modifiedAt, our UTC watermark, a 15-minute overlap."""

from datetime import UTC, datetime, timedelta

from integrations.xledger import timestamps


def test_it_reads_xledger_times_with_or_without_offset():
    with_offset = timestamps.parse_datetime("2026-11-25T14:30:00+01:00")
    naive_cet = timestamps.parse_datetime("2026-11-25T14:30:00")  # taken as Oslo time
    assert with_offset == naive_cet == datetime(2026, 11, 25, 13, 30, tzinfo=UTC)
    summer = timestamps.parse_datetime("2026-07-01T14:30:00")
    assert summer == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)  # CEST


def test_it_asks_from_the_watermark_minus_the_overlap_in_oslo_time():
    watermark = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)
    since = timestamps.modified_since(watermark)
    assert since == "2026-11-25T14:15:00+01:00"
    assert timestamps.parse_datetime(since) == watermark - timedelta(minutes=15)
