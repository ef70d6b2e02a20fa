"""Every document in queries.py keeps to the contract: valid against the sandbox's schema under
every reading of it, every value a literal (no typed variable but the mutation's `$inputs`), pages
by `after` + `pageInfo { hasNextPage }` only, no dbId argument, no object-kind `code`; and
`literal()` writes any value so that a GraphQL parser reads back exactly that value."""

from pathlib import Path

import pytest
from graphql import EnumValueNode, GraphQLSchema, build_schema, parse, validate
from graphql.utilities import value_from_ast_untyped
from hypothesis import example, given, settings
from hypothesis import strategies as st

import integrations.xledger.sandbox as sandbox_package
from integrations.xledger import queries
from integrations.xledger.queries import Enum, ListQuery, arguments, literal

from .documents import LIST_ARGUMENTS, root_fields, top_level_fields, variable_names

SINCE = "2026-01-15T12:45:00"  # as timestamps.modified_since writes it
LIST_QUERIES = {name: q for name, q in vars(queries).items() if isinstance(q, ListQuery)}


def list_documents() -> dict[str, str]:
    """Every list read the engine can send: first and later pages, filtered and not."""
    documents = {}
    for name, query in LIST_QUERIES.items():
        documents[f"{name}[first page]"] = query.document(first=queries.MAX_PAGE_SIZE)
        documents[f"{name}[next page]"] = query.document(first=500, after="Y3Vyc29yOjEwMA==")
    for name in ("SUPPLIERS", "ACCOUNTS", "OBJECT_KINDS", "OBJECT_VALUES"):
        query = LIST_QUERIES[name].where(modifiedAt_gte=SINCE)
        documents[f"{name}[modified since]"] = query.document(first=10, after="x")
    for owner_set in ("CURRENT", "LOWER"):
        documents[f"ENTITIES[{owner_set}]"] = queries.ENTITIES.owned_by(owner_set).document(first=1)
    documents["gl_import_items_by_ext_identifier"] = queries.gl_import_items_by_ext_identifier(
        ["semine-1", 'semine-"2"']
    ).document(first=100)
    for suppliers in (True, False):
        for deltas in (True, False) if suppliers else (True,):
            documents[f"supplier_changes[{suppliers}, {deltas}]"] = queries.supplier_changes(
                first=1000,
                since=SINCE,
                after="a" if suppliers else None,
                delta_after="d",
                with_suppliers=suppliers,
                with_deltas=deltas,
            )
    documents["suppliers_full[first page]"] = queries.suppliers_full(first=10_000, after=None)
    documents["suppliers_full[next page]"] = queries.suppliers_full(first=10_000, after="c")
    return documents


def other_documents() -> dict[str, str]:
    documents = {
        name: value
        for name, value in vars(queries).items()
        if name.isupper()
        and isinstance(value, str)
        and value.lstrip().startswith(("query", "mutation"))
    }
    for alias in queries.VERIFY_READ_PROBES:
        documents[f"verify_probe[{alias}]"] = queries.verify_probe([alias])
    return documents


LISTS = list_documents()
DOCUMENTS = {**LISTS, **other_documents()}


def sandbox_schema(dialect: str) -> GraphQLSchema:
    """The sandbox's schema under one reading of the contract."""
    try:
        from integrations.xledger.sandbox.dialects import dialect_named
        from integrations.xledger.sandbox.schema import build_sandbox_schema
    except ImportError:  # a sandbox from before dialects: one schema, "ours"
        if dialect != "ours":
            pytest.skip("this sandbox has no dialects")
        sdl = Path(sandbox_package.__path__[0]) / "schema.graphql"
        return build_schema(sdl.read_text())
    return build_sandbox_schema(dialect_named(dialect))


@pytest.fixture(scope="module", params=["ours", "xledger"])
def schema(request):
    return sandbox_schema(request.param)


