"""`manage.py xledger_check`: the checklist in a terminal, the token never on the command line."""

import functools
import io
import json

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.management.commands import xledger_check
from integrations.xledger.client import XledgerClient

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
OWNER = {"dbId": 10001, "code": "SEM", "description": "Semine Demo AS"}


def fake_xledger(request):
    """Every probe allowed; the token belongs to owner 10001."""
    if request.headers["Authorization"] != f"token {TOKEN}":
        return httpx.Response(401, json={"errors": [{"message": "Invalid API token"}]})
    query = json.loads(request.content)["query"]
    if "mutation" in query:
        return httpx.Response(200, json={"data": {"addGLImportItems": {"edges": []}}})
    me = {"dbId": 10001, "code": "SEM", "description": "Semine Demo AS", "owner": OWNER}
    data = {
        alias: {"edges": [{"node": me if alias in ("me", "clients") else {"dbId": 1}}]}
        for alias in ("me", "clients", "suppliers", "supplierDeltas", "currencies")
        + ("objectKinds", "objectValues", "taxTableSetups", "accounts", "assets")
    }
    return httpx.Response(200, json={"data": data})


@pytest.fixture
def urls(monkeypatch):
    """Route the command's client to the fake, and record which URL it was given."""
    used = []

    def make(token, *, url=None, **kwargs):
        used.append(url)
        return XledgerClient(token, url=url, transport=httpx.MockTransport(fake_xledger), **kwargs)

    monkeypatch.setattr(xledger_check, "XledgerClient", make)
    return used


def run(*args):
    out = io.StringIO()
    code = 0
    try:
        call_command("xledger_check", *args, stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


def test_it_prints_the_checklist_and_exits_zero(urls, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)
    code, out = run("--owner", "10001")
    assert code == 0
    assert "✓ The API token is accepted" in out
    assert "✓ Read suppliers" in out
    assert "2 requests" in out
    assert TOKEN not in out


def test_it_exits_one_with_fixes_when_the_owner_differs(urls, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)
    code, out = run("--owner", "555")
    assert code == 1
    assert "✗ The token belongs to Owner ID 555" in out
    assert "belongs to Owner ID 10001" in out


def test_it_exits_one_for_a_rejected_token(urls, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", "SomeOtherTokenValue123456789")
    code, out = run("--owner", "10001")
    assert code == 1
    assert "✗ The API token is accepted" in out


def test_it_prompts_without_echo_when_the_variable_is_unset(urls, monkeypatch):
    monkeypatch.delenv("XLEDGER_TOKEN", raising=False)
    prompts = []
    monkeypatch.setattr(
        xledger_check.getpass, "getpass", lambda prompt: prompts.append(prompt) or TOKEN
    )
    code, _ = run("--owner", "10001")
    assert code == 0
    assert prompts == ["Xledger API token: "]


def test_it_refuses_a_token_as_an_argument(urls, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)
    for args in (["--token", TOKEN], [TOKEN]):
        with pytest.raises(CommandError):
            call_command("xledger_check", "--owner", "10001", *args, stdout=io.StringIO())
    assert urls == []


def test_it_picks_the_endpoint_by_environment(urls, monkeypatch, settings):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)
    settings.XLEDGER_API_URL = "https://prod.test/graphql"
    settings.XLEDGER_DEMO_API_URL = "https://demo.test/graphql"
    run("--owner", "10001")
    run("--owner", "10001", "--environment", "demo")
    run("--owner", "10001", "--url", "http://127.0.0.1:9/graphql")
    assert urls == [
        "https://prod.test/graphql",
        "https://demo.test/graphql",
        "http://127.0.0.1:9/graphql",
    ]


def test_it_reports_an_unreachable_xledger(monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)

    def unreachable(request):
        raise httpx.ConnectError("refused")

    monkeypatch.setattr(
        xledger_check,
        "XledgerClient",
        functools.partial(
            XledgerClient, transport=httpx.MockTransport(unreachable), sleep=lambda s: None
        ),
    )
    with pytest.raises(CommandError, match="could not be reached"):
        call_command("xledger_check", "--owner", "10001", stdout=io.StringIO())
