from datetime import UTC, datetime

from stdnum.no import orgnr as no_orgnr

from integrations.xledger.sandbox import Sandbox

NOW = datetime(2026, 6, 1, tzinfo=UTC)
KINDS = (
    "suppliers",
    "currencies",
    "objectKinds",
    "objectValues",
    "taxTableSetups",
    "accounts",
    "assets",
)


def test_it_builds_the_same_data_and_tokens_from_the_same_seed():
    a, b = Sandbox(seed=11, suppliers=300, now=NOW), Sandbox(seed=11, suppliers=300, now=NOW)
    assert a.demo_tokens == b.demo_tokens
    for kind in KINDS:
        assert a.records(kind) == b.records(kind)


def test_it_builds_different_data_from_another_seed():
    a, b = Sandbox(seed=11, suppliers=50, now=NOW), Sandbox(seed=12, suppliers=50, now=NOW)
    assert a.records("suppliers") != b.records("suppliers")
    assert a.demo_tokens != b.demo_tokens


def test_it_keeps_tokens_independent_of_the_data_size():
    assert Sandbox(seed=4, suppliers=5).demo_tokens == Sandbox(seed=4, suppliers=500).demo_tokens


def test_it_makes_realistic_nordic_suppliers():
    suppliers = Sandbox(seed=1, suppliers=2000, now=NOW).records("suppliers")
    names = " ".join(s["description"] for s in suppliers)
    assert any(ch in names for ch in "æøå")
    assert " AB" in names and " ApS" in names and " AS" in names
    assert any(s["email"] is None for s in suppliers)
    assert any(s["bankAccount"] is None for s in suppliers)
    assert any(s["company"] is None for s in suppliers)
    assert any(len(s["description"]) >= 200 for s in suppliers)
    modified = sorted(s["modifiedAt"] for s in suppliers)
    assert modified[0] >= "2025-06-01" and modified[-1] <= "2026-06-02"


def test_it_gives_norwegian_suppliers_valid_org_numbers():
    suppliers = Sandbox(seed=1, suppliers=500, now=NOW).records("suppliers")
    numbers = [
        s["company"]["companyNumber"]
        for s in suppliers
        if s["company"] and len(s["company"]["companyNumber"]) == 9
    ]
    assert len(numbers) > 100
    for number in numbers:
        assert no_orgnr.is_valid(number), number  # python-stdnum: checked independently


def test_it_builds_200000_suppliers_in_a_few_seconds():
    import time

    started = time.perf_counter()
    sb = Sandbox(seed=1, suppliers=200_000, burst_limit=False)
    assert len(sb.store.tables["suppliers"].records) == 200_000
    assert time.perf_counter() - started < 15  # generous: shared CI machines are slow
