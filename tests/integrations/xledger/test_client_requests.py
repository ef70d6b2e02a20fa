"""What goes over the wire: JSON POSTs, multipart uploads, and a count of every request."""

import json

import httpx
import pytest

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import PermissionDenied, TransientError

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"


def recording(*responses):
    seen = []

    def handler(request):
        seen.append(request)
        item = responses[min(len(seen), len(responses)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


def make_client(handler, **kwargs):
    return XledgerClient(
        TOKEN,
        url="https://xledger.test/graphql",
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        **kwargs,
    )


def test_it_posts_json_with_query_and_variables():
    handler, seen = recording(httpx.Response(200, json={"data": {"currencies": None}}))
    with make_client(handler) as client:
        data = client.execute(queries.CURRENCIES, {"first": 5, "ownerSet": "ALL"})
    assert data == {"currencies": None}
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://xledger.test/graphql"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.content)
    assert body == {"query": queries.CURRENCIES, "variables": {"first": 5, "ownerSet": "ALL"}}


def test_it_uses_the_url_from_settings_by_default(settings):
    settings.XLEDGER_API_URL = "https://sandbox.test/graphql"
    handler, seen = recording(httpx.Response(200, json={"data": {}}))
    with XledgerClient(TOKEN, transport=httpx.MockTransport(handler)) as client:
        client.execute(queries.CURRENCIES)
    assert str(seen[0].url) == "https://sandbox.test/graphql"


def test_it_counts_every_request_including_failed_and_retried_ones():
    handler, seen = recording(
        httpx.Response(503),
        httpx.Response(200, json={"data": {"x": 1}}),
        httpx.Response(200, json={"errors": [{"message": "no", "code": "FORBIDDEN"}]}),
    )
    with make_client(handler, max_attempts=3) as client:
        assert client.request_count == 0
        client.execute(queries.CURRENCIES)
        assert client.request_count == 2
        with pytest.raises(PermissionDenied):
            client.execute(queries.CURRENCIES)
        assert client.request_count == 3


def test_it_counts_requests_that_never_connected():
    handler, seen = recording(httpx.ConnectError("refused"))
    with make_client(handler, max_attempts=2) as client, pytest.raises(TransientError):
        client.execute(queries.CURRENCIES)
    assert client.request_count == 2


def test_it_sends_files_as_a_graphql_multipart_request():
    handler, seen = recording(
        httpx.Response(200, json={"data": {"addGLImportItems": {"edges": []}}})
    )
    variables = {"inputs": [{"clientId": "1", "node": {"invoiceFile": None}}]}
    pdf = b"%PDF-1.4 fake"
    with make_client(handler) as client:
        client.execute(
            queries.ADD_GL_IMPORT_ITEMS,
            variables,
            mutation=True,
            files={"variables.inputs.0.node.invoiceFile": ("inv-1.pdf", pdf, "application/pdf")},
        )
    request = seen[0]
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    parts = multipart_parts(request.content, content_type.split("boundary=")[1])
    assert json.loads(parts["operations"][1]) == {
        "query": queries.ADD_GL_IMPORT_ITEMS,
        "variables": variables,
    }
    assert json.loads(parts["map"][1]) == {"0": ["variables.inputs.0.node.invoiceFile"]}
    assert parts["0"] == ("inv-1.pdf", pdf)


def multipart_parts(body: bytes, boundary: str) -> dict[str, tuple[str | None, bytes]]:
    """name -> (filename, content) of each part of a multipart/form-data body."""
    parts = {}
    for chunk in body.split(b"--" + boundary.encode())[1:-1]:
        head, _, content = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        disposition = head.decode().split("\r\n")[0]
        fields = dict(
            item.strip().split("=", 1) for item in disposition.split(";")[1:] if "=" in item
        )
        filename = fields.get("filename", "").strip('"') or None
        parts[fields["name"].strip('"')] = (filename, content)
    return parts


def test_it_closes_its_connection_pool():
    handler, _ = recording(httpx.Response(200, json={"data": {}}))
    with make_client(handler) as client:
        pass
    assert client._http.is_closed
