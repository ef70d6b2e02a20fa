"""The sandbox's GraphQL schema, built by graphql-core from the SDL in ``schema.graphql``.

The SDL is the single place where field names and types live, so that correcting a guess
about Xledger's schema is one edit. Resolvers are attached in ``resolvers.py``.
"""

from decimal import Decimal
from pathlib import Path

from graphql import GraphQLSchema, build_schema

SDL_PATH = Path(__file__).with_name("schema.graphql")


def _serialize_decimal(value):
    """Amounts are kept as Decimal and answered as strings, so no precision is lost."""
    if isinstance(value, Decimal):
        return str(value)
    return str(Decimal(str(value)))


def build_sandbox_schema() -> GraphQLSchema:
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    # Input scalars stay lenient on purpose (graphql-core's default for custom scalars):
    # a bad amount or date must fail only its own import item, not the whole request.
    decimal = schema.type_map["Decimal"]
    decimal.serialize = _serialize_decimal  # graphql-core 3.2
    decimal.coerce_output_value = _serialize_decimal  # graphql-core 3.3
    return schema
