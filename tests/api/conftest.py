"""Builders for the API tests: live customers, API keys, mirror rows."""

import itertools

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import ApiKey, ClientEntity
from tests.factories import make_connection, make_customer

OWNER_DB_ID = 10001
_db_ids = itertools.count(500_000)


def make_live_connection(name="Fjordbåt Shipping AS", customer=None, **fields):
    """A live connection with its owner entity: of a new live customer, or another one of
    `customer`. The first one made owns OWNER_DB_ID; each further one the next free ID."""
    customer = customer or make_customer(name, onboarding_status="live")
    connection = make_connection(customer=customer, **fields)
    connection.live_since = timezone.now()
    connection.save()
    ClientEntity.objects.create(
        connection=connection,
        db_id=connection.owner_entity_id,
        code="OWN",
        description="Owner",
        is_owner=True,
    )
    return connection


def add_rows(model, connection, count=1, **fields):
    rows = [
        model(
            connection=connection,
            db_id=fields.pop("db_id", None) or next(_db_ids),
            code=f"C{n}",
            description=f"Row {n}",
            content_hash="x",
            **fields,
        )
        for n in range(count)
    ]
    return model.objects.bulk_create(rows)


class ApiClient(Client):
    """A test client that sends an API key on every request."""

    def __init__(self, key=None, **kwargs):
        super().__init__(**kwargs)
        self.key = key

    def request(self, **request):
        if self.key:
            request.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.key}")
        return super().request(**request)


@pytest.fixture
def live_connection(db):
    return make_live_connection()


@pytest.fixture
def api_key(db):
    """(ApiKey, plaintext) for all customers."""
    return ApiKey.issue(name="SEMINE production")


@pytest.fixture
def api(api_key):
    return ApiClient(api_key[1])


@pytest.fixture
def api_client_for_post(api, live_connection):
    """(client, url) of an operation that takes a JSON body (the invoice intake)."""
    return api, f"/api/customers/{live_connection.customer_id}/invoices"
