"""Text that looks different from what is stored is refused: bidi controls (a right-to-left
override makes "SA gnippihS" read "Shipping AS") and zero-width characters in a name, an address
or a contact. The error says which character, and every value typed stays in the form."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import translation

from portal.forms import ClientInformationForm, ContactForm, IntervalRequestForm
from portal.models import Contact, Customer
from tests.portal.conftest import client_information

URL = "/client-information/"
INVISIBLE = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
]
TEXT_FIELDS = [
    "legal_name",
    "street_address",
    "postal_code",
    "city",
    "fixed_assets_dimension_name",
    "notes",
    "contact_project-name",
    "contact_project-email",
    "contact_project-phone",
]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_the_client_information_form_names_the_invisible_character(char):
    form = ClientInformationForm({"legal_name": f"Fjordbåt{char} Shipping AS"}, draft=True)
    assert not form.is_valid()
    message = " ".join(form.errors["legal_name"])
    assert f"U+{ord(char):04X}" in message, message
    assert "position 9" in message, message


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_every_text_field_of_the_page_refuses_it_and_keeps_what_was_typed(
    customer_client, customer, field
):
    data = client_information()
    data[field] = "\u202e" + (data[field] or "SA gnippihS")
    response = customer_client.post(URL, data)
    assert response.status_code == 400, field
    body = response.content.decode()
    assert "U+202E" in body, field
    assert 'value="Strandgata 1"' in body or field == "street_address"
    customer.refresh_from_db()
    assert customer.organisation_number == ""  # nothing saved
    assert not Contact.objects.filter(customer=customer).exists()


def test_other_customer_forms_refuse_it_too():
    contact = ContactForm(
        {"contact_it_partner-name": "Ola\u200b Nordmann"}, role="it_partner", required_role=False
    )
    assert not contact.is_valid() and "U+200B" in str(contact.errors["name"])
    request = IntervalRequestForm(
        {"dataset": "suppliers", "amount": "1", "unit": "hours", "reason": "Raskere\u2067"},
        datasets=[("suppliers", "Suppliers")],
    )
    assert not request.is_valid() and "U+2067" in str(request.errors["reason"])


def test_ordinary_names_are_welcome():
    for name in ["Fjordbåt Shipping AS", "Ærlig & Søn ApS", "Müller GmbH", "Čapek s.r.o.", "שלום"]:
        assert ClientInformationForm({"legal_name": name}, draft=True).is_valid(), name


def test_the_message_is_in_norwegian_for_a_norwegian_user(compiled_catalog):
    with translation.override("nb"):
        form = ClientInformationForm({"legal_name": "Fjordbåt\u202e AS"}, draft=True)
        assert not form.is_valid()
        message = str(form.errors["legal_name"][0])
    assert "U+202E" in message and "usynlig" in message, message


def _admin_form(model, user, obj, data, inline=None):
    request = RequestFactory().post("/")
    request.user = user
    model_admin = site._registry[model]
    if inline is None:
        return model_admin.get_form(request, obj, change=obj is not None)(data, instance=obj)
    inlines = model_admin.get_inline_instances(request, obj)
    inline_admin = next(i for i in inlines if i.model is inline)
    return inline_admin.get_formset(request, obj).form(data)


def test_the_admin_customer_and_contact_forms_refuse_it(superuser, customer):
    data = {
        "legal_name": "Fjordbåt Shipping AS\u200d",
        "organisation_number": "",
        "country": "NO",
        "project_manager": customer.project_manager_id,
        "expected_invoice_volume": "",
    }
    form = _admin_form(Customer, superuser, None, data)
    assert not form.is_valid()
    assert "U+200D" in str(form.errors["legal_name"])

    contact = _admin_form(
        Customer,
        superuser,
        customer,
        {"role": "project", "name": "\u2066Kari\u2069", "email": "kari@fjordbat.example"},
        inline=Contact,
    )
    assert not contact.is_valid()
    assert "U+2066" in str(contact.errors["name"])
