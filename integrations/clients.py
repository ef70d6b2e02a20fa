"""The one place that builds an Xledger client for a connection.

Tests (and `make run`) point it at the sandbox: either `settings.XLEDGER_TRANSPORT_FACTORY`, a
dotted path to a callable `factory(connection) -> httpx.BaseTransport | None`, or by
monkeypatching `transport_factory` here. In production neither is set and httpx talks HTTPS.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from integrations.xledger.client import XledgerClient

transport_factory = None  # tests: monkeypatch with `lambda connection: sandbox.transport()`


def _transport(connection):
    factory = transport_factory
    if factory is None and getattr(settings, "XLEDGER_TRANSPORT_FACTORY", ""):
        factory = import_string(settings.XLEDGER_TRANSPORT_FACTORY)
    return factory(connection) if factory else None


def client_for(connection, **options) -> XledgerClient:
    """A client for `connection`'s environment with its token (revealed here and nowhere else in
    the engine). Use it as a context manager."""
    return XledgerClient(
        connection.reveal_token(),
        url=connection.api_url,
        transport=_transport(connection),
        **options,
    )
