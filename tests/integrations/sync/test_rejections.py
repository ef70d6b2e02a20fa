"""A record that cannot be mapped is rejected with its reason; the rest of the page is saved."""

from integrations.models import Run, Supplier

from .conftest import sync_now


def test_it_rejects_one_record_and_saves_the_rest(connection, sandbox):
    bad = sandbox.add_record("suppliers", code="X" * 150, description="Alt for lang kode AS")

    run = sync_now(connection, "suppliers", full=True)

    records = sandbox.records("suppliers")
    assert run.status == Run.Status.PARTIAL
    assert run.rejected == 1 and run.created == len(records) - 1
    assert run.rejections[0]["db_id"] == bad
    assert "code is longer than 100" in run.rejections[0]["reason"]
    assert not Supplier.objects.filter(db_id=bad).exists()


def test_it_never_tombstones_a_rejected_record(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    victim = sandbox.records("suppliers")[3]["dbId"]
    sandbox.change_record("suppliers", victim, code="Y" * 150)

    run = sync_now(connection, "suppliers", full=True)

    assert run.rejected == 1 and run.deleted == 0
    assert not Supplier.objects.get(connection=connection, db_id=victim).is_deleted
