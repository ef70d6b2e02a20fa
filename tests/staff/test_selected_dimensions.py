"""The connection admin takes `selected_dimensions` as a JSON list of short strings, and nothing
else reaches the database: no 500 from a deeply nested document or a JSON null."""

import pytest

from integrations.models import Connection
from tests.factories import make_connection


def _post(client, conn, selected_dimensions):
    return client.post(
        f"/admin/integrations/connection/{conn.pk}/change/",
        {
            "customer": conn.customer_id,
            "environment": "production",
            "owner_entity_id": "10001",
            "selected_dimensions": selected_dimensions,
            "transaction_source_code": "SEMINE",
            "entities-TOTAL_FORMS": "0",
            "entities-INITIAL_FORMS": "0",
            "schedules-TOTAL_FORMS": "0",
            "schedules-INITIAL_FORMS": "0",
        },
    )


@pytest.mark.parametrize(
    "value",
    [
        "[" * 3000 + "]" * 3000,
        "null",
        '{"601": "20"}',
        '"601"',
        "[601]",
        '[["601"]]',
        '["' + "x" * 101 + '"]',
        '["601", null]',
    ],
    ids=["3000-deep", "null", "object", "string", "number", "nested", "long", "null-in-list"],
)
def test_it_refuses_anything_but_a_list_of_short_strings(db, superuser, client, value):
    conn = make_connection(selected_dimensions=["601"])
    client.force_login(superuser)
    response = _post(client, conn, value)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "a JSON list of dimension codes" in str(errors["selected_dimensions"]), errors
    assert Connection.objects.get(pk=conn.pk).selected_dimensions == ["601"]


def test_it_saves_a_list_of_codes(db, superuser, client):
    conn = make_connection()
    client.force_login(superuser)
    response = _post(client, conn, '["601", "602"]')
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Connection.objects.get(pk=conn.pk).selected_dimensions == ["601", "602"]
