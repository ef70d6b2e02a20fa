"""What the property-based (schemathesis) runs over the API share: the schema loaded through
Django's WSGI handler on the test's database, the checks every answer must pass, and which
cases were generated to be valid."""

from contextlib import contextmanager

import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@contextmanager
def wsgi_schema():
    """The served /api/openapi.json, called in-process. Like django.test.Client, it keeps the
    test's database connection open across requests (Django would close it after each)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def is_positive(case) -> bool:
    """Whether schemathesis generated this case to be valid (so it may be pointed at real data)."""
    return case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
