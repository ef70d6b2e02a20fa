"""Builders for the invoice tests: a live connection to a sandbox, invoices straight into the
outbox (bypassing intake), and a client bound to the sandbox that never really sleeps.

The sandbox plays the dialect XLEDGER_SANDBOX_DIALECT names ("ours" by default); CI runs these
tests under every dialect."""

import dataclasses
import itertools
from datetime import date, timedelta
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import orjson
import pytest
from django.utils import timezone

from integrations.invoices import batch, mapping
from integrations.models import ClientEntity, Connection, Invoice, InvoiceAttachment, InvoiceLine
from integrations.xledger.client import XledgerClient
from integrations.xledger.sandbox import Sandbox
from integrations.xledger.sandbox.dialects import dialect_from_env
from tests.factories import make_connection, make_customer

OWNER_DB_ID = 10001
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_numbers = itertools.count(1)


def make_sandbox(**kwargs):
    kwargs.setdefault("suppliers", 40)
    kwargs.setdefault("clients", 2)
    kwargs.setdefault("burst_limit", False)
    return Sandbox(seed=1, **kwargs)


def sandbox_with(**knobs):
    """A sandbox playing the dialect of this run (XLEDGER_SANDBOX_DIALECT) with `knobs` changed,
    e.g. `sandbox_with(batch_errors="whole")`, whose input dbId form workers already know."""
    base = dialect_from_env()
    name = ",".join([base.name, *(f"{k}={v}" for k, v in knobs.items())])
    sb = make_sandbox(dialect=dataclasses.replace(base, name=name, **knobs))
    batch.remember_db_id_form(sb.url, db_id_form_of(sb))
    return sb


def sandbox_connection(sb, name="Fjordbåt Shipping AS"):
    customer = make_customer(name, onboarding_status="live")
    connection = make_connection(
        customer=customer, token=sb.demo_tokens["full"], owner_entity_id=sb.owner_db_id
    )
    connection.status = Connection.Status.OK
    connection.live_since = timezone.now()
    connection.save()
    ClientEntity.objects.create(
        connection=connection, db_id=sb.owner_db_id, code="1000", is_owner=True
    )
    for db_id in sb.client_entity_ids:
        ClientEntity.objects.create(connection=connection, db_id=db_id, code=str(db_id))
    return connection


def supplier_code_for(sb, entity_db_id):
    for row in sb.records("suppliers"):
        if row["ownerDbId"] in (entity_db_id, sb.owner_db_id):
            return row["code"]
    raise AssertionError("no supplier visible to that entity")


def make_client(sb, connection=None, *, transport=None, **options):
    options.setdefault("sleep", lambda seconds: None)
    token = connection.reveal_token() if connection else sb.demo_tokens["full"]
    return XledgerClient(token, url=sb.url, transport=transport or sb.transport(), **options)


def invoice_rows(
    connection,
    count=1,
    *,
    entity=None,
    supplier="20000",
    lines=(("6300", "1", "80.00"), ("6800", "1", "20.00")),
    vat="25.00",
    prefix="INV",
    pdf=None,
):
    """Pending invoices straight into the outbox, in a constant number of queries."""
    if count == 0:
        return []
    entity = entity or connection.entities.filter(is_owner=False).first()
    net = sum(Decimal(a) for _, _, a in lines)
    invoices = []
    for _ in range(count):
        n = next(_numbers)
        invoices.append(
            Invoice(
                connection=connection,
                entity=entity,
                external_id=f"{prefix}-{n}",
                request_hash="x" * 64,
                supplier_code=supplier,
                invoice_number=f"{prefix}{n:06d}",
                invoice_date=date(2026, 11, 2),
                due_date=date(2026, 11, 2) + timedelta(days=30),
                currency="NOK",
                amount=net + Decimal(vat),
                vat_amount=Decimal(vat),
                item_count=1 + len(lines),
                attachment_size=len(pdf or b""),
            )
        )
    invoices = Invoice.objects.bulk_create(invoices)
    if invoices[0].pk is None:  # backends without RETURNING
        invoices = list(
            Invoice.objects.filter(external_id__in=[i.external_id for i in invoices]).order_by("id")
        )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=inv, position=p, account=a, vat_code=v, amount=Decimal(x))
        for inv in invoices
        for p, (a, v, x) in enumerate(lines, start=1)
    )
    if pdf:
        InvoiceAttachment.objects.bulk_create(
            InvoiceAttachment(
                invoice=inv,
                file_name=f"{inv.invoice_number}.pdf",
                content=pdf,
                size=len(pdf),
                sha256="",
            )  # fmt: skip
            for inv in invoices
        )
    return invoices


