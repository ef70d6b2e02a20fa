import httpx
import pytest

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for

from .test_sandbox_import_items import MUTATION, item


def test_it_stores_then_drops_the_connection_in_process():
    sb = Sandbox(dialect="ours", seed=2, suppliers=5, burst_limit=False)
    sb.set_fault("drop_after_store", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client_for(sb).post(
            "/graphql", json={"query": MUTATION, "variables": {"inputs": [item(sb)]}}
        )
    assert len(sb.imports) == 1
    response = client_for(sb).post(
        "/graphql", json={"query": MUTATION, "variables": {"inputs": [item(sb, "2")]}}
    )
    assert response.status_code == 200
    assert len(sb.imports) == 2


def test_it_stores_then_drops_the_connection_over_loopback_http():
    sb = Sandbox(dialect="ours", seed=2, suppliers=5, burst_limit=False)
    sb.set_fault("drop_after_store", count=1)
    headers = {"Authorization": f"token {sb.demo_tokens['full']}"}
    with sb.serve(port=0) as url, httpx.Client(headers=headers, timeout=5) as client:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/graphql")
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(url, json={"query": MUTATION, "variables": {"inputs": [item(sb)]}})
        assert len(sb.imports) == 1
        response = client.post(
            url, json={"query": MUTATION, "variables": {"inputs": [item(sb, "2")]}}
        )
        assert response.status_code == 200
        assert len(response.json()["data"]["addGLImportItems"]["edges"]) == 1


def test_it_does_not_drop_reads():
    sb = Sandbox(dialect="ours", seed=2, suppliers=5, burst_limit=False)
    sb.set_fault("drop_after_store")
    response = client_for(sb).post(
        "/graphql", json={"query": "{ currencies { edges { cursor } } }"}
    )
    assert response.status_code == 200
