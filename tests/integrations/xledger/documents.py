"""Reading what the client sends the way a GraphQL server does: graphql-core's parser.

Tests of the client use these to look at the documents it writes (arguments as literals, the
fields it selects) instead of matching substrings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from graphql import (
    EnumValueNode,
    FieldNode,
    OperationDefinitionNode,
    parse,
)
from graphql.utilities import value_from_ast_untyped

LIST_ARGUMENTS = {"first", "after", "ownerSet", "filter"}  # all a list read may send


@dataclass
class RootField:
    """One root field of a document: its name, alias, literal arguments and selection."""

    name: str
    alias: str | None
    arguments: dict  # argument -> value (enum values as their names)
    enums: dict  # argument -> enum value, for the arguments written as enum literals
    node: FieldNode

    @property
    def key(self) -> str:
        """Where the answer puts this field's value."""
        return self.alias or self.name

    def selected(self, *path: str) -> set[str]:
        """The field names selected at `path` below this field (`"pageInfo"`, `"edges", "node"`)."""
        node = self.node
        for step in path:
            node = next(f for f in node.selection_set.selections if f.name.value == step)
        return {f.name.value for f in node.selection_set.selections}


def top_level_fields(field_list: str) -> set[str]:
    """`dbId company { companyNumber } code` -> {dbId, company, code}."""
    names, depth = set(), 0
    for word in field_list.replace("{", " { ").replace("}", " } ").split():
        if word == "{":
            depth += 1
        elif word == "}":
            depth -= 1
        elif depth == 0:
            names.add(word)
    return names


def operation(document: str) -> OperationDefinitionNode:
    (op,) = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    return op


def variable_names(document: str) -> list[str]:
    """The variables the document declares (`$inputs` -> "inputs")."""
    return [v.variable.name.value for v in operation(document).variable_definitions or ()]


def root_fields(document: str) -> list[RootField]:
    fields = []
    for node in operation(document).selection_set.selections:
        arguments, enums = {}, {}
        for argument in node.arguments or ():
            arguments[argument.name.value] = value_from_ast_untyped(argument.value)
            if isinstance(argument.value, EnumValueNode):
                enums[argument.name.value] = argument.value.value
        fields.append(
            RootField(
                name=node.name.value,
                alias=node.alias.value if node.alias else None,
                arguments=arguments,
                enums=enums,
                node=node,
            )
        )
    return fields


def sent(request) -> tuple[dict, list[RootField]]:
    """A JSON request's body and the root fields of its document."""
    body = json.loads(request.content)
    return body, root_fields(body["query"])


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    content: bytes


def multipart_parts(body: bytes, content_type: str) -> list[Part]:
    """The parts of a multipart/form-data body, in the order they were sent."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    chunks = body.split(b"--" + boundary)
    assert chunks[-1].startswith(b"--"), "the body must end with --boundary--"
    parts = []
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, content = chunk[2:-2].partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        params = {}
        for item in headers["content-disposition"].split(";")[1:]:
            key, _, value = item.strip().partition("=")
            params[key] = value.strip('"')
        parts.append(
            Part(
                name=params["name"],
                filename=params.get("filename"),
                content_type=headers.get("content-type"),
                content=content,
            )
        )
    return parts
