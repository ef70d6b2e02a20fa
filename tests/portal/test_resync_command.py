"""`manage.py resync` is a support action like the admin's resync button: it is in the audit log,
with what was queued and that it came from the command line."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import Connection, Run
from portal.models import AuditEntry
from tests.admin_sandbox import queued  # noqa: F401
from tests.factories import make_connection


@pytest.fixture
def connection(db):
    connection = make_connection()
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.OK)
    connection.refresh_from_db()
    return connection


def test_a_resync_from_the_command_line_is_audited(
    connection,
    queued,  # noqa: F811
    capsys,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("resync", str(connection.customer_id), "--dataset", "suppliers", "--full")

    run = Run.objects.get(connection=connection)
    assert queued == [run.pk] and run.full and run.trigger == Run.Trigger.MANUAL
    entry = AuditEntry.objects.get(action="resync")
    assert entry.actor is None  # nobody logged in: the command line
    assert entry.customer == connection.customer
    assert entry.after == {
        "dataset": "suppliers",
        "full": True,
        "runs": [{"id": run.pk, "dataset": "suppliers"}],
    }
    assert "manage.py resync" in entry.comment
    assert f"Queued run #{run.pk}" in capsys.readouterr().out


def test_a_refused_resync_writes_no_entry(connection, queued):  # noqa: F811
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.PAUSED)
    with pytest.raises(CommandError, match="fix that before a resync"):
        call_command("resync", connection.customer.legal_name)
    assert not AuditEntry.objects.exists() and not Run.objects.exists()
