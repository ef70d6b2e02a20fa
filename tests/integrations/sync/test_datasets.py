"""Currencies, dimensions, VAT codes, accounts and fixed assets against the sandbox."""

from decimal import Decimal

import pytest

from integrations.models import (
    Account,
    ClientEntity,
    Currency,
    FixedAsset,
    ObjectKind,
    ObjectValue,
    Run,
    VatCode,
)
from integrations.xledger import timestamps
from portal.models import Customer

from .conftest import kind_keys, sync_now


def _live(model, connection):
    return model.objects.filter(connection=connection, is_deleted=False)


def test_it_mirrors_currencies(connection, sandbox):
    run = sync_now(connection, "currencies")

    expected = {r["dbId"]: r for r in sandbox.records("currencies")}
    assert run.full and run.status == Run.Status.SUCCEEDED, run.error_message
    assert run.created == len(expected) and run.requests == 1
    assert {c.db_id: c.code for c in _live(Currency, connection)} == {
        k: v["code"] for k, v in expected.items()
    }
    again = sync_now(connection, "currencies")
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(expected))


def test_it_mirrors_only_the_chosen_dimensions(connection, sandbox):
    run = sync_now(connection, "dimensions", full=True)

    assert run.status == Run.Status.SUCCEEDED, run.error_message
    chosen = {int(key) for key in kind_keys(sandbox, "Prosjekt", "Avdeling")}
    assert set(_live(ObjectKind, connection).values_list("db_id", flat=True)) == chosen
    assert set(_live(ObjectKind, connection).values_list("code", flat=True)) == {
        str(db_id) for db_id in chosen
    }
    expected = {
        int(v["dbId"])
        for v in sandbox.records("objectValues")
        if int(v["objectKindDbId"]) in chosen
    }
    assert set(_live(ObjectValue, connection).values_list("db_id", flat=True)) == expected
    assert run.requests == 1  # the kinds and every kind's values, first pages in one document


def test_it_retires_a_dimension_no_longer_chosen(connection, sandbox):
    sync_now(connection, "dimensions", full=True)
    connection.selected_dimensions = kind_keys(sandbox, "Prosjekt", "Kostnadssted")
    connection.save()
    retired, added = (int(k) for k in kind_keys(sandbox, "Avdeling", "Kostnadssted"))

    run = sync_now(connection, "dimensions")  # incremental, but a newly chosen kind is read whole

    new_values = [v for v in sandbox.records("objectValues") if int(v["objectKindDbId"]) == added]
    assert run.created == len(new_values) + 1  # its values and the kind itself
    assert _live(ObjectValue, connection).filter(object_kind_db_id=added).count()

    full = sync_now(connection, "dimensions", full=True)
    assert full.status == Run.Status.SUCCEEDED, full.error_message
    assert not _live(ObjectKind, connection).filter(db_id=retired).exists()
    assert not _live(ObjectValue, connection).filter(object_kind_db_id=retired).exists()


def test_it_reads_vat_codes_with_their_rates(connection, sandbox):
    run = sync_now(connection, "vat_codes")

    assert run.status == Run.Status.SUCCEEDED, run.error_message
    (tax_kind,) = (int(k) for k in kind_keys(sandbox, "Mva-kode"))
    values = [v for v in sandbox.records("objectValues") if int(v["objectKindDbId"]) == tax_kind]
    setups: dict[int, list[dict]] = {}
    for setup in sandbox.records("taxTableSetups"):
        setups.setdefault(int(setup["objectValueDbId"]), []).append(setup)
    mirror = {v.db_id: v for v in _live(VatCode, connection)}
    assert set(mirror) == {int(v["dbId"]) for v in values}
    today = sandbox.clock.now().astimezone(timestamps.XLEDGER_TZ).date().isoformat()
    for db_id, code in mirror.items():
        rates = sorted(setups[db_id], key=lambda s: s["dateFrom"] or "")
        current = [s for s in rates if (s["dateFrom"] or "") <= today][-1]
        assert code.tax_percent == Decimal(str(current["taxPercent"])), code.code
        assert code.account_db_id == (
            int(current["accountDbId"]) if current["accountDbId"] is not None else None
        )
        assert [r["dateFrom"] for r in code.rates] == [s["dateFrom"] for s in rates]
    # Some code has a rate announced for later, and it is mirrored before it applies.
    assert any(r["dateFrom"] and r["dateFrom"] > today for c in mirror.values() for r in c.rates)
    assert run.requests == 1  # the setups and the values, first pages in one document


def test_it_mirrors_accounts_incrementally(connection, sandbox):
    sync_now(connection, "accounts", full=True)
    accounts = sandbox.records("accounts")
    assert _live(Account, connection).count() == len(accounts)
    sandbox.change_record("accounts", accounts[0]["dbId"], description="Ny beskrivelse")

    run = sync_now(connection, "accounts")

    assert not run.full and run.updated == 1 and run.requests == 1
    row = Account.objects.get(connection=connection, db_id=accounts[0]["dbId"])
    assert row.description == "Ny beskrivelse"
    assert row.posting == ("true" if accounts[0]["posting"] else "false")


