"""Due times sit on a fixed grid per interval with a stable per-connection offset."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from integrations.models import Schedule
from integrations.models.schedules import grid_offset_seconds

T0 = datetime(2026, 11, 25, 13, 0, 7, tzinfo=UTC)


def _schedule(connection_id=42, dataset="suppliers", interval=None):
    return Schedule(connection_id=connection_id, dataset=dataset, interval_override=interval)


def test_it_puts_due_times_on_the_grid_without_drift():
    schedule = _schedule()
    due = schedule.next_due_after(T0)
    assert T0 < due <= T0 + timedelta(minutes=30)
    # However late a run starts or long it takes, the next one is one interval later.
    assert schedule.next_due_after(due) == due + timedelta(minutes=30)
    assert schedule.next_due_after(due + timedelta(minutes=7, seconds=59)) == due + timedelta(
        minutes=30
    )
    assert schedule.next_due_after(due - timedelta(seconds=1)) == due


def test_it_keeps_a_connection_s_offset_stable():
    assert grid_offset_seconds(42, timedelta(minutes=30)) == grid_offset_seconds(
        42, timedelta(minutes=30)
    )
    assert _schedule(42).next_due_after(T0) == _schedule(42).next_due_after(T0)
    # The same offset for every dataset of a connection with the same interval.
    assert (
        _schedule(42, "suppliers").offset
        == _schedule(42, "dimensions", timedelta(minutes=30)).offset
    )


def test_it_spreads_2000_customers_over_the_interval():
    minutes = Counter(_schedule(pk).next_due_after(T0).minute % 30 for pk in range(1, 2001))
    assert len(minutes) == 30  # every minute of the 30-minute interval is used
    assert max(minutes.values()) < 2000 / 30 * 1.6  # and none is crowded


def test_it_retries_sooner_with_backoff_after_failures():
    schedule = _schedule()
    regular = schedule.next_due_after(T0)
    schedule.failure_streak = 1
    assert schedule.retry_after_failure(T0) == min(T0 + timedelta(minutes=1), regular)
    schedule.failure_streak = 3
    assert schedule.retry_after_failure(T0) == min(T0 + timedelta(minutes=4), regular)
    schedule.failure_streak = 30
    assert schedule.retry_after_failure(T0) == regular  # never later than the grid
