"""The fast path: answer big list queries without running graphql-core per field.

graphql-core's plain executor resolves every field of every record through Python calls and
manages ~20,000 records a second, slower than a sync can consume them. Here the requested
fields are worked out once per request with graphql-core's own field collection (so aliases,
fragments and @skip/@include mean exactly what they mean to the executor), each record then
becomes a dict in one ``attrgetter`` call plus a fix-up for nested objects, and the caller
encodes with orjson. Anything this module does not handle returns ``None`` and the request
goes to the plain executor; tests check that both answer the same.
"""

import re

from graphql import GraphQLObjectType, OperationType, get_named_type, located_error
from graphql.execution.values import get_argument_values

try:  # graphql-core 3.3 internals; on older versions every request takes the plain executor
    from graphql.execution.collect_fields import collect_fields
    from graphql.execution.executor import Executor
except ImportError:  # pragma: no cover
    Executor = None

from .listing import db_id_cursor, list_page
from .records import NESTED_FIELDS, NESTED_WRAPS
from .resolvers import page_info
from .schema import INT64_STRING

# Root list fields whose records are plain slotted records (the bulk kinds).
FAST_FIELDS = frozenset(
    {
        "entities",
        "suppliers",
        "supplier_deltas",
        "currencies",
        "objectKinds",
        "objectValues",
        "taxTableSetups",
        "accounts",
        "assets",
    }
)


class NotFast(Exception):
    """The document holds something the fast path leaves to the plain executor."""


def execute_fast(schema, document, variables, operation_name, ctx):
    """``(data, errors)`` for a query the fast path handles, else ``None``."""
    if Executor is None:
        return None
    executor = Executor.build(schema, document, None, ctx, variables, operation_name)
    if isinstance(executor, list):
        return None  # variable errors: the plain executor reports them
    operation = executor.operation
    if operation.operation != OperationType.QUERY:
        return None
    root_type = schema.query_type
    collected = collect_fields(
        schema, executor.fragments, executor.variable_values, root_type, operation
    )
    if collected.new_defer_usages:
        return None
    try:
        plans = [
            (key, details, _plan_root(executor, root_type, key, details))
            for key, details in collected.grouped_field_set.items()
        ]
    except NotFast:
        return None

    data: dict = {}
    errors = []
    for key, details, plan in plans:
        if plan is None:  # __typename
            data[key] = root_type.name
            continue
        field_name, field_def, build = plan
        try:
            args = get_argument_values(field_def, details[0].node, executor.variable_values)
            page = list_page(ctx, field_name, args)
        except Exception as error:  # noqa: BLE001 - reported like the executor does
            data[key] = None
            errors.append(located_error(error, [d.node for d in details], [key]))
            continue
        data[key] = build(page, ctx.store)
    return data, errors


def _is_int64_string(field) -> bool:
    """Leaves typed Int64String are written as strings (graphql-core's serializer does that
    on the plain path; here the generated expression does)."""
    return get_named_type(field.type).name == INT64_STRING


def _plan_root(executor, root_type, key, details):
    name = details[0].node.name.value
    if name == "__typename":
        return None
    if name not in FAST_FIELDS:
        raise NotFast(name)
    field_def = root_type.fields[name]
    connection_type = get_named_type(field_def.type)
    return name, field_def, _plan_connection(executor, connection_type, details)


def _subfields(executor, object_type, details):
    collected = executor.collect_subfields(object_type, details)
    if collected.new_defer_usages:
        raise NotFast("@defer")
    return collected.grouped_field_set.items()


def _plan_connection(executor, connection_type: GraphQLObjectType, details):
    parts = []
    for key, sub in _subfields(executor, connection_type, details):
        name = sub[0].node.name.value
        if name == "__typename":
            parts.append((key, "const", connection_type.name))
        elif name == "edges":
            edge_type = get_named_type(connection_type.fields["edges"].type)
            parts.append((key, "edges", _plan_edge(executor, edge_type, sub)))
        elif name == "pageInfo":
            info_type = get_named_type(connection_type.fields["pageInfo"].type)
            parts.append((key, "pageInfo", _plan_page_info(executor, info_type, sub)))
        else:
            raise NotFast(name)

    def build(page, store):
        result = {}
        for key, how, plan in parts:
            if how == "const":
                result[key] = plan
            elif how == "edges":
                result[key] = plan(store, page.encode)(page.records)
            else:
                result[key] = plan(page)
        return result

    return build


def _plan_page_info(executor, info_type, details):
    fields = []
    for key, sub in _subfields(executor, info_type, details):
        name = sub[0].node.name.value
        if name == "__typename":
            fields.append((key, None, info_type.name))
        elif name in info_type.fields:
            fields.append((key, name, None))
        else:
            raise NotFast(name)

    def build(page):
        values = page_info(page)
        return {key: const if name is None else values[name] for key, name, const in fields}

    return build


