"""The engine builds every Xledger client in one place, from the connection."""

from integrations import clients
from integrations.models import Run

from .conftest import sync_now


def sandbox_transport(connection):  # the settings hook's target in this test
    return _SANDBOX.transport()


_SANDBOX = None


def test_it_builds_the_client_from_the_connection(connection, sandbox, monkeypatch, settings):
    global _SANDBOX
    _SANDBOX = sandbox
    monkeypatch.setattr(clients, "transport_factory", None)
    settings.XLEDGER_TRANSPORT_FACTORY = f"{__name__}.sandbox_transport"

    with clients.client_for(connection) as client:
        assert client.url == connection.api_url
        assert connection.reveal_token() not in repr(client)
    run = sync_now(connection, "currencies")

    assert run.status == Run.Status.SUCCEEDED and run.requests == 1
    assert sandbox.requests_by_token(connection.reveal_token()) == 1
