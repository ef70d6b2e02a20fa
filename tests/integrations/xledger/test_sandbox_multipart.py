import orjson

from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.testing import client_for

from .test_sandbox_import_items import MUTATION, item


def test_it_stores_an_uploaded_file_with_its_item():
    sb = Sandbox(dialect="ours", seed=2, suppliers=5, burst_limit=False)
    node = item(sb, "with-pdf")
    node["node"]["invoiceFile"] = None
    operations = {"query": MUTATION, "variables": {"inputs": [node]}}
    pdf = b"%PDF-1.4 faktura " + bytes(range(256)) * 4
    response = client_for(sb).post(
        "/graphql",
        data={
            "operations": orjson.dumps(operations).decode(),
            "map": orjson.dumps({"0": ["variables.inputs.0.node.invoiceFile"]}).decode(),
        },
        files={"0": ("faktura-100.pdf", pdf, "application/pdf")},
    )
    body = orjson.loads(response.content)
    assert response.status_code == 200 and "errors" not in body, body
    (stored,) = sb.imports
    assert (stored["invoiceFile"], stored["invoiceFileSize"]) == ("faktura-100.pdf", len(pdf))


def test_it_matches_a_file_named_in_the_mutation():
    sb = Sandbox(dialect="ours", seed=2, suppliers=5, burst_limit=False)
    node = item(sb, "named", invoiceFile="bilag.pdf")
    operations = {"query": MUTATION, "variables": {"inputs": [node]}}
    response = client_for(sb).post(
        "/graphql",
        data={"operations": orjson.dumps(operations).decode(), "map": "{}"},
        files={"file": ("bilag.pdf", b"12345", "application/pdf")},
    )
    assert response.status_code == 200, response.text
    assert (sb.imports[0]["invoiceFile"], sb.imports[0]["invoiceFileSize"]) == ("bilag.pdf", 5)


def test_it_refuses_a_map_naming_a_missing_part():
    sb = Sandbox(dialect="ours", seed=2, suppliers=5, burst_limit=False)
    response = client_for(sb).post(
        "/graphql",
        data={
            "operations": orjson.dumps({"query": MUTATION, "variables": {"inputs": []}}).decode(),
            "map": orjson.dumps({"7": ["variables.x"]}).decode(),
        },
        files={"0": ("a.pdf", b"1", "application/pdf")},
    )
    assert response.status_code == 400