def test_it_has_the_documents_the_engine_needs():
    for name in (
        "ENTITIES",
        "SUPPLIERS",
        "SUPPLIER_DELTAS",
        "CURRENCIES",
        "OBJECT_KINDS",
        "OBJECT_VALUES",
        "TAX_TABLE_SETUPS",
        "ACCOUNTS",
        "ASSETS",
        "GL_IMPORT_ITEMS",
        "GL_IMPORT_ITEM_ERRORS",
    ):
        assert isinstance(getattr(queries, name), ListQuery), name
    for name in ("ADD_GL_IMPORT_ITEMS", "VERIFY_READ_PROBE", "VERIFY_WRITE_PROBE", "TOKEN_CHECK"):
        assert name in DOCUMENTS


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_it_validates_against_the_schema_under_every_dialect(request, schema, name):
    errors = validate(schema, parse(DOCUMENTS[name]))
    if name in queries.MAY_BE_REFUSED and request.node.callspec.params["schema"] != "ours":
        return  # asked knowing a schema may refuse it; verify() treats a refusal as unknown
    assert errors == []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_no_document_declares_a_variable_but_the_mutations_inputs(name):
    document = DOCUMENTS[name]
    if name == "ADD_GL_IMPORT_ITEMS":
        assert variable_names(document) == ["inputs"]
        assert "($inputs: [AddGLImportItemsInput!]!)" in document  # the contract's own type
    else:
        assert variable_names(document) == []
        assert "$" not in document


@pytest.mark.parametrize("name", sorted(LISTS))
def test_list_reads_page_by_the_last_edges_cursor_and_has_next_page_only(name):
    for field in root_fields(LISTS[name]):
        assert set(field.arguments) <= LIST_ARGUMENTS | {"last"}
        if field.alias == "deltaTail":  # the newest delta's cursor, asked once
            assert field.arguments == {"last": 1}
            assert field.selected("edges") == {"cursor"}
            continue
        assert "last" not in field.arguments
        assert field.selected("edges") == {"cursor", "node"}
        assert field.selected("pageInfo") == {"hasNextPage"}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_no_document_asks_for_end_or_start_cursors(name):
    assert "endCursor" not in DOCUMENTS[name]
    assert "startCursor" not in DOCUMENTS[name]


def test_the_after_literal_is_the_cursor_given():
    cursor = 'opaque "cursor" \\ with\nodd bits'
    (field,) = root_fields(queries.SUPPLIERS.document(first=5, after=cursor))
    assert field.arguments["after"] == cursor
    (field,) = root_fields(queries.SUPPLIERS.document(first=5))
    assert "after" not in field.arguments


@pytest.mark.parametrize("name", sorted(LIST_QUERIES))
def test_list_reads_write_owner_set_as_an_enum_literal_where_they_take_one(name):
    query = LIST_QUERIES[name]
    (field,) = root_fields(query.document(first=1))
    if query.owner_set is None:
        assert "ownerSet" not in field.arguments
    else:
        assert query.owner_set == queries.DEFAULT_OWNER_SET == "ALL"
        assert field.enums["ownerSet"] == "ALL"
    (field,) = root_fields(query.owned_by("LOWER").document(first=1))
    assert field.enums["ownerSet"] == "LOWER"
    assert query.owner_set == LIST_QUERIES[name].owner_set  # owned_by made a copy


def test_supplier_deltas_and_entities_take_no_owner_set_by_default():
    assert queries.SUPPLIER_DELTAS.owner_set is None  # [known] deltas take none
    assert queries.ENTITIES.owner_set is None  # everything the token can see


def db_id_arguments(value, path=()) -> list:
    if isinstance(value, dict):
        found = [(*path, k) for k in value if k == "dbId" or k.endswith("DbId")]
        return found + [x for k, v in value.items() for x in db_id_arguments(v, (*path, k))]
    if isinstance(value, list):
        return [x for v in value for x in db_id_arguments(v, path)]
    return []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_no_document_sends_a_db_id_as_an_argument(name):
    for field in root_fields(DOCUMENTS[name]):
        assert db_id_arguments(field.arguments) == []


def test_object_kinds_are_read_without_a_code():
    assert "code" not in top_level_fields(queries.OBJECT_KIND_FIELDS)
    (kinds,) = root_fields(queries.verify_probe(["objectKinds"]))
    assert "code" not in kinds.selected("edges", "node")


