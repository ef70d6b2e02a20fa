"""Records of client entities out of scope are not stored; the owner's always are."""

from integrations.models import ClientEntity, Supplier

from .conftest import sync_now


def test_it_keeps_out_of_scope_entities_out_of_the_mirror(connection, sandbox):
    out = sandbox.client_entity_ids[0]
    ClientEntity.objects.filter(connection=connection, db_id=out).update(in_scope=False)
    ClientEntity.objects.filter(connection=connection, is_owner=True).update(in_scope=False)

    run = sync_now(connection, "suppliers", full=True)

    records = sandbox.records("suppliers")
    kept = {r["dbId"] for r in records if r["ownerDbId"] != out}
    assert run.fetched == len(records) and run.created == len(kept)
    mirrored = set(Supplier.objects.filter(connection=connection).values_list("db_id", flat=True))
    assert mirrored == kept
    owners = set(
        Supplier.objects.filter(connection=connection).values_list("owner_db_id", flat=True)
    )
    assert sandbox.owner_db_id in owners  # the owner entity is kept even if marked out


def test_it_tombstones_an_entity_taken_out_of_scope(connection, sandbox, settings):
    settings.MASS_DELETION_THRESHOLD = 0.5  # a whole entity is more than the default 20 %
    sync_now(connection, "suppliers", full=True)
    out = sandbox.client_entity_ids[2]
    ClientEntity.objects.filter(connection=connection, db_id=out).update(in_scope=False)
    theirs = sum(1 for r in sandbox.records("suppliers") if r["ownerDbId"] == out)

    run = sync_now(connection, "suppliers", full=True)

    assert 0 < run.deleted == theirs
