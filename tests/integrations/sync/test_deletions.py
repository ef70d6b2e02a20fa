"""Full syncs tombstone what Xledger no longer has, unless it is a suspiciously large share."""

from django.test import override_settings

from integrations.models import Issue, Run, Supplier
from integrations.services import mass_deletion_confirm, run_execute

from .conftest import sync_now


def test_it_tombstones_records_a_full_sync_did_not_see(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    ids = [r["dbId"] for r in sandbox.records("suppliers")]
    for db_id in (ids[0], ids[50], ids[-1]):  # first, middle and last: every range is checked
        sandbox.delete_record("suppliers", db_id)

    run = sync_now(connection, "suppliers", full=True)

    assert run.status == Run.Status.SUCCEEDED and run.deleted == 3
    gone = Supplier.objects.filter(connection=connection, is_deleted=True)
    assert set(gone.values_list("db_id", flat=True)) == {ids[0], ids[50], ids[-1]}
    assert Supplier.objects.filter(connection=connection).count() == len(ids)  # never dropped


def test_it_tombstones_across_several_pages(connection, sandbox, settings):

    settings.SYNC_PAGE_SIZE = 30
    sync_now(connection, "suppliers", full=True)
    ids = [r["dbId"] for r in sandbox.records("suppliers")]
    sandbox.delete_record("suppliers", ids[30])  # the first record of a later page
    sandbox.delete_record("suppliers", ids[29])  # the last of an earlier one

    run = sync_now(connection, "suppliers", full=True)

    assert run.pages > 5 and run.deleted == 2


@override_settings(MASS_DELETION_THRESHOLD=0.20)
def test_it_holds_a_mass_deletion_for_a_person(connection, sandbox, superuser):
    sync_now(connection, "suppliers", full=True)
    ids = [r["dbId"] for r in sandbox.records("suppliers")]
    for db_id in ids[: len(ids) // 2]:
        sandbox.delete_record("suppliers", db_id)

    run = sync_now(connection, "suppliers", full=True)
    again = sync_now(connection, "suppliers", full=True)

    assert run.status == again.status == Run.Status.PARTIAL
    assert run.deleted == 0 and run.error_kind == "mass_deletion"
    assert not Supplier.objects.filter(connection=connection, is_deleted=True).exists()
    issue = Issue.objects.get(connection=connection, kind=Issue.Kind.MASS_DELETION)
    assert issue.dataset == "suppliers" and issue.occurrences == 2
    assert issue.data["missing"] == len(ids) // 2

    confirmed_run = mass_deletion_confirm(issue=issue, by=superuser)
    run_execute(run_id=confirmed_run.pk)

    confirmed_run.refresh_from_db()
    assert confirmed_run.deleted == len(ids) // 2
    assert confirmed_run.status == Run.Status.SUCCEEDED
    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED


def test_it_restores_a_tombstoned_record_that_comes_back(connection, sandbox):
    sync_now(connection, "suppliers", full=True)
    db_id = sandbox.records("suppliers")[10]["dbId"]
    Supplier.objects.filter(connection=connection, db_id=db_id).update(is_deleted=True)

    run = sync_now(connection, "suppliers", full=True)

    assert run.updated == 1
    assert not Supplier.objects.get(connection=connection, db_id=db_id).is_deleted