def _plan_edge(executor, edge_type, details):
    """A function of the store giving a function from records to their list of edges.

    The edge is written out as one Python expression (a dict display reading record
    attributes), compiled once per request: a generated comprehension is several times
    faster than walking a field plan per record, and this is the whole point of the module.
    """
    parts = []
    for key, sub in _subfields(executor, edge_type, details):
        name = sub[0].node.name.value
        if name == "__typename":
            parts.append((key, "const", edge_type.name))
        elif name == "cursor":
            parts.append((key, "cursor", None))
        elif name == "node":
            node_type = get_named_type(edge_type.fields["node"].type)
            parts.append((key, "node", _plan_node(executor, node_type, sub)))
        else:
            raise NotFast(name)

    def for_store(store, encode_cursor):
        code = _Code()
        items = []
        for key, how, plan in parts:
            if how == "const":
                items.append((key, repr(plan)))
            elif how == "cursor":
                if encode_cursor is db_id_cursor:
                    items.append((key, "str(r.dbId)"))
                else:
                    items.append((key, f"{code.name_for(encode_cursor)}(r.dbId)"))
            else:
                items.append((key, plan(store, code)))
        return code.compile_list(_dict_display(items))

    return for_store


class _Code:
    """Collects the names a generated expression refers to, and compiles it."""

    def __init__(self):
        self.namespace: dict = {}
        self.variables = 0

    def name_for(self, value) -> str:
        name = f"_n{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def variable(self) -> str:
        self.variables += 1
        return f"_v{self.variables}"

    def compile_list(self, expression: str):
        source = f"def _rows(records):\n    return [{expression} for r in records]\n"
        exec(compile(source, "<sandbox-fastpath>", "exec"), self.namespace)  # noqa: S102
        return self.namespace["_rows"]


def _dict_display(items) -> str:
    # Keys are GraphQL names or aliases (validated as [_A-Za-z][_0-9A-Za-z]*): safe to repr.
    return "{" + ", ".join(f"{key!r}: {expression}" for key, expression in items) + "}"


_IDENTIFIER = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def _attr(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise NotFast(name)
    return name


def _plan_node(executor, node_type: GraphQLObjectType, details):
    """A function (store, code) -> the expression building one node from record ``r``."""
    fields = []
    for key, sub in _subfields(executor, node_type, details):
        name = sub[0].node.name.value
        if name == "__typename":
            fields.append((key, "const", node_type.name))
        elif (node_type.name, name) in NESTED_FIELDS:
            attr, make = NESTED_FIELDS[(node_type.name, name)]
            if attr is None:
                raise NotFast(name)
            if make is None:
                how = "str" if _is_int64_string(node_type.fields[name]) else "attr"
                fields.append((key, how, _attr(attr)))
            else:
                nested_type = get_named_type(node_type.fields[name].type)
                picks = _plan_nested(executor, nested_type, sub)
                fields.append((key, "nested", (_attr(attr), make, picks)))
        elif name in node_type.fields:
            if node_type.fields[name].args or sub[0].node.selection_set:
                raise NotFast(name)
            how = "str" if _is_int64_string(node_type.fields[name]) else "attr"
            fields.append((key, how, _attr(name)))
        else:
            raise NotFast(name)

    def expression(store, code: _Code) -> str:
        items = []
        for key, how, plan in fields:
            if how == "const":
                items.append((key, repr(plan)))
            elif how == "attr":
                items.append((key, f"r.{plan}"))
            elif how == "str":  # Int64String: every such attribute may be None
                items.append((key, f"(None if r.{plan} is None else str(r.{plan}))"))
            else:
                items.append((key, _nested_expression(store, code, *plan)))
        return _dict_display(items)

    return expression


def _plan_nested(executor, nested_type, details):
    picks = []
    for key, sub in _subfields(executor, nested_type, details):
        name = sub[0].node.name.value
        if name == "__typename":
            picks.append((key, None, nested_type.name, False))
        elif name in nested_type.fields and not sub[0].node.selection_set:
            picks.append((key, name, None, _is_int64_string(nested_type.fields[name])))
        else:
            raise NotFast(name)
    return picks


def _pick(full: dict | None, picks):
    if full is None:
        return None
    return {
        key: const if name is None else _leaf(full[name], as_string)
        for key, name, const, as_string in picks
    }


def _leaf(value, as_string: bool):
    return str(value) if as_string and value is not None else value


def _nested_expression(store, code: _Code, attr: str, make, picks) -> str:
    """Entity references come from a table made once per request; other nested objects
    wrap a single flat value and are written inline."""
    wraps = NESTED_WRAPS.get(make)
    if wraps is None:
        table = {e.dbId: _pick(make(e.dbId, store), picks) for e in store.entities.records}
        return f"{code.name_for(table)}.get(r.{attr})"
    variable = code.variable()

    def leaf(name, const, as_string):
        if name is None:
            return repr(const)
        if name != wraps:
            return "None"
        return f"str({variable})" if as_string else variable

    inner = [(key, leaf(name, const, as_string)) for key, name, const, as_string in picks]
    if any(name is not None and name != wraps for _key, name, _const, _s in picks):
        raise NotFast(attr)
    return f"(None if ({variable} := r.{attr}) is None else {_dict_display(inner)})"
