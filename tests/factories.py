"""Small builders for test data (plain functions, no factory library)."""

from integrations.models import Connection, Schedule
from portal.models import Customer

TOKEN = "Zx9-Qm_4TtR2pL8vWc3nYb7Ks1Ha5Ge0Ud6J"  # 36 base64url characters, like a real one


def make_customer(name="Fjordbåt Shipping AS", **fields):
    return Customer.objects.create(legal_name=name, **fields)


def make_connection(customer=None, token=TOKEN, owner_entity_id=10001, **fields):
    customer = customer or make_customer()
    connection = Connection(customer=customer, owner_entity_id=owner_entity_id, **fields)
    if token:
        connection.set_token(token)
    connection.save()
    Schedule.ensure_for(connection)
    return connection
