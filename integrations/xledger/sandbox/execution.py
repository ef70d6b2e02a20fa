"""Running one GraphQL document: parse, validate, then the fast path or the plain executor.

Errors are written the way Xledger writes them: ``message``, a top-level ``code``, ``path``
when a field failed, and ``extensions`` only for extra detail [known shape].
"""

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
)
from graphql.utilities import value_from_ast_untyped

from .fastpath import execute_fast
from .listing import DEFAULT_PAGE_SIZE

# Codes for errors graphql-core raises without one [ours, after Apollo's names].
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INVALID_VALUE = "INVALID_VALUE"
INTERNAL_ERROR = "INTERNAL_SERVER_ERROR"
FORBIDDEN = "FORBIDDEN"


def format_error(error: GraphQLError, default_code: str = INTERNAL_ERROR) -> dict:
    formatted = error.formatted
    extensions = dict(formatted.pop("extensions", None) or {})
    formatted["code"] = extensions.pop("code", default_code)
    if extensions:
        formatted["extensions"] = extensions
    return formatted


def parse_document(query) -> tuple[DocumentNode | None, list[dict]]:
    if not isinstance(query, str) or not query.strip():
        return None, [{"message": "Must provide a query string.", "code": PARSE_FAILED}]
    try:
        return parse(query), []
    except GraphQLError as error:
        return None, [format_error(error, PARSE_FAILED)]


def root_field_names(document: DocumentNode | None) -> list[str]:
    """The root fields a document asks for (aliases resolved), for per-field counting."""
    if document is None:
        return []
    names = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    names.append(selection.name.value)
    return names


def root_page_sizes(document: DocumentNode | None, variables) -> dict[str, list[int]]:
    """The page size each root list field asks for (first, else last, else the default)."""
    sizes: dict[str, list[int]] = {}
    if document is None:
        return sizes
    variables = variables if isinstance(variables, dict) else {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for selection in definition.selection_set.selections:
            if not isinstance(selection, FieldNode):
                continue
            args = {a.name.value: a.value for a in selection.arguments or ()}
            size = None
            for name in ("first", "last"):
                if size is None and name in args:
                    try:
                        size = value_from_ast_untyped(args[name], variables)
                    except Exception:  # noqa: BLE001 - validation reports it later
                        size = None
            if not isinstance(size, int) or isinstance(size, bool):
                size = DEFAULT_PAGE_SIZE
            sizes.setdefault(selection.name.value, []).append(size)
    return sizes


def run_document(document: DocumentNode, variables, operation_name, ctx, *, fast=True) -> dict:
    """The response body (as a dict) for an authenticated request."""
    schema = ctx.schema
    validation_errors = validate(schema, document)
    if validation_errors:
        return {"errors": [format_error(e, VALIDATION_FAILED) for e in validation_errors]}
    if variables is not None and not isinstance(variables, dict):
        return {"errors": [{"message": "Variables must be an object.", "code": INVALID_VALUE}]}

    answer = None
    if fast:
        answer = execute_fast(schema, document, variables, operation_name, ctx)
    if answer is None:
        result = execute_sync(
            schema,
            document,
            context_value=ctx,
            variable_values=variables,
            operation_name=operation_name,
        )
        if result.data is None and result.errors and not _executed(result.errors):
            # variables could not be coerced, or no operation was chosen
            return {"errors": [format_error(e, INVALID_VALUE) for e in result.errors]}
        data, errors = result.data, result.errors or []
    else:
        data, errors = answer

    body = {"data": data}
    formatted = [format_error(e) for e in errors] + ctx.extra_errors
    if ctx.dialect.missing_scope == "null":
        forbidden = [e for e in formatted if e.get("code") == FORBIDDEN]
        if forbidden:  # a field out of scope refuses the whole request
            return {"data": None, "errors": forbidden}
    if formatted:
        body["errors"] = formatted
    return body


def _executed(errors) -> bool:
    return any(e.path for e in errors)
