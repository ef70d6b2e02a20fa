"""The client information journey: the organisation number lookup in Brønnøysundregistrene (a
local fake, never the real register), the sections with their progress, the error summary in page
order and a date help text that names no format."""

import logging
import re

import httpx
import pytest

from portal import brreg, brreg_fake
from portal.models import AuditEntry
from tests.portal.conftest import client_information

URL = "/client-information/"
REGISTER = "https://register.test/enhetsregisteret/api"


def _body(response):
    return response.content.decode()


@pytest.fixture
def register(settings, monkeypatch):
    """The fake register; returns the requests it was sent."""
    settings.BRREG_LOOKUP = True
    settings.BRREG_URL = REGISTER
    calls = []

    def answer(request):
        calls.append(request)
        return brreg_fake.answer(request)

    monkeypatch.setattr(brreg, "transport_factory", lambda: httpx.MockTransport(answer))
    return calls


def _lookup(client, **overrides):
    return client.post(URL, {**client_information(**overrides), "brreg_lookup": "1"})


def _error_links(body):
    summary = body.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'href="#([^"]+)"', summary)


# --- The lookup ----------------------------------------------------------------------------------


def test_it_fills_only_the_empty_fields_and_keeps_what_was_typed(
    customer_client, customer, register
):
    response = _lookup(
        customer_client,
        organisation_number="923 609 016",
        legal_name="Nordlys Regnskap",
        street_address="",
        postal_code="",
        city="",
        expected_invoice_volume="",
        notes="Ring før 10",
    )
    assert response.status_code == 200
    body = _body(response)
    assert [str(r.url) for r in register] == [f"{REGISTER}/enheter/923609016"]
    # filled where empty
    assert 'value="c/o Nordlys Hus, Storgata 10"' in body
    assert 'value="9008"' in body and 'value="TROMSØ"' in body
    # typed by the customer: kept, the register's differing name only mentioned
    assert 'value="Nordlys Regnskap"' in body
    assert 'value="NORDLYS REGNSKAP AS"' not in body
    assert "Kept as you typed them" in body and "NORDLYS REGNSKAP AS" in body
    for value in ("923 609 016", "Kari Nordmann", "ola@fjordbat.example", "2400", "1500"):
        assert f'value="{value}"' in body, value
    assert "Ring før 10" in body
    assert "Filled in from Brønnøysundregistrene: Street address, Postal code, City" in body
    # nothing judged (an empty required field is no error yet), nothing saved
    assert "error-summary" not in body
    customer.refresh_from_db()
    assert customer.organisation_number == "" and customer.city == ""
    assert not AuditEntry.objects.filter(action__startswith="client_information").exists()


