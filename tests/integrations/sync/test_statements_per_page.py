"""A page costs the same number of SQL statements whatever its size (bulk writes)."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.datasets import suppliers
from integrations.datasets.mirroring import write_page
from integrations.mirror_writer import MirrorWriter
from integrations.models import Run, Schedule, Supplier


class FakeClient:
    request_count = 1


def _nodes(count, *, start=1, description="Leverandør AS"):
    return [
        {
            "dbId": start + i,
            "code": str(20000 + i),
            "description": f"{description} {i}",
            "email": f"post{i}@example.no",
            "bankAccount": "15030112345",
            "company": {"companyNumber": "923609016"},
            "ownerDbId": 10001,
            "modifiedAt": "2026-11-20T10:15:00+01:00",
        }
        for i in range(count)
    ]


def _running_run(connection):
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    return Run.objects.create(
        connection=connection,
        schedule=schedule,
        dataset="suppliers",
        status=Run.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )


def _statements(connection, nodes, *, track):
    run = _running_run(connection)
    writer = MirrorWriter(Supplier, connection_id=connection.pk, fields=suppliers.MAPPING.fields)
    with CaptureQueriesContext(db) as queries:
        write_page(
            run=run,
            client=FakeClient(),
            writer=writer,
            mapping=suppliers.MAPPING,
            nodes=nodes,
            track=track,
        )
    Run.objects.filter(pk=run.pk).update(status=Run.Status.SUCCEEDED)
    return len(queries)


@pytest.mark.parametrize("track", [False, True], ids=["incremental", "full"])
def test_it_writes_a_page_in_a_constant_number_of_statements(connection, track):
    small = _statements(connection, _nodes(10, start=1), track=track)
    large = _statements(connection, _nodes(10_000, start=100_000), track=track)

    assert small == large <= 4
    assert Supplier.objects.filter(connection=connection).count() == 10_010


def test_it_writes_mixed_pages_in_a_constant_number_of_statements(connection):
    _statements(connection, _nodes(5_000, start=1), track=False)

    # Each page: a third new, a third changed, a third unchanged.
    def mixed(size):
        old = _nodes(size, start=1)
        return (
            old[: size // 3]
            + _nodes(size - size // 3 * 2, start=1 + size // 3, description="Endret")
            + _nodes(size // 3, start=200_000 + size)
        )

    small = _statements(connection, mixed(30), track=True)
    large = _statements(connection, mixed(4_500), track=True)

    assert small == large <= 4


def test_it_counts_the_statements_of_an_unchanged_page_without_writes(connection):
    nodes = _nodes(2_000)
    _statements(connection, nodes, track=False)
    run = _running_run(connection)
    writer = MirrorWriter(Supplier, connection_id=connection.pk, fields=suppliers.MAPPING.fields)

    with CaptureQueriesContext(db) as queries:
        write_page(
            run=run, client=FakeClient(), writer=writer, mapping=suppliers.MAPPING, nodes=nodes
        )

    sql = [q["sql"].split()[0].upper() for q in queries]
    # The existing hashes; the run's counts wait for the next beat or the run's end.
    assert sql == ["SELECT"]
    assert run.unchanged == 2_000 and run.created == run.updated == 0
