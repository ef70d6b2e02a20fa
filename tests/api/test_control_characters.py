"""NUL and other control characters are refused at the edge of the invoice API with a 422 field
error, on every database: PostgreSQL cannot store NUL in text, and the others have no business in
an invoice. Tab and line breaks (LF, CR) stay allowed."""

import pytest

from integrations.models import ApiKey
from tests.api.conftest import ApiClient
from tests.integrations.invoices.test_intake_api import body, make_intake_connection, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(db):
    return make_intake_connection()


@pytest.fixture
def api(db):
    _, key = ApiKey.issue(name="SEMINE production")
    return ApiClient(key)


# Every text field of the intake body, as `body()` paths (the dimension key is handled below).
TEXT_FIELDS = [
    "supplierCode",
    "invoiceNumber",
    "currency",
    "text",
    "lines__0__account",
    "lines__0__vatCode",
    "lines__1__text",
    "lines__0__dimensions__AVDELING",
]


def _locs(response):
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x0b", "\x7f"])
def test_it_refuses_a_control_character_in_any_text_field(api, connection, field, character):
    response = post(api, connection, body(**{field: f"S1{character}"}))
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/json")
    assert ["body", "invoice", *field.split("__")] in [
        [str(part) for part in loc] for loc in _locs(response)
    ], _locs(response)
    assert "control character" in response.content.decode()


def test_it_refuses_a_nul_in_a_dimension_kind_and_the_pdf_file_name(api, connection):
    invoice = body()
    invoice["lines"][0]["dimensions"] = {"AVDELING\x00": "20"}
    invoice["pdf"] = {"fileName": "invoice\x00.pdf", "content": "JVBERi0xLjQK"}
    response = post(api, connection, invoice)
    assert response.status_code == 422, response.content
    assert response.content.decode().count("control character") == 2


def test_tab_and_newline_stay_allowed_in_free_text(api, connection):
    response = post(api, connection, body(text="Line one\r\nLine two\tand a tab"))
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_it_refuses_an_unpaired_surrogate_in_any_text_field(api, connection, field):
    """JSON can escape one ("\\ud800"); it is no character and no database driver stores it."""
    response = post(api, connection, body(**{field: "S1\ud800"}))
    assert response.status_code == 422, response.content
    assert ["body", "invoice", *field.split("__")] in [
        [str(part) for part in loc] for loc in _locs(response)
    ], _locs(response)
    # Ours ("unpaired surrogate") or pydantic's own, when its str check runs first.
    assert any(m in response.content.decode() for m in ("unpaired surrogate", "unicode string"))


def test_a_paired_surrogate_escape_is_just_a_character(api, connection):
    response = post(api, connection, body(text="Kaffe \ud83d\ude00"))  # one emoji, escaped
    assert response.status_code == 201, response.json()
