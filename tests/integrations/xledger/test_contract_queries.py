"""Every document in queries.py is valid against the sandbox's schema (the contract's shape)."""

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

import integrations.xledger.sandbox as sandbox_package
from integrations.xledger import queries

SCHEMA_FILE = Path(sandbox_package.__path__[0]) / "schema.graphql"
DOCUMENTS = {
    name: value
    for name, value in vars(queries).items()
    if name.isupper()
    and isinstance(value, str)
    and value.lstrip().startswith(("query", "mutation"))
}
DOCUMENTS.update(
    {
        f"verify_probe[{alias}]": queries.verify_probe([alias])
        for alias in queries.VERIFY_READ_PROBES
    }
)


@pytest.fixture(scope="module")
def schema():
    if not SCHEMA_FILE.exists():
        pytest.skip("the sandbox's schema.graphql is not there yet")
    return build_schema(SCHEMA_FILE.read_text())


def test_it_has_the_documents_the_engine_needs():
    for name in (
        "ENTITIES",
        "SUPPLIERS",
        "SUPPLIERS_MODIFIED_SINCE",
        "SUPPLIER_DELTAS",
        "CURRENCIES",
        "OBJECT_KINDS",
        "OBJECT_VALUES",
        "OBJECT_VALUES_MODIFIED_SINCE",
        "TAX_TABLE_SETUPS",
        "ACCOUNTS",
        "ACCOUNTS_MODIFIED_SINCE",
        "ASSETS",
        "GL_IMPORT_ITEMS_BY_EXT_IDENTIFIER",
        "ADD_GL_IMPORT_ITEMS",
        "VERIFY_READ_PROBE",
        "VERIFY_WRITE_PROBE",
    ):
        assert name in DOCUMENTS


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_it_validates_against_the_sandbox_schema(schema, name):
    assert validate(schema, parse(DOCUMENTS[name])) == []


@pytest.mark.parametrize(
    "name", sorted(n for n, d in DOCUMENTS.items() if "$first" in d and "$after" in d)
)
def test_it_declares_first_after_and_owner_set_on_list_queries(name):
    document = DOCUMENTS[name]
    assert "first: $first" in document and "after: $after" in document
    if "_deltas" not in document:
        assert f"$ownerSet: {queries.OWNER_SET_TYPE}" in document