def test_where_and_owned_by_return_changed_copies():
    base = queries.SUPPLIERS
    changed = base.where(modifiedAt_gte=SINCE).where(extra=1)
    assert base.filter == {}
    assert changed.filter == {"modifiedAt_gte": SINCE, "extra": 1}
    assert base.owned_by("CURRENT").owner_set == "CURRENT"
    assert base.owner_set == "ALL"
    (field,) = root_fields(changed.document(first=3))
    assert field.arguments["filter"] == {"modifiedAt_gte": SINCE, "extra": 1}


def test_the_verify_probe_asks_only_the_aliases_given():
    document = queries.verify_probe(["me", "suppliers"])
    assert [f.key for f in root_fields(document)] == ["me", "suppliers"]
    assert [f.key for f in root_fields(queries.VERIFY_READ_PROBE)] == list(
        queries.VERIFY_READ_PROBES
    )


# --- literal() ------------------------------------------------------------------------------------


def read_back(text: str):
    """What a GraphQL server reads from `{ f(a: <text>) }`."""
    field = parse(f"{{ f(a: {text}) }}").definitions[0].selection_set.selections[0]
    (argument,) = field.arguments
    return argument.value


TRICKY = st.sampled_from(
    ['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "\u2028", "\u2029", "\ufeff"]
    + ["{", "}", "(", ")", "$", "#", "...", '\\"', '"""', "\U0001f600", "\U0010ffff", "é", "ø"]
)
STRINGS = st.text() | st.lists(TRICKY | st.text(max_size=3)).map("".join)


@settings(max_examples=500)
@given(STRINGS)
@example('") { secret } #')
@example('\\"')
@example("line\nbreak\r\n")
@example("\U0001f600 æøå")
def test_a_string_literal_reads_back_as_the_same_string(value):
    text = literal(value)
    assert text.isascii()  # nothing for an encoding to mangle on the way
    assert value_from_ast_untyped(read_back(text)) == value


NAMES = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,15}", fullmatch=True)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(VALUES)
def test_any_value_reads_back_as_the_same_value(value):
    assert value_from_ast_untyped(read_back(literal(value))) == value


@settings(max_examples=300)
@given(st.lists(STRINGS, min_size=1, max_size=5))
def test_a_filter_of_any_strings_stays_one_argument_of_one_field(refs):
    document = queries.gl_import_items_by_ext_identifier(refs).document(first=10, after=refs[0])
    (field,) = root_fields(document)
    assert field.name == "glImportItems"
    assert field.arguments == {"first": 10, "after": refs[0], "filter": {"extIdentifier_in": refs}}
    assert field.selected("edges", "node") == top_level_fields(queries.GL_IMPORT_ITEM_FIELDS)


@settings(max_examples=300)
@given(st.text(max_size=12) | NAMES)
@example("ALL")
@example("true")
@example("null")
@example("é")
@example("ALL) { x }")
def test_an_enum_literal_is_a_bare_graphql_name_or_refused(name):
    try:
        text = literal(Enum(name))
    except ValueError:
        return
    node = read_back(text)
    assert isinstance(node, EnumValueNode)
    assert node.value == name


@settings(max_examples=300)
@given(st.text(max_size=12) | NAMES)
@example("é")
@example("1a")
@example("a b")
def test_an_object_key_is_a_graphql_name_or_refused(key):
    try:
        text = literal({key: 1})
    except ValueError:
        return
    assert value_from_ast_untyped(read_back(text)) == {key: 1}


def test_booleans_are_not_written_as_numbers():
    assert literal(True) == "true"
    assert literal(False) == "false"
    assert literal(None) == "null"
    assert literal(-5) == "-5"


@pytest.mark.parametrize("value", [1.5, object(), {1, 2}, b"bytes"])
def test_it_refuses_values_without_a_literal(value):
    with pytest.raises(TypeError):
        literal(value)


def test_it_refuses_datetimes_so_they_go_through_modified_since():
    from datetime import UTC, datetime

    with pytest.raises(TypeError, match="modified_since"):
        literal(datetime(2026, 1, 1, tzinfo=UTC))


def test_arguments_leave_out_none_and_write_the_rest():
    assert arguments({"first": 10, "after": None, "ownerSet": Enum("ALL")}) == (
        "(first: 10, ownerSet: ALL)"
    )
    assert arguments({"after": None}) == ""
    with pytest.raises(ValueError):
        arguments({"first; x": 1})
