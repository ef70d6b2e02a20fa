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

from .documents import root_fields

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
OWNER = {"dbId": 10001, "code": "SEM", "description": "Semine Demo AS"}
REVOKED = {"data": None, "errors": [{"message": "Access denied. The API token is not valid."}]}


class FakeXledger:
    """Every probe allowed; the token belongs to owner 10001. Answers only the fields asked.
    `write` is the answer to the empty batch ("ok", or "invalid" as a server that refuses an
    empty batch before any permission check); `revoked` answers every request as a revoked
    token on HTTP 200; `string_ids` writes dbIds as strings of digits."""

    def __init__(self):
        self.write = "ok"
        self.revoked = False
        self.string_ids = False
        self.queries = []

    def __call__(self, request):
        if request.headers["Authorization"] != f"token {TOKEN}":
            return httpx.Response(401, json={"errors": [{"message": "Invalid API token"}]})
        if self.revoked:
            return httpx.Response(200, json=REVOKED)
        query = json.loads(request.content)["query"]
        self.queries.append(query)
        if query.lstrip().startswith("mutation"):
            if self.write == "invalid":
                error = {"message": "inputs must not be empty", "code": "BAD_REQUEST.VALIDATION"}
                return httpx.Response(200, json={"data": None, "errors": [error]})
            return httpx.Response(200, json={"data": {"addGLImportItems": {"edges": []}}})
        db_id = str if self.string_ids else int
        owner = {**OWNER, "dbId": db_id(OWNER["dbId"])}
        me = {**owner, "owner": owner}
        nodes = {"me": me, "clients": me, "objectKinds": {"dbId": db_id(14), "name": "MVA"}}
        data = {
            f.key: {"edges": [{"node": nodes.get(f.key, {"dbId": db_id(1)})}]}
            for f in root_fields(query)
        }
        return httpx.Response(200, json={"data": data})


@pytest.fixture
def fake():
    return FakeXledger()


@pytest.fixture
def urls(monkeypatch, fake):
    """Route the command's client to the fake, and record which URL it was given."""
    used = []

    def make(token, *, url=None, **kwargs):
        used.append(url)
        return XledgerClient(token, url=url, transport=httpx.MockTransport(fake), **kwargs)

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
    assert "✗ The token does not belong to owner ID 555" in out
    assert "belongs to Owner ID 10001" in out


def test_it_exits_one_for_a_rejected_token(urls, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", "SomeOtherTokenValue123456789")
    code, out = run("--owner", "10001")
    assert code == 1
    assert "✗ Xledger did not accept the API token" in out


def test_it_exits_one_for_a_token_revoked_with_http_200(urls, fake, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)
    fake.revoked = True
    code, out = run("--owner", "10001")
    assert code == 1
    assert "✗ Xledger did not accept the API token" in out
    assert "The API token is not valid" in out
    assert "1 requests" in out


def test_it_passes_with_a_note_when_the_write_scope_cannot_be_known(urls, fake, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)
    fake.write = "invalid"
    code, out = run("--owner", "10001")
    assert code == 0
    assert "✓ Send invoices (write GL import items)" in out
    assert "cannot tell whether the token may write GL import items" in out
    assert "The token is ready." in out


def test_it_probes_fixed_assets_only_when_asked(urls, fake, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)
    _, without = run("--owner", "10001")
    assert "fixed assets" not in without
    assert all("assets" not in query for query in fake.queries)
    code, with_assets = run("--owner", "10001", "--fixed-assets")
    assert code == 0
    assert "✓ Read fixed assets" in with_assets
    assert "assets:" in fake.queries[-2]


def test_it_accepts_db_ids_written_as_strings(urls, fake, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", TOKEN)
    fake.string_ids = True
    code, out = run("--owner", "10001")
    assert code == 0, out
    assert "✓ The token belongs to Owner ID 10001" in out
    assert "owner  10001 SEM" in out


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
