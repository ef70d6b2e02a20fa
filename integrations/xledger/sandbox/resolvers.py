"""Resolvers for graphql-core's plain executor, attached to the schema built from the SDL.

This is the reference behaviour: the fast path must answer exactly what these answer.
Scalar fields need no resolver (record attributes carry the GraphQL names); nested objects
are expanded by ``records.nested_value``. Each dialect has its own executable schema, built
once and shared by every sandbox playing that dialect.
"""

from functools import cache

from graphql import GraphQLSchema

from .auth import READ_SCOPES
from .dialects import Dialect
from .imports import add_gl_import_items
from .listing import list_page
from .records import NESTED_FIELDS, nested_value
from .schema import build_sandbox_schema

LIST_FIELDS = READ_SCOPES  # one read scope per list field, named like it [ours]


def page_info(page) -> dict:
    return {
        "hasNextPage": page.has_next,
        "hasPreviousPage": page.has_previous,
        "startCursor": page.cursor_at(0),
        "endCursor": page.cursor_at(-1),
    }


def _list_resolver(field_name: str):
    def resolve(_root, info, **args):
        page = list_page(info.context, field_name, args)
        cursor = page.cursor
        return {
            "edges": [{"cursor": cursor(r), "node": r} for r in page.records],
            "pageInfo": page_info(page),
        }

    return resolve


def _nested_resolver(type_name: str, field: str):
    def resolve(record, info):
        return nested_value(type_name, field, record, info.context.store)

    return resolve


def _resolve_add_gl_import_items(_root, info, inputs):
    return add_gl_import_items(info.context, inputs, info.path.as_list())


@cache
def build_executable_schema(dialect: Dialect) -> GraphQLSchema:
    """The executable schema of ``dialect`` (one per dialect, cached)."""
    schema = build_sandbox_schema(dialect)
    for name in LIST_FIELDS:
        schema.query_type.fields[name].resolve = _list_resolver(name)
    for type_name, field in NESTED_FIELDS:
        schema.type_map[type_name].fields[field].resolve = _nested_resolver(type_name, field)
    schema.mutation_type.fields["addGLImportItems"].resolve = _resolve_add_gl_import_items
    return schema
