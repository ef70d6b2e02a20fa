"""Currencies, dimensions, VAT codes, accounts and fixed assets against the sandbox."""

from decimal import Decimal

from integrations.models import (
    Account,
    Currency,
    FixedAsset,
    ObjectKind,
    ObjectValue,
    Run,
    VatCode,
)
from portal.models import Customer

from .conftest import sync_now


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
    kinds = {k["dbId"]: k for k in sandbox.records("objectKinds")}
    chosen = {db_id for db_id, k in kinds.items() if k["code"] in ("PROSJEKT", "AVDELING")}
    assert set(_live(ObjectKind, connection).values_list("db_id", flat=True)) == chosen
    expected = {v["dbId"] for v in sandbox.records("objectValues") if v["objectKindDbId"] in chosen}
    assert set(_live(ObjectValue, connection).values_list("db_id", flat=True)) == expected
    assert run.requests == 1 + len(chosen)  # the kinds, then one page per chosen kind


def test_it_retires_a_dimension_no_longer_chosen(connection, sandbox):
    sync_now(connection, "dimensions", full=True)
    connection.selected_dimensions = ["PROSJEKT", "AVDELING", "KOSTNADSSTED"]
    connection.save()
    kinds = {k["code"]: k["dbId"] for k in sandbox.records("objectKinds")}

    run = sync_now(connection, "dimensions")  # incremental, but a newly chosen kind is read whole

    new_values = [
        v for v in sandbox.records("objectValues") if v["objectKindDbId"] == kinds["KOSTNADSSTED"]
    ]
    assert run.created == len(new_values) + 1  # its values and the kind itself
    assert _live(ObjectValue, connection).filter(object_kind_db_id=kinds["KOSTNADSSTED"]).count()


def test_it_reads_vat_codes_with_their_rates(connection, sandbox):
    run = sync_now(connection, "vat_codes")

    assert run.status == Run.Status.SUCCEEDED, run.error_message
    tax_kind = next(k["dbId"] for k in sandbox.records("objectKinds") if k["code"] == "TAX_RULE")
    values = [v for v in sandbox.records("objectValues") if v["objectKindDbId"] == tax_kind]
    setups = {s["objectValueDbId"]: s for s in sandbox.records("taxTableSetups")}
    mirror = {v.db_id: v for v in _live(VatCode, connection)}
    assert set(mirror) == {v["dbId"] for v in values}
    high = next(v for v in values if v["code"] == "1")
    assert mirror[high["dbId"]].tax_percent == Decimal(str(setups[high["dbId"]]["taxPercent"]))
    assert mirror[high["dbId"]].account_db_id == setups[high["dbId"]]["accountDbId"]
    assert run.requests == 2  # kinds + setups together, then the values


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
    first = FixedAsset.objects.get(connection=connection, db_id=assets[0]["dbId"])
    assert first.asset_group_db_id == assets[0]["assetGroup"]["dbId"]
    assert first.asset_status == assets[0]["assetStatus"]["name"]


def test_it_asks_nothing_for_fixed_assets_that_do_not_apply(connection, sandbox):
    before = sandbox.request_count
    run = sync_now(connection, "fixed_assets")
    assert run.status == Run.Status.SUCCEEDED
    assert run.requests == 0 and sandbox.request_count == before


def test_it_reads_changed_dimension_values_incrementally(connection, sandbox):
    sync_now(connection, "dimensions", full=True)
    kinds = {k["code"]: k["dbId"] for k in sandbox.records("objectKinds")}
    value = next(
        v for v in sandbox.records("objectValues") if v["objectKindDbId"] == kinds["PROSJEKT"]
    )
    sandbox.change_record("objectValues", value["dbId"], description="Nytt prosjektnavn")

    run = sync_now(connection, "dimensions")

    assert not run.full and run.updated == 1 and run.requests == 3  # kinds + one per kind
    assert ObjectValue.objects.get(connection=connection, db_id=value["dbId"]).description == (
        "Nytt prosjektnavn"
    )


def test_it_asks_nothing_when_no_invoice_is_waiting(connection, sandbox):
    before = sandbox.request_count
    run = sync_now(connection, "invoices")
    assert run.status == Run.Status.SUCCEEDED, run.error_message
    assert run.requests == 0 and sandbox.request_count == before
