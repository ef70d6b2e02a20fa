"""The supplier register: full and incremental runs against the sandbox."""

from integrations.models import Issue, Run, Schedule, Supplier

from .conftest import sync_now


def _mirror(connection):
    return {s.db_id: s for s in Supplier.objects.filter(connection=connection, is_deleted=False)}


def test_it_mirrors_every_supplier_on_a_full_run(connection, sandbox):
    run = sync_now(connection, "suppliers", full=True)

    expected = sandbox.records("suppliers")
    assert run.status == Run.Status.SUCCEEDED, run.error_message
    assert (run.fetched, run.created, run.updated, run.unchanged) == (
        len(expected),
        len(expected),
        0,
        0,
    )
    mirror = _mirror(connection)
    assert set(mirror) == {r["dbId"] for r in expected}
    first = expected[0]
    row = mirror[first["dbId"]]
    assert (row.code, row.description, row.owner_db_id) == (
        first["code"],
        first["description"],
        first["ownerDbId"],
    )
    assert row.bank_account == (first["bankAccount"] or "")
    assert run.requests == 1 and run.pages == 1


def test_it_does_not_rewrite_unchanged_suppliers(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    before = dict(Supplier.objects.filter(connection=connection).values_list("db_id", "updated_at"))

    run = sync_now(connection, "suppliers", full=True)

    assert (run.created, run.updated, run.unchanged) == (0, 0, len(before))
    after = dict(Supplier.objects.filter(connection=connection).values_list("db_id", "updated_at"))
    assert after == before


def test_it_reads_changes_and_deletions_incrementally(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    ids = [r["dbId"] for r in sandbox.records("suppliers")]
    sandbox.change_record("suppliers", ids[3], description="Endret Leverandør AS")
    sandbox.delete_record("suppliers", ids[5])
    new_id = sandbox.add_record("suppliers", code="99999", description="Ny Leverandør AS")

    run = sync_now(connection, "suppliers")

    assert not run.full
    assert run.status == Run.Status.SUCCEEDED, run.error_message
    assert (run.created, run.updated, run.deleted) == (1, 1, 1)
    assert run.requests == 1
    mirror = _mirror(connection)
    assert mirror[ids[3]].description == "Endret Leverandør AS"
    assert ids[5] not in mirror and new_id in mirror
    tombstone = Supplier.objects.get(connection=connection, db_id=ids[5])
    assert tombstone.is_deleted and tombstone.deleted_at is not None


def test_it_costs_one_request_when_nothing_changed(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    sync_now(connection, "suppliers")  # the overlap re-reads recent changes once
    before = sandbox.request_count

    run = sync_now(connection, "suppliers")

    assert sandbox.request_count - before == 1
    assert run.requests == 1 and run.created == run.updated == run.deleted == 0


def test_it_moves_the_watermark_and_delta_cursor_only_on_success(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    mark, cursor = schedule.watermark, schedule.delta_cursor
    assert mark is not None
    sandbox.add_record("suppliers", code="88888", description="Etter AS")
    sandbox.set_fault("http_500")

    run = sync_now(connection, "suppliers")

    assert run.status == Run.Status.FAILED
    schedule.refresh_from_db()
    assert (schedule.watermark, schedule.delta_cursor) == (mark, cursor)
    assert schedule.failure_streak == 1

    sandbox.clear_faults()
    run = sync_now(connection, "suppliers")
    schedule.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED and run.created == 1
    assert schedule.watermark > mark and schedule.delta_cursor != cursor
    assert schedule.failure_streak == 0


def test_the_next_incremental_run_reflects_every_change_deletion_and_addition(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    sync_now(connection, "suppliers")  # the overlap re-reads recent changes once
    ids = [r["dbId"] for r in sandbox.records("suppliers")]
    changed, deleted = ids[:50], ids[50:70]
    for n, db_id in enumerate(changed):
        sandbox.change_record("suppliers", db_id, description=f"Endret {n} AS")
    for db_id in deleted:
        sandbox.delete_record("suppliers", db_id)
    added = [
        sandbox.add_record("suppliers", code=f"N{n:03}", description=f"Ny {n} AS")
        for n in range(30)
    ]
    before = sandbox.request_count

    run = sync_now(connection, "suppliers")

    assert run.status == Run.Status.SUCCEEDED, run.error_message
    assert not run.full and sandbox.request_count - before == run.requests == 1
    assert (run.created, run.updated, run.deleted) == (30, 50, 20)
    mirror = _mirror(connection)
    assert all(mirror[db_id].description == f"Endret {n} AS" for n, db_id in enumerate(changed))
    assert not set(deleted) & set(mirror) and set(added) <= set(mirror)
    assert set(mirror) == {r["dbId"] for r in sandbox.records("suppliers")}


def test_deltas_that_delete_most_of_the_register_are_held_for_a_person(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    ids = [r["dbId"] for r in sandbox.records("suppliers")]
    gone = ids[: len(ids) * 6 // 10]
    for db_id in gone:
        sandbox.delete_record("suppliers", db_id)

    run = sync_now(connection, "suppliers")  # incremental: the deletions come as deltas

    assert not run.full and run.status == Run.Status.PARTIAL
    assert run.deleted == 0 and run.error_kind == "mass_deletion"
    assert not Supplier.objects.filter(connection=connection, is_deleted=True).exists()
    issue = Issue.objects.get(connection=connection, kind=Issue.Kind.MASS_DELETION)
    assert issue.data["missing"] == len(gone) and "deltas" in issue.detail
