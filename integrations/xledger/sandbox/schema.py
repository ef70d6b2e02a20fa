"""The sandbox's GraphQL schemas, built by graphql-core from the SDL in ``schema.graphql``.

The SDL is the single place where field names and types live, so that correcting a guess
about Xledger's schema is one edit. It is a small template: each dialect (``dialects.py``)
fills in the names the contract is unsure of and keeps or drops the optional fields, and gets
a schema of its own. Resolvers are attached in ``resolvers.py``.
"""

import re
from decimal import Decimal
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, StringValueNode, build_schema

from .dialects import Dialect

SDL_PATH = Path(__file__).with_name("schema.graphql")
_CONDITION = re.compile(r"\s*#if\s+(\w+)(?:=(\S+))?\s*$")
# A dbId field or input field typed Int: "dbId: Int!", "ownerDbId: Int", "objectKindDbId: Int".
_DB_ID_FIELD = re.compile(r"\b((?:dbId|[a-z]\w*DbId)\s*:\s*)Int\b")
INT64_STRING = "Int64String"


def _serialize_decimal(value):
    """Amounts are kept as Decimal and answered as strings, so no precision is lost."""
    if isinstance(value, Decimal):
        return str(value)
    return str(Decimal(str(value)))


def _keep(dialect: Dialect, knob: str, wanted: str | None) -> bool:
    if knob not in dialect.knobs():
        raise ValueError(f"schema.graphql names an unknown dialect knob {knob!r}")
    value = getattr(dialect, knob)
    return bool(value) if wanted is None else str(value) == wanted


def render_sdl(dialect: Dialect) -> str:
    """The SDL of one dialect: conditional lines kept or dropped, names and dbId types set.

    ``schema.graphql`` as written is "ours"; see its header for what a dialect may change.
    """
    renames = {old: new for old, new in dialect.schema_renames().items() if old != new}
    rename = re.compile(r"\b(" + "|".join(map(re.escape, renames)) + r")\b") if renames else None
    lines = []
    for line in SDL_PATH.read_text(encoding="utf-8").splitlines():
        condition = _CONDITION.search(line)
        if condition is not None:
            if not _keep(dialect, condition.group(1), condition.group(2)):
                continue
            line = line[: condition.start()]
        line = line.split("#", 1)[0].rstrip()  # comments may use the names too
        if rename is not None:
            line = rename.sub(lambda m: renames[m.group(1)], line)
        if dialect.dbid_type != "Int":
            line = _DB_ID_FIELD.sub(lambda m: m.group(1) + dialect.dbid_type, line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _serialize_int64_string(value):
    if isinstance(value, bool):
        raise GraphQLError(f"{INT64_STRING} cannot represent {value!r}")
    return str(int(value))


def _int64_string(text):
    """A dbId argument: a string of digits only, as a strict Int64String server reads it."""
    if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 19:
        return int(text)
    raise GraphQLError(f"{INT64_STRING} must be a string of digits, got {text!r}")


def _int64_string_literal(node, _variables=None):
    if isinstance(node, StringValueNode):
        return _int64_string(node.value)
    raise GraphQLError(f"{INT64_STRING} must be a string literal of digits.", node)


def build_sandbox_schema(dialect: Dialect) -> GraphQLSchema:
    schema = build_schema(render_sdl(dialect))
    # Input scalars stay lenient on purpose (graphql-core's default for custom scalars):
    # a bad amount or date must fail only its own import item, not the whole request.
    decimal = schema.type_map["Decimal"]
    decimal.serialize = _serialize_decimal  # graphql-core 3.2
    decimal.coerce_output_value = _serialize_decimal  # graphql-core 3.3
    # Except Int64String, which a strict server checks at validation: an int is refused.
    int64 = schema.type_map.get(INT64_STRING)
    if int64 is not None:
        int64.serialize = int64.coerce_output_value = _serialize_int64_string
        int64.parse_value = int64.coerce_input_value = _int64_string
        int64.parse_literal = int64.coerce_input_literal = _int64_string_literal
    return schema
