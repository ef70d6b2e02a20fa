"""Small builders for test data (plain functions, no factory library)."""

from integrations.models import Connection, Schedule
from portal.models import Customer

TOKEN = "Zx9-Qm_4TtR2pL8vWc3nYb7Ks1Ha5Ge0Ud6J"  # 36 base64url characters, like a real one


def make_customer(name="Fjordbåt Shipping AS", **fields):
    return Customer.objects.create(legal_name=name, **fields)


FIRST_OWNER_ENTITY_ID = 10001


def free_owner_entity_id(environment=Connection.Environment.PRODUCTION) -> int:
    """10001, or the next owner entity ID no connection has yet (one owner entity, one
    connection per environment)."""
    taken = set(
        Connection.objects.filter(environment=environment).values_list("owner_entity_id", flat=True)
    )
    owner = FIRST_OWNER_ENTITY_ID
    while owner in taken:
        owner += 1
    return owner


def make_connection(customer=None, token=TOKEN, owner_entity_id=None, **fields):
    customer = customer or make_customer()
    if owner_entity_id is None:
        owner_entity_id = free_owner_entity_id(
            fields.get("environment", Connection.Environment.PRODUCTION)
        )
    connection = Connection(customer=customer, owner_entity_id=owner_entity_id, **fields)
    if token:
        connection.set_token(token)
    connection.save()
    Schedule.ensure_for(connection)
    return connection
