"""Fixtures shared by the integrations' test packages."""

import pytest


@pytest.fixture
def api_schema(db):
    """The API's OpenAPI schema for schemathesis (`schemathesis.pytest.from_fixture`)."""
    from tests.integrations.api.contract import wsgi_schema

    with wsgi_schema() as schema:
        yield schema
