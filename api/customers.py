"""Which live customers the calling key may read, each with its live Xledger connections.

SEMINE needs a connection's id (or, for a customer with one connection, the customer's id) for
every other URL, and the entities' dbIds for `entity=`.
"""

from datetime import datetime
from itertools import groupby

from django.http import Http404
from ninja import Field, Path, Router, Schema

from api.auth import connections_visible_to
from api.connections import ConnectionOut, EntityOut, connection_out
from api.errors import responses
from api.params import CustomerId

router = Router(tags=["customers"])

ONE_CONNECTION_ONLY = "Of the customer's only connection; null when it has several."


class CustomerOut(Schema):
    id: int
    name: str
    organisationNumber: str
    country: str
    connections: list[ConnectionOut] = Field(
        description="The live connections, one per Xledger owner entity, oldest first."
    )
    environment: str | None = Field(
        description=f"Xledger environment: production or demo. {ONE_CONNECTION_ONLY}"
    )
    ownerEntityId: int | None = Field(description=ONE_CONNECTION_ONLY)
    liveSince: datetime | None = Field(description=ONE_CONNECTION_ONLY)
    entities: list[EntityOut] | None = Field(description=ONE_CONNECTION_ONLY)


class CustomerList(Schema):
    items: list[CustomerOut]


def customer_out(connections: list) -> dict:
    """A customer from its live connections (at least one, all of the same customer)."""
    customer = connections[0].customer
    connections_out = [connection_out(c) for c in connections]
    only = connections_out[0] if len(connections_out) == 1 else {}
    return {
        "id": customer.pk,
        "name": customer.legal_name,
        "organisationNumber": customer.organisation_number or "",
        "country": customer.country or "",
        "connections": connections_out,
        "environment": only.get("environment"),
        "ownerEntityId": only.get("ownerEntityId"),
        "liveSince": only.get("liveSince"),
        "entities": only.get("entities"),
    }


def live_connections(request):
    return (
        connections_visible_to(request)
        .select_related("customer")
        .prefetch_related("entities")
        .order_by("customer_id", "pk")
    )


@router.get(
    "",
    response=responses(CustomerList),
    operation_id="list_customers",
    summary="Live customers, with their connections",
    description=(
        "Customers with at least one live Xledger connection. `connections` lists them, one per "
        "owner entity; the top-level `environment`, `ownerEntityId`, `liveSince` and `entities` "
        "describe a customer's only connection and are null when it has several."
    ),
)
def list_customers(request):
    by_customer = groupby(live_connections(request), key=lambda c: c.customer_id)
    return {"items": [customer_out(list(connections)) for _, connections in by_customer]}


@router.get(
    "/{customer_id}",
    response=responses(CustomerOut),
    operation_id="get_customer",
    summary="One live customer, with its connections",
)
def get_customer(request, customer_id: Path[CustomerId]):
    connections = list(live_connections(request).filter(customer_id=customer_id))
    if not connections:
        raise Http404
    return customer_out(connections)
