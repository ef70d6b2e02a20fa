"""The fast path must answer exactly what graphql-core's plain executor answers, in every
dialect (the dialects differ in names, dbId types, cursors and page order)."""

import pytest

from integrations.xledger.sandbox import Sandbox, fastpath
from integrations.xledger.sandbox.listing import opaque_cursor
from integrations.xledger.sandbox.testing import client_for, gql

QUERIES = [
    (
        "{ suppliers(first: 50) { edges { cursor node { dbId code description email bankAccount "
        "company { companyNumber } ownerDbId owner { dbId code description } modifiedAt } } "
        "pageInfo { hasNextPage endCursor } } }",
        None,
    ),
    (
        "{ s: suppliers(first: 7, ownerSet: LOWER) { pi: pageInfo { endCursor hasNextPage "
        "hasPreviousPage startCursor __typename } e: edges { n: node { id: dbId c: company "
        "{ number: companyNumber __typename } o: owner { code } __typename } __typename cursor } "
        "__typename } __typename }",
        None,
    ),
    (
        "query($after: String, $set: OwnerSet) "
        "{ suppliers(first: 13, after: $after, ownerSet: $set) "
        "{ edges { node { ...S } } pageInfo { endCursor } } } "
        "fragment S on Supplier { dbId ... on Supplier { email } modifiedAt }",
        {"after": "1000020", "set": "CURRENT"},
    ),
    (
        "query($since: DateTime) { suppliers(first: 1000, filter: {modifiedAt_gte: $since}) "
        "{ edges { node { dbId modifiedAt } } } }",
        {"since": "2026-01-01T00:00:00+01:00"},
    ),
    (
        "query($skip: Boolean!) { suppliers(first: 5) { edges { node { dbId email @skip(if: $skip) "
        "code @include(if: $skip) } } } }",
        {"skip": True},
    ),
    (
        "{ suppliers(last: 4) { edges { cursor node { dbId } } pageInfo { hasPreviousPage "
        "hasNextPage startCursor endCursor } } }",
        None,
    ),
    (
        "{ entities { edges { node { dbId code description company { companyNumber } "
        "owner { dbId code description } parent { dbId code } } } } "
        "lower: entities(ownerSet: LOWER) { edges { node { dbId } } } }",
        None,
    ),
    (
        "{ currencies { edges { node { dbId code description } } } "
        "objectKinds { edges { node { dbId code name modifiedAt } } } "
        "objectValues(first: 10000) { edges { node { dbId code description objectKindDbId "
        "ownerDbId owner { dbId } dateFrom dateTo modifiedAt } } } "
        "taxTableSetups { edges { node { dbId objectValueDbId taxPercent accountDbId } } } "
        "accounts(first: 10000) { edges { node { dbId code description ownerDbId owner { code } "
        "chartOfAccountDbId posting vat balanceSheet modifiedAt } } pageInfo { hasNextPage } } "
        "assets { edges { node { dbId code description datePurchased assetGroup { dbId } "
        "assetStatus { name } ownerDbId owner { dbId code description } } } } }",
        None,
    ),
    (
        "{ taxTableSetups(first: 100) { edges { cursor node { dbId objectValueDbId taxPercent "
        "accountDbId dateFrom } } } }",
        None,
    ),
    (
        "{ supplier_deltas(first: 10) { edges { cursor node { dbId mutationType } } "
        "pageInfo { hasNextPage endCursor } } }",
        None,
    ),
    (
        "{ ok: currencies(first: 2) { edges { cursor } } bad: suppliers(first: 10001) "
        "{ edges { cursor } } }",
        None,
    ),
    ('{ suppliers(after: "nope") { edges { cursor } } }', None),
    (
        "query($k: Int) { objectValues(filter: {objectKindDbId: $k}) { edges { node { code } } } }",
        {"k": 604},
    ),
]


