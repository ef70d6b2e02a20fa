"""A property-based run (schemathesis) over the invoice operations, with a mirror the bodies can
match: half the generated bodies are laid over a valid invoice, so accepted (201), repeated
(200) and conflicting (409) submissions are exercised as well as refusals. No 5xx, only
documented status codes and bodies."""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from integrations.models import ApiKey
from tests.integrations.invoices.test_intake_api import body, make_intake_connection

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def api_schema(db):
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def intake(db):
    connection = make_intake_connection()
    _, key = ApiKey.issue(name="schemathesis")
    return connection, key


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex="/invoices")


@schema.parametrize()
@schema.given(
    over_valid=st.booleans(),
    external_id=st.sampled_from(["semine-1", "semine-2", "semine-3"]),
)
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_keeps_its_openapi_promises_for_invoices(case, over_valid, external_id, intake):
    connection, key = intake
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and "customer_id" in (case.path_parameters or {}):
        case.path_parameters["customer_id"] = connection.customer_id
    if positive and over_valid:
        if isinstance(case.body, dict):
            generated = {k: v for k, v in case.body.items() if k in ("text", "invoiceNumber")}
            case.body = {**body(externalId=external_id), **generated}
        if "external_id" in (case.path_parameters or {}):
            case.path_parameters["external_id"] = external_id
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
