"""POST /api/customers/{id}/invoices and GET .../invoices/{external_id}: validation against the
mirror, idempotency by external id, 409 on a different body, PDFs."""

import base64
import copy
from datetime import date, timedelta

import pytest
from django.utils import timezone

from integrations import dispatch
from integrations.models import (
    Account,
    ApiKey,
    ClientEntity,
    Connection,
    Currency,
    Invoice,
    ObjectKind,
    ObjectValue,
    Run,
    Schedule,
    Supplier,
    VatCode,
)
from tests.api.conftest import ApiClient
from tests.factories import make_connection, make_customer
from tests.integrations.invoices.conftest import PDF

pytestmark = pytest.mark.django_db

OWNER, CLIENT, OTHER = 10001, 10002, 10003


def mirror_row(model, connection, code, owner=None, **fields):
    mirror_row.n = getattr(mirror_row, "n", 0) + 1
    return model.objects.create(
        connection=connection, db_id=fields.pop("db_id", 700_000 + mirror_row.n), code=code,
        owner_db_id=owner, content_hash="x", **fields,
    )  # fmt: skip


def make_intake_connection(name="Fjordbåt Shipping AS", environment="production"):
    customer = make_customer(name, onboarding_status="live")
    connection = make_connection(customer=customer, owner_entity_id=OWNER, environment=environment)
    connection.live_since = timezone.now()
    connection.selected_dimensions = ["AVDELING", "PROSJEKT"]
    connection.save()
    ClientEntity.objects.create(connection=connection, db_id=OWNER, code="1000", is_owner=True)
    ClientEntity.objects.create(connection=connection, db_id=CLIENT, code="1100")
    ClientEntity.objects.create(connection=connection, db_id=OTHER, code="1200", in_scope=False)
    mirror_row(Supplier, connection, "S1", CLIENT)
    mirror_row(Supplier, connection, "S-OWNER", OWNER)
    mirror_row(Supplier, connection, "S-OTHER", OTHER)
    mirror_row(Supplier, connection, "S-GONE", CLIENT, is_deleted=True)
    mirror_row(Currency, connection, "NOK")
    mirror_row(Account, connection, "6300", OWNER)
    mirror_row(Account, connection, "6800", OWNER)
    mirror_row(Account, connection, "6795", OTHER)
    mirror_row(VatCode, connection, "1", OWNER)
    mirror_row(ObjectKind, connection, "AVDELING", db_id=601)
    mirror_row(ObjectKind, connection, "PROSJEKT", db_id=602)
    mirror_row(ObjectKind, connection, "KOSTNADSSTED", db_id=603)
    mirror_row(ObjectValue, connection, "20", OWNER, object_kind_db_id=601)
    mirror_row(ObjectValue, connection, "K1", OWNER, object_kind_db_id=603)
    mirror_row(ObjectValue, connection, "P1", CLIENT, object_kind_db_id=602)
    mirror_row(
        ObjectValue, connection, "P-OLD", CLIENT, object_kind_db_id=602,
        date_to=date(2026, 1, 31),
    )  # fmt: skip
    return connection


def body(**changes):
    invoice = {
        "externalId": "semine-4711",
        "entity": CLIENT,
        "supplierCode": "S1",
        "invoiceNumber": "F-2026-118",
        "invoiceDate": "2026-11-02",
        "dueDate": "2026-12-02",
        "currency": "NOK",
        "amount": "1250.00",
        "vatAmount": "250.00",
        "text": "Rørleggerarbeid",
        "lines": [
            {"account": "6300", "vatCode": "1", "amount": "800.00",
             "dimensions": {"AVDELING": "20", "PROSJEKT": "P1"}},
            {"account": "6800", "vatCode": "1", "amount": "200.00", "text": "Rekvisita"},
        ],
    }  # fmt: skip
    for path, value in changes.items():
        target = invoice
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return invoice


DELETE = object()


@pytest.fixture
def connection(db):
    return make_intake_connection()


@pytest.fixture
def api(db):
    _, key = ApiKey.issue(name="SEMINE production")
    return ApiClient(key)


