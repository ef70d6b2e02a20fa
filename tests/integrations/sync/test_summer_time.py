"""Incremental supplier runs across the hour repeated when summer time ends, against a sandbox
whose clock is frozen there (so nothing depends on today's date or the wall clock)."""

from datetime import UTC, datetime

import pytest

from integrations.models import Run, Supplier
from integrations.xledger.sandbox import Sandbox

from .conftest import sync_now

BEFORE = datetime(2026, 10, 25, 0, 20, tzinfo=UTC)  # 02:20 CEST
SUMMER = datetime(2026, 10, 25, 0, 40, tzinfo=UTC)  # 02:40 CEST
WINTER = datetime(2026, 10, 25, 1, 5, tzinfo=UTC)  # 02:05 CET: the same hour, second pass


@pytest.fixture
def sandbox():
    return Sandbox(seed=7, suppliers=50, clients=3, burst_limit=False, now=BEFORE)


def _description(connection, db_id):
    return Supplier.objects.get(connection=connection, db_id=db_id).description


def test_it_misses_no_change_in_the_repeated_hour(connection, sandbox):
    """A change at 02:40 summer time, then one 25 real minutes later at 02:05 winter time: both
    are read, whether the server compares instants ("ours") or CET wall times ("xledger")."""
    sync_now(connection, "suppliers", full=True)
    ids = [r["dbId"] for r in sandbox.records("suppliers")]
    sandbox.set_now(SUMMER)
    sandbox.change_record("suppliers", ids[1], description="Sommertid AS")
    first = sync_now(connection, "suppliers")
    sandbox.set_now(WINTER)
    sandbox.change_record("suppliers", ids[2], description="Vintertid AS")

    second = sync_now(connection, "suppliers")

    assert first.status == second.status == Run.Status.SUCCEEDED, second.error_message
    assert not second.full and second.requests == 1
    assert _description(connection, ids[1]) == "Sommertid AS"
    assert _description(connection, ids[2]) == "Vintertid AS"
