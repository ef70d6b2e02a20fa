"""Tasks get ids, never tokens: read back what the ORM broker actually stored."""

import pytest
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from integrations.models import Connection
from integrations.services import connection_go_live, resync
from tests.factories import TOKEN, make_connection


@pytest.mark.django_db(transaction=True)
def test_queued_tasks_carry_run_ids_and_no_token(settings, pm_user):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False, "orm": "default"}
    connection = make_connection()
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.OK)
    connection.refresh_from_db()
    runs = connection_go_live(connection=connection, by=pm_user)
    runs += resync(connection=connection, dataset="suppliers", full=True, by=pm_user)
    assert runs

    packages = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert packages, "the ORM broker holds no task: nothing was checked"
    ciphertext = Connection.objects.get(pk=connection.pk).api_token.ciphertext
    for task in packages:
        assert all(isinstance(arg, int) for arg in task["args"]), task["args"]
        assert not task.get("kwargs")
        dumped = repr(task)
        assert TOKEN not in dumped and ciphertext not in dumped
    for row in OrmQ.objects.all():
        assert TOKEN not in row.payload
    assert {task["args"][0] for task in packages} >= {run.pk for run in runs}
