"""Fixtures shared by the admin tests that touch the engine: nothing really queued, and the
Xledger client pointed at an in-process sandbox."""

import pytest

from integrations import clients, dispatch
from integrations.xledger.sandbox import Sandbox


@pytest.fixture
def queued(monkeypatch):
    """Run ids the engine would have handed to django-q2 (nothing is really queued)."""
    sent = []
    monkeypatch.setattr(dispatch, "_async_task", lambda run_id, name: sent.append(run_id))
    return sent


@pytest.fixture
def sandbox(monkeypatch):
    sb = Sandbox(seed=3, suppliers=50, clients=2, burst_limit=False)
    monkeypatch.setattr(clients, "transport_factory", lambda connection: sb.transport())
    return sb
