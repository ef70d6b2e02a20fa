"""Which live customers the calling key may read, with their Xledger entities.

SEMINE needs a customer's id for every other URL and the entities' dbIds for `entity=`.
"""

from datetime import datetime

from django.db.models import Q
from ninja import Field, Path, Router, Schema

from api.auth import live_connection_for
from api.errors import responses
from api.mirror import CustomerId
from integrations.models import Connection
from portal.models import Customer

router = Router(tags=["customers"])


class EntityOut(Schema):
    dbId: int
    code: str
    description: str
    companyNumber: str
    isOwner: bool
    inScope: bool


class CustomerOut(Schema):
    id: int
    name: str
    organisationNumber: str
    country: str
    environment: str = Field(description="Xledger environment: production or demo.")
    ownerEntityId: int | None
    liveSince: datetime | None
    entities: list[EntityOut]


class CustomerList(Schema):
    items: list[CustomerOut]


def customer_out(connection: Connection) -> dict:
    customer = connection.customer
    return {
        "id": customer.pk,
        "name": customer.legal_name,
        "organisationNumber": customer.organisation_number or "",
        "country": customer.country or "",
        "environment": connection.environment,
        "ownerEntityId": connection.owner_entity_id,
        "liveSince": connection.live_since,
        "entities": [
            {
                "dbId": e.db_id,
                "code": e.code,
                "description": e.description,
                "companyNumber": e.company_number,
                "isOwner": e.is_owner,
                "inScope": e.in_scope,
            }
            for e in connection.entities.all()
        ],
    }


@router.get(
    "",
    response=responses(CustomerList),
    operation_id="list_customers",
    summary="Live customers",
)
def list_customers(request):
    connections = (
        Connection.objects.select_related("customer")
        .filter(Q(live_since__isnull=False) | Q(customer__onboarding_status=Customer.Status.LIVE))
        .prefetch_related("entities")
        .order_by("customer_id")
    )
    if request.auth.customer_id is not None:
        connections = connections.filter(customer_id=request.auth.customer_id)
    return {"items": [customer_out(c) for c in connections]}


@router.get(
    "/{customer_id}",
    response=responses(CustomerOut),
    operation_id="get_customer",
    summary="One live customer",
)
def get_customer(request, customer_id: Path[CustomerId]):
    return customer_out(live_connection_for(request, customer_id))
