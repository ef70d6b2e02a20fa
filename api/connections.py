"""How a call names the connection it reads or writes, and what the API says about a connection.

A customer has one Xledger connection per owner entity. Every mirror list and the invoice intake
are served twice:

    /api/connections/{connection_id}/…  one connection (one owner entity): always unambiguous
    /api/customers/{customer_id}/…      the customer's live connection, when it has exactly one;
                                        a 422 naming the connection ids when it has several

Connection ids are in `connections` of /api/customers. A module registers its operations once on
a `ConnectionRoutes` (`@routes.get("suppliers", ...)`, the view taking `(request, connection, ...)`)
and api/__init__.py mounts its two routers.
"""

import inspect
from datetime import datetime
from typing import get_type_hints

from ninja import Field, Path, Router, Schema
from ninja.decorators import decorate_view

from api.auth import connection_for
from api.errors import responses
from api.params import ConnectionId, CustomerId
from integrations.models import Connection

BY_CUSTOMER_NOTE = (
    "Addresses the customer's live Xledger connection. A customer with several connections (one "
    "per owner entity) answers 422 naming their ids: use /api/connections/{connection_id}/… then."
)
BY_CONNECTION_NOTE = (
    "Addresses one Xledger connection (one owner entity) by its id, from `connections` in "
    "/api/customers."
)


class ConnectionRoutes:
    """One area's operations (the mirror lists, the invoice intake) under both ways of naming a
    connection: `by_customer` is mounted at /api/customers, `by_connection` at /api/connections."""

    def __init__(self, *, tags: list[str]):
        self.by_customer = Router(tags=tags)
        self.by_connection = Router(tags=tags)

    def get(self, path: str, **options):
        return self.add(["GET"], path, **options)

    def post(self, path: str, **options):
        return self.add(["POST"], path, **options)

    def add(
        self,
        methods,
        path,
        *,
        operation_id,
        summary,
        description="",
        decorators=(),
        offboarded=False,
        **kw,
    ):
        """Register `view(request, connection, **parameters)` under both prefixes.
        `offboarded`: the view also serves a connection SEMINE offboarded (else 410)."""

        def register(view):
            for router, id_name, id_type, by, note in [
                (self.by_customer, "customer_id", CustomerId, "customer", BY_CUSTOMER_NOTE),
                (
                    self.by_connection,
                    "connection_id",
                    ConnectionId,
                    "connection",
                    BY_CONNECTION_NOTE,
                ),
            ]:
                name = operation_id if by == "customer" else f"{operation_id}_by_connection"
                addressed = addressed_view(view, id_name, id_type, name, offboarded=offboarded)
                routed = decorate_view(*decorators)(addressed)
                router.api_operation(
                    methods,
                    f"/{{{id_name}}}/{path}",
                    operation_id=name,
                    url_name=name,
                    summary=f"{summary}, by {by}",
                    description="\n\n".join(filter(None, [description, note])),
                    **kw,
                )(routed)
            return view

        return register


def addressed_view(view, id_name, id_type, name, *, offboarded=False):
    """`view` with its `connection` parameter replaced by the path id `id_name`, resolved with
    `connection_for`. ninja reads the parameters from the signature, so it is rewritten."""
    hints = get_type_hints(view, include_extras=True)
    request_param, _connection, *rest = inspect.signature(view).parameters.values()

    def addressed(request, **parameters):
        connection = connection_for(
            request, offboarded=offboarded, **{id_name: parameters.pop(id_name)}
        )
        return view(request, connection, **parameters)

    addressed.__name__ = addressed.__qualname__ = name
    addressed.__signature__ = inspect.Signature(
        [
            request_param,
            request_param.replace(name=id_name, annotation=Path[id_type]),
            *(p.replace(annotation=hints.get(p.name, p.annotation)) for p in rest),
        ]
    )
    return addressed


# ---- what the API says about a connection -----------------------------------------------------


class EntityOut(Schema):
    dbId: int
    code: str
    description: str
    companyNumber: str
    isOwner: bool
    inScope: bool


class ConnectionOut(Schema):
    id: int = Field(description="The connection id for /api/connections/{connection_id}/….")
    customerId: int
    ownerEntityId: int | None = Field(description="Xledger dbId of the owner entity.")
    ownerEntityName: str = Field(description="As Xledger named it at the last token check.")
    environment: str = Field(description="Xledger environment: production or demo.")
    liveSince: datetime | None
    entities: list[EntityOut]


def entities_out(connection: Connection) -> list[dict]:
    return [
        {
            "dbId": e.db_id,
            "code": e.code,
            "description": e.description,
            "companyNumber": e.company_number,
            "isOwner": e.is_owner,
            "inScope": e.in_scope,
        }
        for e in connection.entities.all()
    ]


def connection_out(connection: Connection) -> dict:
    return {
        "id": connection.pk,
        "customerId": connection.customer_id,
        "ownerEntityId": connection.owner_entity_id,
        "ownerEntityName": connection.owner_entity_name,
        "environment": connection.environment,
        "liveSince": connection.live_since,
        "entities": entities_out(connection),
    }


router = Router(tags=["customers"])


@router.get(
    "/{connection_id}",
    response=responses(ConnectionOut),
    operation_id="get_connection",
    summary="One live connection (one Xledger owner entity)",
)
def get_connection(request, connection_id: Path[ConnectionId]):
    return connection_out(connection_for(request, connection_id=connection_id))