def test_the_filled_in_form_saves(customer_client, customer, register):
    data = client_information(
        organisation_number="923609016", street_address="", postal_code="", city=""
    )
    _lookup(customer_client, **{k: v for k, v in data.items() if "-" not in k})
    response = customer_client.post(
        URL, {**data, "street_address": "c/o Nordlys Hus, Storgata 10", "city": "TROMSØ"}
    )
    assert response.status_code == 400  # the postal code is still empty: the lookup saved nothing
    response = customer_client.post(
        URL,
        {
            **data,
            "street_address": "c/o Nordlys Hus, Storgata 10",
            "postal_code": "9008",
            "city": "TROMSØ",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "TROMSØ"


def test_a_name_the_register_writes_in_capitals_is_not_called_different(customer_client, register):
    body = _body(
        _lookup(
            customer_client,
            organisation_number="974760673",
            street_address="Bryggen 1",
            postal_code="5003",
            city="Bergen",
        )
    )
    assert "Kept as you typed them" not in body
    assert "Brønnøysundregistrene agrees with what is filled in." in body
    assert 'value="Fjordbåt Shipping AS"' in body and 'value="Bergen"' in body


@pytest.mark.parametrize(
    "number,warning",
    [
        ("910000004", "KONKURSBO BÅTBYGG AS is bankrupt (konkurs)"),
        ("910000012", "AVVIKLING HANDEL AS is being wound up (under avvikling)"),
        ("910000020", "TVANG DRIFT AS is being compulsorily wound up or dissolved"),
        ("910000039", "910 000 039 was deleted from the register on May 31, 2023"),
    ],
)
def test_it_warns_of_a_bankrupt_wound_up_or_deleted_company(
    customer_client, customer, register, number, warning
):
    response = _lookup(customer_client, organisation_number=number)
    assert response.status_code == 200
    body = _body(response)
    assert "Warning:" in body and warning in body, body
    assert "You can still save." in body
    # a warning, never a block: the same number saves
    response = customer_client.post(URL, client_information(organisation_number=number))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.organisation_number == f"{number[:3]} {number[3:6]} {number[6:]}"


def test_a_healthy_company_gets_no_warning(customer_client, register):
    body = _body(_lookup(customer_client, organisation_number="923609016"))
    assert "Warning:" not in body


def test_an_unknown_number_says_so(customer_client, register):
    body = _body(_lookup(customer_client, organisation_number="923609024"))
    assert "has no company with organisation number 923 609 024" in body
    assert len(register) == 1


def _down(request):
    raise httpx.ConnectError("connection refused", request=request)


def _slow(request):
    raise httpx.ReadTimeout("timed out", request=request)


def _garbage(request):
    return httpx.Response(200, text="<html>maintenance</html>")


def _wrong_json(request):
    return httpx.Response(200, json=["navn", "forretningsadresse"])


def _server_error(request):
    return httpx.Response(503, text="Service Unavailable")


@pytest.mark.parametrize("answer", [_down, _slow, _garbage, _wrong_json, _server_error])
def test_a_register_that_is_down_says_fill_in_by_hand_and_the_form_still_saves(
    customer_client, customer, settings, monkeypatch, caplog, answer
):
    settings.BRREG_LOOKUP = True
    monkeypatch.setattr(brreg, "transport_factory", lambda: httpx.MockTransport(answer))
    with caplog.at_level(logging.WARNING, logger="portal.brreg"):
        response = _lookup(customer_client, organisation_number="923609016", city="")
    assert response.status_code == 200
    body = _body(response)
    assert "could not be reached just now. Fill in the fields by hand" in body
    assert 'value="Strandgata 1"' in body and 'value="Kari Nordmann"' in body
    assert any("923609016" in r.getMessage() for r in caplog.records)
    response = customer_client.post(URL, client_information(organisation_number="923609016"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.organisation_number == "923 609 016"


def test_the_register_is_asked_with_a_short_timeout(settings, monkeypatch):
    seen = {}

    def answer(request):
        seen.update(request.extensions["timeout"])
        return brreg_fake.answer(request)

    monkeypatch.setattr(brreg, "transport_factory", lambda: httpx.MockTransport(answer))
    assert brreg.lookup("923609016").name == "NORDLYS REGNSKAP AS"
    assert 0 < seen["read"] <= 2 and 0 < seen["connect"] <= 2


def test_lookup_never_raises(monkeypatch):
    def broken():
        raise RuntimeError("a broken transport factory")

    monkeypatch.setattr(brreg, "transport_factory", broken)
    assert brreg.lookup("923609016") is None
    assert brreg.lookup("not a number") is None


def test_a_second_lookup_is_answered_from_the_cache(customer_client, register):
    _lookup(customer_client, organisation_number="923609016", postal_code="")
    body = _body(_lookup(customer_client, organisation_number="923609016", postal_code=""))
    assert 'value="9008"' in body
    assert len(register) == 1


def test_a_deleted_company_without_a_body_is_still_deleted(monkeypatch):
    monkeypatch.setattr(
        brreg,
        "transport_factory",
        lambda: httpx.MockTransport(lambda request: httpx.Response(410, text="Gone")),
    )
    company = brreg.lookup("910000039")
    assert company.deleted and company.deleted_on is None


def test_a_wrong_check_digit_is_refused_before_the_register_is_asked(customer_client, register):
    body = _body(_lookup(customer_client, organisation_number="923609017"))
    assert "not a valid organisation number for Norway" in body
    assert register == []


def test_it_is_not_offered_to_a_swedish_customer(customer_client, customer, register):
    assert 'name="brreg_lookup"' in _body(customer_client.get(URL))
    customer.country = "SE"
    customer.save()
    assert 'name="brreg_lookup"' not in _body(customer_client.get(URL))
    body = _body(_lookup(customer_client, country="SE", organisation_number="5560360793"))
    assert "Norwegian organisation numbers only" in body
    assert 'value="5560360793"' in body
    assert register == []


def test_it_is_not_offered_when_switched_off(customer_client, register, settings):
    settings.BRREG_LOOKUP = False
    assert 'name="brreg_lookup"' not in _body(customer_client.get(URL))
    body = _body(_lookup(customer_client, organisation_number="923609016", city=""))
    assert "switched off" in body and register == []


def test_enter_in_a_field_saves_rather_than_looks_up(customer_client, register):
    """The first submit button of a form is the one Enter presses."""
    body = _body(customer_client.get(URL))
    form = body.split('<form method="post"', 1)[1]
    first = re.search(r"<button[^>]*>", form).group()
    assert 'type="submit"' in first and "brreg_lookup" not in first and "save_draft" not in first


# --- Sections and progress -----------------------------------------------------------------------

SECTIONS = ["company", "contacts", "invoices", "fixed-assets", "go-live"]


def _states(body):
    nav = body.split('<nav class="sections"', 1)[1].split("</nav>", 1)[0]
    return dict(
        (key, state)
        for state, key in re.findall(
            r'<li class="(complete|incomplete)"><a href="#section-([\w-]+)"', nav
        )
    )


def test_the_page_is_in_sections_with_a_navigation(customer_client):
    body = _body(customer_client.get(URL))
    assert list(_states(body)) == SECTIONS
    for key in SECTIONS:
        assert f'<fieldset id="section-{key}">' in body
    positions = [body.index(f'id="section-{key}"') for key in SECTIONS]
    assert positions == sorted(positions)


def test_the_progress_counts_complete_sections(customer_client, customer):
    body = _body(customer_client.get(URL))
    # a new customer: only fixed assets (nothing required there) is complete
    assert "1 of 5 sections complete" in body
    assert _states(body) == {
        "company": "incomplete",
        "contacts": "incomplete",
        "invoices": "incomplete",
        "fixed-assets": "complete",
        "go-live": "incomplete",
    }
    draft = {
        k: v
        for k, v in client_information().items()
        if k.startswith("contact_")
        or k in ("legal_name", "country", "organisation_number", "street_address")
        or k in ("postal_code", "city")
    }
    customer_client.post(URL, {**draft, "save_draft": "1"})
    body = _body(customer_client.get(URL))
    assert "3 of 5 sections complete" in body
    assert _states(body)["company"] == "complete" and _states(body)["contacts"] == "complete"
    customer_client.post(URL, {**client_information(), "save_draft": "1"})
    assert "5 of 5 sections complete" in _body(customer_client.get(URL))


def test_a_section_needing_more_is_not_complete(customer_client):
    data = client_information(
        fixed_assets_apply="on", fixed_assets_as_dimension="on", fixed_assets_dimension_name=""
    )
    customer_client.post(URL, {**data, "save_draft": "1"})
    body = _body(customer_client.get(URL))
    assert "4 of 5 sections complete" in body
    assert _states(body)["fixed-assets"] == "incomplete"


# --- Errors in page order and the date help ----------------------------------------------------


def test_the_error_summary_is_in_page_order(customer_client):
    data = client_information(
        legal_name="",
        city="",
        supplier_posting_account="",
        desired_go_live="",
        fixed_assets_apply="on",
        fixed_assets_as_dimension="on",
        fixed_assets_dimension_name="",
        **{"contact_finance-name": "", "contact_project-email": "not-an-address"},
    )
    response = customer_client.post(URL, data)
    assert response.status_code == 400
    body = _body(response)
    assert _error_links(body) == [
        "id_legal_name",
        "id_city",
        "id_contact_project-email",
        "id_contact_finance-name",
        "id_supplier_posting_account",
        "id_fixed_assets_dimension_name",
        "id_desired_go_live",
    ]
    # and that is the order of the fields on the page
    positions = [body.index(f'id="{field_id}"') for field_id in _error_links(body)]
    assert positions == sorted(positions)


@pytest.mark.parametrize("language", ["en", "nb"])
def test_the_date_help_names_no_format(customer_client, language):
    customer_client.cookies["django_language"] = language
    body = _body(customer_client.get(URL))
    assert 'type="date"' in body
    assert "YYYY" not in body and "ÅÅÅÅ" not in body
    if language == "en":
        assert "Choose today or a later date." in body