def test_it_mirrors_fixed_assets_when_they_apply(connection, sandbox):
    Customer.objects.filter(pk=connection.customer_id).update(fixed_assets_apply=True)
    connection.refresh_from_db()

    run = sync_now(connection, "fixed_assets")

    assets = sandbox.records("assets")
    assert run.status == Run.Status.SUCCEEDED and run.created == len(assets)
    first = FixedAsset.objects.get(connection=connection, db_id=int(assets[0]["dbId"]))
    assert first.asset_group_db_id == int(assets[0]["assetGroup"]["dbId"])
    assert first.asset_status == assets[0]["assetStatus"]["name"]
    owners = {int(a["dbId"]): int(a["ownerDbId"]) for a in assets}
    mirrored = dict(
        FixedAsset.objects.filter(connection=connection).values_list("db_id", "owner_db_id")
    )
    assert mirrored == owners
    assert len(set(owners.values()) - {sandbox.owner_db_id}) >= 1  # assets of client entities


def test_it_leaves_out_fixed_assets_of_entities_out_of_scope(connection, sandbox):
    Customer.objects.filter(pk=connection.customer_id).update(fixed_assets_apply=True)
    connection.refresh_from_db()
    assets = sandbox.records("assets")
    client_entity = next(
        int(a["ownerDbId"]) for a in assets if int(a["ownerDbId"]) != sandbox.owner_db_id
    )
    ClientEntity.objects.filter(connection=connection, db_id=client_entity).update(in_scope=False)

    run = sync_now(connection, "fixed_assets")

    assert run.status == Run.Status.SUCCEEDED, run.error_message
    kept = set(
        FixedAsset.objects.filter(connection=connection).values_list("owner_db_id", flat=True)
    )
    assert client_entity not in kept and kept


def test_it_asks_nothing_for_fixed_assets_that_do_not_apply(connection, sandbox):
    before = sandbox.request_count
    run = sync_now(connection, "fixed_assets")
    assert run.status == Run.Status.SUCCEEDED
    assert run.requests == 0 and sandbox.request_count == before


def test_it_reads_changed_dimension_values_incrementally(connection, sandbox):
    sync_now(connection, "dimensions", full=True)
    (project,) = (int(k) for k in kind_keys(sandbox, "Prosjekt"))
    value = next(v for v in sandbox.records("objectValues") if int(v["objectKindDbId"]) == project)
    sandbox.change_record("objectValues", int(value["dbId"]), description="Nytt prosjektnavn")

    run = sync_now(connection, "dimensions")

    assert not run.full and run.updated == 1 and run.requests == 1  # the changed values only
    assert ObjectValue.objects.get(connection=connection, db_id=int(value["dbId"])).description == (
        "Nytt prosjektnavn"
    )


def test_it_asks_nothing_when_no_invoice_is_waiting(connection, sandbox):
    before = sandbox.request_count
    run = sync_now(connection, "invoices")
    assert run.status == Run.Status.SUCCEEDED, run.error_message
    assert run.requests == 0 and sandbox.request_count == before


def test_an_incremental_dimensions_run_reads_the_kinds_when_one_was_chosen_since(
    connection, sandbox
):
    sync_now(connection, "dimensions", full=True)
    connection.selected_dimensions = [
        *connection.selected_dimensions,
        *kind_keys(sandbox, "Kostnadssted"),
    ]
    connection.save(update_fields=["selected_dimensions"])

    run = sync_now(connection, "dimensions")

    assert run.requests == 1  # the kinds and every value (a kind new to the mirror), together
    assert ObjectKind.objects.filter(
        connection=connection, code=kind_keys(sandbox, "Kostnadssted")[0]
    ).exists()


@pytest.mark.parametrize("dataset", ["vat_codes", "dimensions"])
def test_lists_read_together_still_read_every_further_page(connection, sandbox, settings, dataset):
    """The first pages of two lists come in one document; each list's other pages follow on
    their own. With pages of 4, both lists run over several pages: the mirror is the same as
    with one page."""
    settings.SYNC_PAGE_SIZE = 10_000
    one_page = sync_now(connection, dataset, full=True)
    model = VatCode if dataset == "vat_codes" else ObjectValue
    expected = {(r.db_id, r.content_hash) for r in _live(model, connection)}
    model.objects.filter(connection=connection).delete()
    settings.SYNC_PAGE_SIZE = 4

    paged = sync_now(connection, dataset, full=True)

    assert paged.status == Run.Status.SUCCEEDED, paged.error_message
    assert {(r.db_id, r.content_hash) for r in _live(model, connection)} == expected
    assert paged.requests > one_page.requests == 1
