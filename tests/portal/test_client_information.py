from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Account
from portal.models import AuditEntry, Contact, Customer
from tests.factories import make_connection
from tests.portal.conftest import client_information

URL = "/client-information/"


def _body(response):
    return response.content.decode()


def test_it_saves_complete_information(customer_client, customer):
    response = customer_client.post(URL, client_information())
    assert response.status_code == 302 and response["Location"] == "/"
    customer.refresh_from_db()
    assert customer.organisation_number == "974 760 673"
    assert customer.city == "Bergen" and customer.expected_invoice_volume == 400
    assert customer.supplier_posting_account == "2400"
    contacts = {c.role: c for c in Contact.objects.filter(customer=customer)}
    assert set(contacts) == {"project", "finance"}
    assert contacts["project"].phone == "+47 22 33 44 55"
    assert AuditEntry.objects.filter(action="client_information_save").exists()


def test_it_shows_the_saved_values(customer_client, customer):
    customer_client.post(URL, client_information())
    body = _body(customer_client.get(URL))
    assert 'value="974 760 673"' in body and 'value="Kari Nordmann"' in body


def test_it_rejects_a_wrong_organisation_number_and_keeps_every_value(customer_client, customer):
    data = client_information(organisation_number="923609017", notes="Ring før 10")
    response = customer_client.post(URL, data)
    assert response.status_code == 400
    body = _body(response)
    assert 'href="#id_organisation_number"' in body  # the summary links to the field
    assert "not a valid organisation number for Norway" in body
    assert 'id="id_organisation_number_error"' in body
    assert 'aria-describedby="id_organisation_number_help id_organisation_number_error"' in body
    for value in ("923609017", "Strandgata 1", "Kari Nordmann", "ola@fjordbat.example", "2400"):
        assert f'value="{value}"' in body, value
    assert "Ring før 10" in body
    customer.refresh_from_db()
    assert customer.organisation_number == ""  # nothing saved


@pytest.mark.parametrize(
    "country,good,stored,bad",
    [
        ("NO", "923609016", "923 609 016", "923609017"),
        ("SE", "5560360793", "556036-0793", "5560360794"),
        ("DK", "13585628", "13585628", "13585627"),
        ("FI", "20774740", "2077474-0", "20774741"),
        ("GB", "sc123456", "SC123456", "GB 980 7806 85"),
        ("GB", "GB 980 7806 84", "GB 980 7806 84", "12345"),
    ],
)
def test_it_checks_the_number_for_the_country(
    customer_client, customer, country, good, stored, bad
):
    response = customer_client.post(
        URL, client_information(country=country, organisation_number=bad)
    )
    assert response.status_code == 400, country
    response = customer_client.post(
        URL, client_information(country=country, organisation_number=good)
    )
    assert response.status_code == 302, _body(response)
    customer.refresh_from_db()
    assert customer.organisation_number == stored


def test_it_refuses_a_go_live_date_in_the_past(customer_client):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = customer_client.post(URL, client_information(desired_go_live=yesterday))
    assert response.status_code == 400
    body = _body(response)
    assert "cannot be in the past" in body and f'value="{yesterday}"' in body


def test_it_requires_the_project_and_finance_contacts(customer_client):
    response = customer_client.post(
        URL, client_information(**{"contact_finance-name": "", "contact_finance-email": ""})
    )
    assert response.status_code == 400
    body = _body(response)
    assert 'href="#id_contact_finance-name"' in body
    assert 'href="#id_contact_finance-email"' in body


def test_it_requires_name_and_email_of_an_optional_contact_once_started(customer_client):
    response = customer_client.post(
        URL, client_information(**{"contact_it_partner-phone": "+47 99 99 99 99"})
    )
    assert response.status_code == 400
    assert 'href="#id_contact_it_partner-email"' in _body(response)
    response = customer_client.post(
        URL,
        client_information(
            **{"contact_it_partner-name": "IT AS", "contact_it_partner-email": "it@it.example"}
        ),
    )
    assert response.status_code == 302


def test_it_saves_a_partial_draft(customer_client, customer):
    data = {
        "legal_name": "Fjordbåt Shipping AS",
        "country": "NO",
        "city": "Bergen",
        "contact_project-name": "Kari",
        "save_draft": "1",
    }
    response = customer_client.post(URL, data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "Bergen"
    assert customer.onboarding_status == Customer.Status.IN_PROGRESS
    assert Contact.objects.get(customer=customer, role="project").name == "Kari"
    assert AuditEntry.objects.filter(action="client_information_draft").exists()


def test_a_draft_still_refuses_malformed_values(customer_client, customer):
    data = {
        "legal_name": "Fjordbåt Shipping AS",
        "country": "NO",
        "organisation_number": "123",
        "save_draft": "1",
    }
    response = customer_client.post(URL, data)
    assert response.status_code == 400
    assert 'value="123"' in _body(response)


def test_it_requires_the_dimension_name_when_fixed_assets_are_a_dimension(customer_client):
    data = client_information(fixed_assets_apply="on", fixed_assets_as_dimension="on")
    response = customer_client.post(URL, data)
    assert response.status_code == 400
    assert 'href="#id_fixed_assets_dimension_name"' in _body(response)
    data["fixed_assets_dimension_name"] = "Anleggsmiddel"
    assert customer_client.post(URL, data).status_code == 302


def test_it_says_accounts_are_checked_later_without_a_mirror(customer_client):
    body = _body(customer_client.get(URL))
    assert "once that is synchronised" in body


def test_it_checks_posting_accounts_against_the_mirrored_chart(customer_client, customer):
    connection = make_connection(customer)
    for db_id, code in ((1, "2400"), (2, "1500"), (3, "2410")):
        Account.objects.create(connection=connection, db_id=db_id, code=code, owner_db_id=10001)
    response = customer_client.post(URL, client_information(supplier_posting_account="2499"))
    assert response.status_code == 400
    assert "Account 2499 is not in your chart of accounts" in _body(response)
    response = customer_client.post(URL, client_information(supplier_posting_account="2410"))
    assert response.status_code == 302


def test_it_is_read_only_once_live(customer_client, customer):
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.LIVE)
    response = customer_client.post(URL, client_information(city="Oslo"))
    assert response.status_code == 200
    assert "<fieldset disabled>" in _body(response)
    customer.refresh_from_db()
    assert customer.city == ""