# The same ground in the "xledger" dialect: DateTimeString, Int64String dbIds, opaque cursors,
# no endCursor/startCursor, no ObjectKind.code.
XLEDGER_QUERIES = [
    (
        "{ suppliers(first: 50) { edges { cursor node { dbId code description email bankAccount "
        "company { companyNumber } ownerDbId owner { dbId code description } modifiedAt } } "
        "pageInfo { hasNextPage hasPreviousPage } } }",
        None,
    ),
    (
        "{ s: suppliers(first: 7, ownerSet: LOWER) { pi: pageInfo { hasNextPage "
        "hasPreviousPage __typename } e: edges { n: node { id: dbId c: company "
        "{ number: companyNumber __typename } o: owner { code dbId } __typename } __typename "
        "cursor } __typename } __typename }",
        None,
    ),
    (
        "query($after: String, $set: OwnerSet) "
        "{ suppliers(first: 13, after: $after, ownerSet: $set) "
        "{ edges { cursor node { ...S } } pageInfo { hasNextPage } } } "
        "fragment S on Supplier { dbId ... on Supplier { email } modifiedAt }",
        {"after": opaque_cursor(1000020), "set": "CURRENT"},
    ),
    (
        "query($since: DateTimeString) { suppliers(first: 1000, filter: "
        "{modifiedAt_gte: $since}) { edges { node { dbId modifiedAt } } } }",
        {"since": "2026-01-01T00:00:00"},
    ),
    (
        "query($skip: Boolean!) { suppliers(first: 5) { edges { node { dbId email @skip(if: $skip) "
        "code @include(if: $skip) } } } }",
        {"skip": True},
    ),
    (
        "{ suppliers(last: 4) { edges { cursor node { dbId } } pageInfo { hasPreviousPage "
        "hasNextPage } } }",
        None,
    ),
    (
        "{ entities { edges { cursor node { dbId code description company { companyNumber } "
        "owner { dbId code description } parent { dbId code } } } } "
        "lower: entities(ownerSet: LOWER) { edges { node { dbId } } } }",
        None,
    ),
    (
        "{ currencies { edges { node { dbId code description } } } "
        "objectKinds { edges { node { dbId name modifiedAt } } } "
        "objectValues(first: 10000) { edges { node { dbId code description objectKindDbId "
        "ownerDbId owner { dbId } dateFrom dateTo modifiedAt } } } "
        "taxTableSetups { edges { node { dbId objectValueDbId taxPercent accountDbId "
        "dateFrom } } } "
        "accounts(first: 10000) { edges { node { dbId code description ownerDbId owner { code } "
        "chartOfAccountDbId posting vat balanceSheet modifiedAt } } pageInfo { hasNextPage } } "
        "assets { edges { node { dbId code description datePurchased assetGroup { dbId } "
        "assetStatus { name } ownerDbId owner { dbId code description } } } } }",
        None,
    ),
    (
        "{ supplier_deltas(first: 10) { edges { cursor node { dbId mutationType } } "
        "pageInfo { hasNextPage } } }",
        None,
    ),
    (
        "{ ok: currencies(first: 2) { edges { cursor } } bad: suppliers(first: 10001) "
        "{ edges { cursor } } }",
        None,
    ),
    ('{ suppliers(after: "nope") { edges { cursor } } }', None),
    (
        "query($k: Int64String) { objectValues(filter: {objectKindDbId: $k}) "
        "{ edges { node { code objectKindDbId } } } }",
        {"k": "604"},
    ),
    ('{ objectValues(filter: {objectKindDbId: "604"}) { edges { cursor } } }', None),
]
DIALECT_QUERIES = {"ours": QUERIES, "xledger": XLEDGER_QUERIES}
CASES = [
    pytest.param(dialect, query, variables, id=f"{dialect}-{index}")
    for dialect, queries in DIALECT_QUERIES.items()
    for index, (query, variables) in enumerate(queries)
]

_SANDBOXES: dict[str, Sandbox] = {}


@pytest.fixture(scope="module")
def sandboxes():
    def get(dialect: str) -> Sandbox:
        if dialect not in _SANDBOXES:
            sandbox = Sandbox(seed=9, suppliers=400, clients=3, burst_limit=False, dialect=dialect)
            suppliers = sandbox.records("suppliers")
            sandbox.change_record("suppliers", suppliers[3]["dbId"], email=None)
            sandbox.delete_record("suppliers", suppliers[5]["dbId"])
            _SANDBOXES[dialect] = sandbox
        return _SANDBOXES[dialect]

    yield get
    _SANDBOXES.clear()


@pytest.fixture
def sb(sandboxes):
    return sandboxes("ours")


def _both(sb, query, variables, token="full"):
    client = client_for(sb, token)
    answers = []
    for fast in (True, False):
        sb.fast_path = fast
        answers.append(gql(client, query, variables))
    sb.fast_path = True
    return answers


@pytest.mark.parametrize(("dialect", "query", "variables"), CASES)
def test_it_answers_like_the_plain_executor(sandboxes, dialect, query, variables):
    fast, plain = _both(sandboxes(dialect), query, variables)
    assert fast == plain
    assert fast[1].get("data") is not None


@pytest.mark.parametrize("dialect", DIALECT_QUERIES)
@pytest.mark.parametrize("token", ["client", "no_suppliers"])
def test_it_answers_like_the_plain_executor_for_other_tokens(sandboxes, dialect, token):
    query = (
        "{ suppliers(first: 50) { edges { node { dbId ownerDbId } } } "
        "currencies { edges { cursor } } }"
    )
    fast, plain = _both(sandboxes(dialect), query, None, token)
    assert fast == plain


def test_it_writes_db_ids_as_strings_and_cursors_opaquely_in_the_xledger_dialect(sandboxes):
    sb = sandboxes("xledger")
    query = XLEDGER_QUERIES[0][0]
    fast, _plain = _both(sb, query, None)
    node = fast[1]["data"]["suppliers"]["edges"][0]["node"]
    assert isinstance(node["dbId"], str) and isinstance(node["owner"]["dbId"], str)
    cursor = fast[1]["data"]["suppliers"]["edges"][0]["cursor"]
    assert cursor != node["dbId"]


def test_it_is_used_for_list_queries(sb, monkeypatch):
    calls = []
    real = fastpath.execute_fast

    def spy(*args):
        result = real(*args)
        calls.append(result is not None)
        return result

    monkeypatch.setattr("integrations.xledger.sandbox.execution.execute_fast", spy)
    gql(client_for(sb), QUERIES[0][0])
    gql(client_for(sb), "{ glImportItems { edges { cursor } } }")
    gql(client_for(sb), "{ __schema { queryType { name } } }")
    assert calls == [True, False, False]


def test_it_leaves_introspection_to_the_plain_executor(sb):
    status, body = gql(client_for(sb), '{ __type(name: "Supplier") { fields { name } } }')
    assert status == 200
    assert "modifiedAt" in [f["name"] for f in body["data"]["__type"]["fields"]]
