"""The client over real loopback HTTP: sockets that time out, drop, or are not there at all."""

import io
import socket

import pytest
from django.core.management import call_command

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import AuthenticationError, TransientError
from integrations.xledger.sandbox import Sandbox
from integrations.xledger.verify import verify


@pytest.fixture(scope="module")
def served():
    sb = Sandbox(seed=1, suppliers=120, clients=3, burst_limit=False)
    with sb.serve(port=0) as url:
        yield sb, url


@pytest.fixture
def sb(served):
    sb, _ = served
    sb.clear_faults()
    yield sb
    sb.clear_faults()


@pytest.fixture
def url(served):
    return served[1]


def connect(sb, url, token="full", **kwargs):
    kwargs.setdefault("sleep", lambda s: None)
    kwargs.setdefault("max_attempts", 3)
    return XledgerClient(sb.demo_tokens[token], url=url, **kwargs)


def test_it_pages_over_http(sb, url):
    with connect(sb, url) as client:
        pages = list(client.paginate(queries.SUPPLIERS, first=50))
    assert [len(p.nodes) for p in pages] == [50, 50, 20]
    assert len({int(n["dbId"]) for p in pages for n in p.nodes}) == 120
    assert client.request_count == 3


def test_it_sends_an_invoice_pdf_over_http(sb, url):
    pdf = b"%PDF-1.4\r\n" + bytes(range(256)) * 64  # binary, and bigger than one read
    item = {
        "clientId": "1",
        "node": {
            "invoiceNumber": "F-11",
            "extIdentifier": "semine-11",
            "transactionSource": {"code": "SEMINE"},
            "invoiceFile": "F-11.pdf",
        },
    }
    with connect(sb, url) as client:
        client.execute(
            queries.ADD_GL_IMPORT_ITEMS,
            {"inputs": [item]},
            mutation=True,
            files={"variables.inputs.0.node.invoiceFile": ("F-11.pdf", pdf, "application/pdf")},
        )
    stored = next(i for i in sb.imports if i["extIdentifier"] == "semine-11")
    assert (stored["invoiceFile"], stored["invoiceFileSize"]) == ("F-11.pdf", len(pdf))


def test_it_verifies_over_http(sb, url):
    with connect(sb, url) as client:
        result = verify(client, sb.owner_db_id)
    assert result.ok
    assert result.requests == 2


def test_it_reports_a_revoked_token_over_http(sb, url):
    with connect(sb, url, "revoked") as client, pytest.raises(AuthenticationError):
        client.execute(queries.CURRENCIES.document(first=1))


def test_it_retries_a_query_after_a_read_timeout(sb, url):
    sb.set_fault("slow", count=1, seconds=0.5)
    with connect(sb, url, timeout=0.2) as client:
        data = client.execute(queries.CURRENCIES.document(first=1))
    assert data["currencies"]["edges"]
    assert client.request_count == 2


def test_it_does_not_resend_a_mutation_after_a_read_timeout(sb, url):
    sb.set_fault("slow", count=1, seconds=0.5, field="addGLImportItems")
    item = {"clientId": "1", "node": {"invoiceNumber": "F-9", "extIdentifier": "semine-9"}}
    item["node"]["transactionSource"] = {"code": "SEMINE"}
    with connect(sb, url, timeout=0.2) as client:
        with pytest.raises(TransientError) as info:
            client.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": [item]}, mutation=True)
        assert info.value.in_doubt
        assert client.request_count == 1


def test_it_reports_a_connection_dropped_after_storing_as_in_doubt(sb, url):
    sb.set_fault("drop_after_store", count=1)
    before = len(sb.imports)
    item = {"clientId": "1", "node": {"invoiceNumber": "F-10", "extIdentifier": "semine-10"}}
    item["node"]["transactionSource"] = {"code": "SEMINE"}
    with connect(sb, url) as client:
        with pytest.raises(TransientError) as info:
            client.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": [item]}, mutation=True)
        assert info.value.in_doubt
        assert client.request_count == 1
    assert len(sb.imports) == before + 1


def test_it_retries_then_reports_an_unreachable_xledger(sb):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = []
    client = XledgerClient(
        sb.demo_tokens["full"],
        url=f"http://127.0.0.1:{port}/graphql",
        sleep=sleeps.append,
        max_attempts=3,
    )
    with client, pytest.raises(TransientError) as info:
        client.execute(queries.CURRENCIES.document(first=1))
    assert not info.value.in_doubt
    assert info.value.attempts == 3
    assert len(sleeps) == 2


def test_it_runs_xledger_check_over_http(sb, url, monkeypatch):
    monkeypatch.setenv("XLEDGER_TOKEN", sb.demo_tokens["no_suppliers"])
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("xledger_check", "--owner", str(sb.owner_db_id), "--url", url, stdout=out)
    assert exit_info.value.code == 1
    assert "✗ The token cannot read suppliers" in out.getvalue()
    assert sb.demo_tokens["no_suppliers"] not in out.getvalue()

    monkeypatch.setenv("XLEDGER_TOKEN", sb.demo_tokens["full"])
    out = io.StringIO()
    call_command("xledger_check", "--owner", str(sb.owner_db_id), "--url", url, stdout=out)
    assert "The token is ready." in out.getvalue()
