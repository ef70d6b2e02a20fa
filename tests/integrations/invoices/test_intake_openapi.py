"""A property-based run (schemathesis) over the invoice operations, with a mirror the bodies can
match: half the generated bodies are laid over a valid invoice, so accepted (201), repeated
(200) and conflicting (409) submissions are exercised as well as refusals. No 5xx, only
documented status codes and bodies."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from integrations.models import ApiKey
from tests.api.contract import CHECKS, is_positive
from tests.integrations.invoices.test_intake_api import body, make_intake_connection


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
    positive = is_positive(case)
    if positive and "customer_id" in (case.path_parameters or {}):
        case.path_parameters["customer_id"] = connection.customer_id
    if positive and over_valid:
        if isinstance(case.body, dict):
            generated = {k: v for k, v in case.body.items() if k in ("text", "invoiceNumber")}
            case.body = {**body(externalId=external_id), **generated}
        if "external_id" in (case.path_parameters or {}):
            case.path_parameters["external_id"] = external_id
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
