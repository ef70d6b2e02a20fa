"""What goes over the wire: JSON POSTs, multipart uploads in Xledger's own form, and a count of
every request."""

import json

import httpx
import pytest

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import PermissionDenied, TransientError

from .documents import multipart_parts, variable_names

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
CURRENCIES = queries.CURRENCIES.document(first=5)


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


def test_it_posts_json_with_the_query_and_no_variables_for_a_read():
    handler, seen = recording(httpx.Response(200, json={"data": {"currencies": None}}))
    with make_client(handler) as client:
        data = client.execute(CURRENCIES)
    assert data == {"currencies": None}
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://xledger.test/graphql"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert json.loads(request.content) == {"query": CURRENCIES, "variables": {}}


def test_the_mutation_is_the_only_document_with_a_typed_variable():
    inputs = [{"clientId": "1", "node": {"invoiceNumber": "F-1", "extIdentifier": "semine-1"}}]
    handler, seen = recording(httpx.Response(200, json={"data": {"addGLImportItems": {}}}))
    with make_client(handler) as client:
        client.execute(queries.ADD_GL_IMPORT_ITEMS, {"inputs": inputs}, mutation=True)
    body = json.loads(seen[0].content)
    assert body == {"query": queries.ADD_GL_IMPORT_ITEMS, "variables": {"inputs": inputs}}
    assert variable_names(body["query"]) == ["inputs"]
    assert "$inputs: [AddGLImportItemsInput!]!" in body["query"]


def test_it_uses_the_url_from_settings_by_default(settings):
    settings.XLEDGER_API_URL = "https://sandbox.test/graphql"
    handler, seen = recording(httpx.Response(200, json={"data": {}}))
    with XledgerClient(TOKEN, transport=httpx.MockTransport(handler)) as client:
        client.execute(CURRENCIES)
    assert str(seen[0].url) == "https://sandbox.test/graphql"


def test_it_counts_every_request_including_failed_and_retried_ones():
    handler, seen = recording(
        httpx.Response(503),
        httpx.Response(200, json={"data": {"x": 1}}),
        httpx.Response(200, json={"errors": [{"message": "no", "code": "FORBIDDEN"}]}),
    )
    with make_client(handler, max_attempts=3) as client:
        assert client.request_count == 0
        client.execute(CURRENCIES)
        assert client.request_count == 2
        with pytest.raises(PermissionDenied):
            client.execute(CURRENCIES)
        assert client.request_count == 3


def test_it_counts_requests_that_never_connected():
    handler, seen = recording(httpx.ConnectError("refused"))
    with make_client(handler, max_attempts=2) as client, pytest.raises(TransientError):
        client.execute(CURRENCIES)
    assert client.request_count == 2


# --- Multipart: Xledger's form (files first, the JSON last) ---------------------------------------


def import_input(client_id, file_name):
    return {"clientId": client_id, "node": {"invoiceNumber": "F-1", "invoiceFile": file_name}}


def send_with_files(files: dict, variables: dict):
    handler, seen = recording(
        httpx.Response(200, json={"data": {"addGLImportItems": {"edges": []}}})
    )
    with make_client(handler) as client:
        client.execute(queries.ADD_GL_IMPORT_ITEMS, variables, mutation=True, files=files)
    request = seen[0]
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    return multipart_parts(request.content, content_type)


PDF = b"%PDF-1.4\r\n--not-a-boundary\r\n\x00\xff binary"
TWO_FILES = {
    "variables.inputs.0.node.invoiceFile": ("F-1.pdf", PDF, "application/pdf"),
    "variables.inputs.1.node.invoiceFile": ("F-2.png", b"\x89PNG", "image/png"),
}
TWO_INPUTS = {"inputs": [import_input("1", "F-1.pdf"), import_input("2", "F-2.png")]}


def test_it_sends_the_file_parts_first_then_map_then_the_json_last():
    parts = send_with_files(TWO_FILES, TWO_INPUTS)
    assert [p.name for p in parts] == ["0", "1", "map", "operations"]
    assert [(p.filename, p.content_type, p.content) for p in parts[:2]] == [
        ("F-1.pdf", "application/pdf", PDF),
        ("F-2.png", "image/png", b"\x89PNG"),
    ]
    assert json.loads(parts[2].content) == {
        "0": ["variables.inputs.0.node.invoiceFile"],
        "1": ["variables.inputs.1.node.invoiceFile"],
    }


def test_the_json_part_is_the_last_and_only_json_part_and_carries_a_filename():
    parts = send_with_files(TWO_FILES, TWO_INPUTS)
    operations = parts[-1]
    assert operations.content_type == "application/json"
    assert operations.filename  # Xledger's sample sends the JSON part as a file
    assert json.loads(operations.content) == {
        "query": queries.ADD_GL_IMPORT_ITEMS,
        "variables": TWO_INPUTS,
    }
    # A server that takes "the application/json part" must not find the map first.
    assert [p.name for p in parts if p.content_type == "application/json"] == ["operations"]


def test_invoice_file_in_the_json_names_the_file_part():
    parts = send_with_files(TWO_FILES, TWO_INPUTS)
    variables = json.loads(parts[-1].content)["variables"]
    files = {p.name: p.filename for p in parts[:-2]}
    mapping = json.loads(parts[-2].content)
    for part_name, (path,) in mapping.items():
        *steps, last = path.split(".")[1:]  # "variables." is the JSON's own key
        node = variables
        for step in steps:
            node = node[int(step)] if isinstance(node, list) else node[step]
        assert node[last] == files[part_name]  # the file's name, where the map points
    assert [i["node"]["invoiceFile"] for i in variables["inputs"]] == ["F-1.pdf", "F-2.png"]


def test_a_json_request_has_no_multipart_at_all():
    handler, seen = recording(httpx.Response(200, json={"data": {}}))
    with make_client(handler) as client:
        client.execute(queries.ADD_GL_IMPORT_ITEMS, TWO_INPUTS, mutation=True, files={})
    assert seen[0].headers["Content-Type"] == "application/json"


def test_it_closes_its_connection_pool():
    handler, _ = recording(httpx.Response(200, json={"data": {}}))
    with make_client(handler) as client:
        pass
    assert client._http.is_closed
