"""Migration 0014: a customer's one-to-one connection becomes its first of several, with data.

Runs the real migrations backwards and forwards on the test database (SQLite or PostgreSQL),
with rows written through the historical models of the state before the change."""

import pytest
from django.db import connection as db_connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("integrations", "0013_interval_requests"), ("portal", "0004_membership_language")]
AFTER = [("integrations", "0014_connections_per_owner_entity")]


def _migrate(targets):
    executor = MigrationExecutor(db_connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_state(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(executor_leaf_nodes())


def executor_leaf_nodes():
    return MigrationExecutor(db_connection).loader.graph.leaf_nodes()


def _old_customer_with_connection(apps, name, owner, **connection_fields):
    Customer = apps.get_model("portal", "Customer")
    Connection = apps.get_model("integrations", "Connection")
    Schedule = apps.get_model("integrations", "Schedule")
    Run = apps.get_model("integrations", "Run")
    customer = Customer.objects.create(legal_name=name)
    connection = Connection.objects.create(
        customer=customer, owner_entity_id=owner, status="ok", **connection_fields
    )
    schedule = Schedule.objects.create(connection=connection, dataset="suppliers")
    Run.objects.create(connection=connection, schedule=schedule, dataset="suppliers")
    return customer.pk, connection.pk


def test_each_customers_connection_becomes_its_first_one(old_state):
    a = _old_customer_with_connection(old_state, "Fjordbåt Shipping AS", 10001)
    b = _old_customer_with_connection(old_state, "Nordlys Holding AS", 10001, environment="demo")
    c = _old_customer_with_connection(old_state, "Uten Eier AS", None)

    apps = _migrate(AFTER)
    Connection = apps.get_model("integrations", "Connection")
    Customer = apps.get_model("portal", "Customer")
    for customer_pk, connection_pk in (a, b, c):
        customer = Customer.objects.get(pk=customer_pk)
        connections = list(customer.connections.all())
        assert [x.pk for x in connections] == [connection_pk]
        assert connections[0].removed_at is None
        assert connections[0].runs.count() == 1 and connections[0].schedules.count() == 1
    assert Connection.objects.get(pk=a[1]).owner_entity_id == 10001

    # After the change, the customer can have a second owner entity ...
    second = Connection.objects.create(customer_id=a[0], owner_entity_id=20001)
    assert Customer.objects.get(pk=a[0]).connections.count() == 2
    # ... but an owner entity is connected once per environment.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(customer_id=c[0], owner_entity_id=20001)
    assert second.pk


def test_duplicate_owner_entities_stop_the_migration_with_their_names(old_state):
    _, first = _old_customer_with_connection(old_state, "Fjordbåt Shipping AS", 10001)
    _, repeat = _old_customer_with_connection(old_state, "Kopi AS", 10001)
    with pytest.raises(RuntimeError) as raised:
        _migrate(AFTER)
    message = str(raised.value)
    assert "owner entity 10001 (production)" in message
    assert f"connection {repeat}" in message and f"connection {first}" in message
    # Nothing half-done: the fix the message names, then the migration goes through.
    Connection = old_state.get_model("integrations", "Connection")
    Connection.objects.filter(pk=repeat).update(owner_entity_id=None)
    _migrate(AFTER)
