"""The shapes of the API's error answers, so the OpenAPI description documents them.

Use `responses(Page)` as an operation's `response=`;
e.g. `responses(InvoiceOut, 201, {409: ErrorOut})` for an intake that may conflict.
"""

from ninja import Schema


class ErrorOut(Schema):
    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldError]


ERRORS = {401: ErrorOut, 404: ErrorOut, 410: ErrorOut, 422: ValidationErrorOut}


def responses(ok_schema, status=200, more=None):
    """{status: ok_schema} plus the documented error answers (401, 404, 410, 422) and `more`."""
    return {status: ok_schema, **ERRORS, **(more or {})}