def imports_by_client_id(sb) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in sb.imports:
        found.setdefault(item["clientId"], []).append(item)
    return found


def assert_exactly_once(sb, connection):
    """Every invoice is sent, each of its items is in the sandbox exactly once, and the dbIds we
    recorded are the sandbox's."""
    stored = imports_by_client_id(sb)
    duplicated = {cid: len(items) for cid, items in stored.items() if len(items) > 1}
    assert not duplicated, f"items stored more than once: {list(duplicated.items())[:5]}"
    invoices = list(Invoice.objects.filter(connection=connection))
    statuses = {}
    for invoice in invoices:
        statuses[invoice.status] = statuses.get(invoice.status, 0) + 1
    assert statuses == {Invoice.Status.SENT: len(invoices)}, statuses
    expected = set()
    for invoice in invoices:
        for cid in mapping.client_ids(invoice):
            expected.add(cid)
            assert cid in stored, f"{cid} lost"
            assert invoice.xledger_db_ids[cid] == stored[cid][0]["dbId"]
    assert set(stored) == expected


@pytest.fixture
def sb():
    return make_sandbox()


@pytest.fixture
def connection(db, sb):
    return sandbox_connection(sb)


@pytest.fixture
def xl(sb, connection):
    with make_client(sb, connection) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_settle_delay(settings):
    settings.INVOICE_IN_DOUBT_SETTLE_SECONDS = 0


def db_id_form_of(sb) -> str:
    """The input dbId form the sandbox's dialect accepts (mapping.DB_ID_FORMS)."""
    return "number" if sb.dialect.dbid_type == "Int" else "string"


@pytest.fixture(autouse=True)
def _db_id_form_known(request):
    """A worker learns the input dbId form once per process (one request more the first time,
    see batch.py; test_db_id_form.py tests that). Each test starts from what a long-running
    worker knows about its sandbox, so request counts are the same under every dialect."""
    batch.forget_db_id_forms()
    if "sb" in request.fixturenames:
        sb = request.getfixturevalue("sb")
        batch.remember_db_id_form(sb.url, db_id_form_of(sb))
    yield
    batch.forget_db_id_forms()


# --- A server that differs from the sandbox in one way ----------------------------------------


class Rewriting(httpx.BaseTransport):
    """Wraps a transport: `request(httpx.Request) -> httpx.Request` and
    `answer(request, status, body: dict) -> (status, body)` may change what goes in and out;
    `refuse(request) -> (status, body) | None` answers instead of the sandbox."""

    def __init__(self, inner, *, request=None, answer=None, refuse=None):
        self.inner = inner
        self.rewrite_request = request
        self.rewrite_answer = answer
        self.refuse = refuse
        self.mutations = 0  # addGLImportItems calls seen
        self.reads = 0  # every other request

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if is_mutation(request):
            self.mutations += 1
        else:
            self.reads += 1
        if self.rewrite_request is not None:
            request = self.rewrite_request(request)
        refusal = self.refuse(request) if self.refuse is not None else None
        if refusal is not None:
            return httpx.Response(refusal[0], json=refusal[1], request=request)
        response = self.inner.handle_request(request)
        if self.rewrite_answer is None:
            return response
        response.read()
        body = orjson.loads(response.content)
        status, body = self.rewrite_answer(request, response.status_code, body)
        return httpx.Response(status, json=body, request=request)


def graphql_of(request: httpx.Request) -> dict:
    """The JSON body of a request, plain or the JSON part of a multipart one."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/"):
        return orjson.loads(request.content)
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.content
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "operations":
            return orjson.loads(part.get_payload(decode=True))
    raise AssertionError("no JSON part")


def is_mutation(request: httpx.Request) -> bool:
    return "addGLImportItems" in graphql_of(request).get("query", "")


def without_files(request: httpx.Request) -> httpx.Request:
    """A server that loses the file parts: the mutation arrives as JSON, invoiceFile null."""
    if not request.headers.get("content-type", "").startswith("multipart/"):
        return request
    body = graphql_of(request)
    for item in body["variables"]["inputs"]:
        item["node"]["invoiceFile"] = None
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    headers["content-type"] = "application/json"
    return httpx.Request(request.method, request.url, headers=headers, content=orjson.dumps(body))


def naming_no_input(request, status, body):
    """A server that refuses a call without saying which input is bad."""
    if is_mutation(request) and body.get("errors"):
        body["errors"] = [{"message": e["message"], "code": e.get("code")} for e in body["errors"]]
    return status, body