def url(connection, external_id=None):
    base = f"/api/customers/{connection.customer_id}/invoices"
    return f"{base}/{external_id}" if external_id else base


def post(api, connection, payload):
    return api.post(url(connection), payload, content_type="application/json")


def test_it_accepts_an_invoice_into_the_outbox_and_shows_where_it_is(api, connection):
    response = post(api, connection, body())
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["status"] == "pending"
    assert (answer["externalId"], answer["amount"], answer["entity"]) == (
        "semine-4711", "1250.00", CLIENT,
    )  # fmt: skip

    invoice = Invoice.objects.get()
    assert invoice.item_count == 3
    assert invoice.submitted_by == "SEMINE production"
    first, second = invoice.lines.all()
    assert first.gl_objects == {"1": "20", "2": "P1"}
    assert second.text == "Rekvisita"

    status = api.get(url(connection, "semine-4711"))
    assert status.status_code == 200
    assert status.json()["status"] == "pending"
    assert api.get(url(connection, "unknown-1")).status_code == 404


def test_it_answers_the_same_submission_again_with_the_same_invoice(api, connection):
    first = post(api, connection, body())
    # The same amounts written differently are the same submission.
    again = post(api, connection, body(amount=1250, lines__1__amount="200"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Invoice.objects.count() == 1


def test_it_refuses_a_different_body_under_a_used_external_id(api, connection):
    assert post(api, connection, body()).status_code == 201
    response = post(api, connection, body(invoiceNumber="F-2026-119"))
    assert response.status_code == 409
    assert "semine-4711" in response.json()["detail"]
    assert Invoice.objects.get().invoice_number == "F-2026-118"


def test_it_answers_after_sending_with_the_invoice_as_it_is_now(api, connection):
    post(api, connection, body())
    Invoice.objects.update(status="sent", xledger_db_ids={"SEMINE:semine-4711#0": 5000001})
    again = post(api, connection, body())
    assert again.status_code == 200
    assert again.json()["status"] == "sent"
    assert again.json()["xledgerDbIds"] == {"SEMINE:semine-4711#0": 5000001}


INVALID = [
    ("unknown entity", {"entity": 99999}, ["entity"]),
    ("entity out of scope", {"entity": OTHER}, ["entity"]),
    ("unknown supplier", {"supplierCode": "NOPE"}, ["supplierCode"]),
    ("another entity's supplier", {"supplierCode": "S-OTHER"}, ["supplierCode"]),
    ("deleted supplier", {"supplierCode": "S-GONE"}, ["supplierCode"]),
    ("unknown currency", {"currency": "XXX"}, ["currency"]),
    ("unknown account", {"lines__0__account": "9999"}, ["lines", 0, "account"]),
    ("another entity's account", {"lines__1__account": "6795"}, ["lines", 1, "account"]),
    ("unknown VAT code", {"lines__0__vatCode": "77"}, ["lines", 0, "vatCode"]),
    ("unknown dimension", {"lines__0__dimensions": {"XYZ": "1"}},
     ["lines", 0, "dimensions", "XYZ"]),
    ("dimension not synced", {"lines__0__dimensions": {"KOSTNADSSTED": "K1"}},
     ["lines", 0, "dimensions", "KOSTNADSSTED"]),
    ("unknown dimension value", {"lines__0__dimensions": {"AVDELING": "99"}},
     ["lines", 0, "dimensions", "AVDELING"]),
    ("expired dimension value", {"lines__0__dimensions": {"PROSJEKT": "P-OLD"}},
     ["lines", 0, "dimensions", "PROSJEKT"]),
    ("lines and VAT do not make the total", {"amount": "1250.01"}, ["amount"]),
    ("due before invoice date", {"dueDate": "2026-11-01"}, ["dueDate"]),
    ("three decimals", {"amount": "1250.001"}, ["amount"]),
    ("float noise", {"lines__0__amount": 0.1 + 0.2}, ["lines", 0, "amount"]),
    ("amount not a number", {"vatAmount": "25O.00"}, ["vatAmount"]),
    ("amount as a boolean", {"vatAmount": True}, ["vatAmount"]),
    ("not a date", {"invoiceDate": "02.11.2026"}, ["invoiceDate"]),
    ("no lines", {"lines": []}, ["lines"]),
    ("missing supplier", {"supplierCode": DELETE}, ["supplierCode"]),
    ("bad external id", {"externalId": "a b/c"}, ["externalId"]),
    ("entity as a string", {"entity": "10002"}, ["entity"]),
    ("not a PDF", {"pdf": {"fileName": "x.pdf", "content": base64.b64encode(b"GIF89a").decode()}},
     ["pdf", "content"]),
    ("PDF not base64", {"pdf": {"fileName": "x.pdf", "content": "%%%"}}, ["pdf", "content"]),
]  # fmt: skip


@pytest.mark.parametrize("changes, loc", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_it_refuses_what_xledger_would_refuse_with_field_errors(api, connection, changes, loc):
    response = post(api, connection, body(**changes))
    assert response.status_code == 422, response.content
    locs = [e["loc"] for e in response.json()["detail"]]
    assert ["body", "invoice", *loc] in locs, locs
    assert Invoice.objects.count() == 0


def test_it_names_every_wrong_field_at_once(api, connection):
    response = post(
        api, connection,
        body(supplierCode="NOPE", lines__0__account="9999", lines__1__vatCode="77"),
    )  # fmt: skip
    assert response.status_code == 422
    assert {tuple(e["loc"][2:]) for e in response.json()["detail"]} == {
        ("supplierCode",), ("lines", 0, "account"), ("lines", 1, "vatCode"),
    }  # fmt: skip


def test_it_lets_a_client_entity_use_the_owner_entitys_records(api, connection):
    response = post(api, connection, body(supplierCode="S-OWNER"))
    assert response.status_code == 201


def test_it_keeps_a_pdf_and_refuses_one_over_the_limit(api, connection, settings):
    pdf = {"fileName": "F-2026-118.pdf", "content": base64.b64encode(PDF).decode()}
    response = post(api, connection, body(pdf=pdf))
    assert response.status_code == 201
    invoice = Invoice.objects.get()
    assert bytes(invoice.attachment.content) == PDF
    assert invoice.attachment_size == len(PDF)

    settings.INVOICE_PDF_MAX_BYTES = len(PDF) - 1
    response = post(api, connection, body(externalId="semine-4712", pdf=pdf))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "invoice", "pdf", "content"]


def test_it_takes_a_pdf_larger_than_djangos_upload_limit(api, connection, settings):
    big = b"%PDF-1.7\n" + b"0" * (4 * 1024 * 1024)
    pdf = {"fileName": "scan.pdf", "content": base64.b64encode(big).decode()}
    response = post(api, connection, body(pdf=pdf))
    assert response.status_code == 201, response.content[:300]
    assert Invoice.objects.get().attachment.size == len(big)

    settings.INVOICE_PDF_MAX_BYTES = 1024 * 1024
    response = post(api, connection, body(externalId="semine-4712", pdf=pdf))
    assert response.status_code == 413


def test_it_hides_customers_that_are_not_live_or_not_the_keys(api, connection, db):
    pending_customer = make_customer("Ikke Live AS")
    pending = make_connection(customer=pending_customer)
    assert post(api, pending, body()).status_code == 404

    _, limited = ApiKey.issue(name="other", customer=make_customer("Annen AS"))
    assert post(ApiClient(limited), connection, body()).status_code == 404
    assert post(ApiClient(), connection, body()).status_code == 401
    assert Invoice.objects.count() == 0


def test_it_keeps_submissions_of_two_customers_apart(api, connection):
    # The same owner entity ID in the other environment: one owner entity, one connection.
    other = make_intake_connection("Annen Kunde AS", environment="demo")
    assert post(api, connection, body()).status_code == 201
    assert post(api, other, body(invoiceNumber="X-1")).status_code == 201
    assert Invoice.objects.count() == 2


def test_the_openapi_description_covers_the_intake(client):
    spec = client.get("/api/openapi.json").json()
    post_op = spec["paths"]["/api/customers/{customer_id}/invoices"]["post"]
    assert {"200", "201", "401", "404", "409", "413", "422"} <= set(post_op["responses"])
    get_op = spec["paths"]["/api/customers/{customer_id}/invoices/{external_id}"]["get"]
    assert {"200", "401", "404", "422"} <= set(get_op["responses"])
    list_op = spec["paths"]["/api/customers/{customer_id}/invoices"]["get"]
    assert {"200", "401", "404", "422"} <= set(list_op["responses"])
    copy.deepcopy(spec)  # it is plain JSON


def test_it_lists_invoices_oldest_change_first_with_a_cursor_and_filters(api, connection):
    from integrations.invoices import outbox

    for n in range(3):
        assert post(api, connection, body(externalId=f"semine-{n}")).status_code == 201
    first = Invoice.objects.get(external_id="semine-0")
    token = outbox.new_claim_token()
    Invoice.objects.filter(pk=first.pk).update(status="sending", claimed_by=token)
    assert outbox.finish(
        first, token=token, from_status="sending", status="rejected", xledger_message="nei"
    )

    page = api.get(url(connection), {"limit": 2}).json()
    assert [i["externalId"] for i in page["items"]] == ["semine-1", "semine-2"]
    rest = api.get(url(connection), {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [i["externalId"] for i in rest["items"]] == ["semine-0"]  # it changed last
    assert rest["next_cursor"] is None

    rejected = api.get(url(connection), {"status": "rejected"}).json()["items"]
    assert [(i["externalId"], i["xledgerMessage"]) for i in rejected] == [("semine-0", "nei")]
    since = rejected[0]["updatedAt"]
    changed = api.get(url(connection), {"updated_since": since}).json()["items"]
    assert [i["externalId"] for i in changed] == ["semine-0"]
    assert api.get(url(connection), {"cursor": "nonsense"}).status_code == 422
    assert api.get(url(connection), {"status": "lost"}).status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"updated_since": "0.5"},  # pydantic alone would read these as seconds since 1970
        {"updated_since": "1700000000"},
        {"updated_since": "2026-11-25T13:00:00"},  # no offset: UTC or Oslo?
        {"updated_since": "2026-11-25"},
        {"cursor": "nonsense"},
    ],
)
def test_it_refuses_list_parameters_the_read_api_refuses(api, connection, params):
    """The status feed and the read API share one type per parameter, so they agree."""
    response = api.get(url(connection), params)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", *params]]


def test_it_says_whether_the_pdf_arrived_in_xledger(api, connection):
    pdf = {"fileName": "faktura.pdf", "content": base64.b64encode(PDF).decode()}
    assert post(api, connection, body(externalId="with-pdf", pdf=pdf)).status_code == 201
    assert post(api, connection, body(externalId="without")).status_code == 201
    one = api.get(url(connection, "with-pdf")).json()
    assert one["attachmentStatus"] == ""  # not sent yet
    Invoice.objects.filter(external_id="with-pdf").update(
        status="sent", attachment_status="missing", updated_at=timezone.now()
    )
    assert api.get(url(connection, "with-pdf")).json()["attachmentStatus"] == "missing"
    feed = {
        i["externalId"]: i["attachmentStatus"] for i in api.get(url(connection)).json()["items"]
    }
    assert feed == {"with-pdf": "missing", "without": ""}


def test_an_accepted_invoice_queues_its_run_at_once_and_the_next_one_joins_it(
    api, connection, monkeypatch, django_capture_on_commit_callbacks
):
    """Soon after intake, not at the next 5-minute slot: the invoices run is queued when the
    invoice is stored. A burst becomes one run (it reads the outbox until it is empty)."""
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.OK)
    Schedule.ensure_for(connection)
    later = timezone.now() + timedelta(minutes=4)
    Schedule.objects.filter(connection=connection).update(enabled=True, next_run_at=later)
    sent = []
    monkeypatch.setattr(dispatch, "_async_task", lambda run_id, name: sent.append(run_id))

    with django_capture_on_commit_callbacks(execute=True):
        assert post(api, connection, body()).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert post(api, connection, body(externalId="semine-4712")).status_code == 201

    [run] = Run.objects.filter(connection=connection)
    assert (run.dataset, run.status) == ("invoices", Run.Status.QUEUED)
    assert sent == [run.pk]
