"""A group customer adds its second Xledger owner entity in a real browser (Debian's headless
Chromium via Playwright), in English and in Norwegian: the token step lists the owner entities,
"Add another owner entity" checks the new token live against the sandbox over loopback HTTP
(one wrong owner ID first), the scope of the new one is chosen, and the setup is confirmed.

Skipped loudly when Chromium or Playwright is missing; a failure when CI=true (tests/conftest.py).
"""

import os

import pytest
from django.contrib.auth.models import User

from integrations.models import Connection
from portal import services
from portal.models import Customer, Membership
from tests.factories import make_customer
from tests.portal.conftest import dimension_keys

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Fjord-Sailing-2026!"

WORDS = {
    "en": {
        "owner_entities": "Your owner entities",
        "add": "Add another owner entity",
        "taken": "You have connected this owner entity already",
        "confirmed": "project manager has been told",
    },
    "nb": {
        "owner_entities": "Eierenhetene deres",
        "add": "Legg til en eierenhet til",
        "taken": "Dere har allerede koblet til denne eierenheten",
        "confirmed": "prosjektleder har fått beskjed",
    },
}


@pytest.fixture
def group_sandbox(settings):
    from integrations.xledger.sandbox import Sandbox

    sb = Sandbox(suppliers=30, burst_limit=False, owners=2)
    with sb.serve(port=0) as url:
        settings.XLEDGER_API_URL = url
        settings.XLEDGER_DEMO_API_URL = url
        yield sb


def _customer_with_first_owner_entity(sb, pm_user):
    """Client information done and the first owner entity checked and scoped."""
    customer = make_customer(
        "Nordlys Konsern AS",
        country="NO",
        project_manager=pm_user,
        organisation_number="974760673",
        street_address="Strandgata 1",
        postal_code="5013",
        city="Bergen",
        expected_invoice_volume=400,
        supplier_posting_account="2400",
        customer_posting_account="1500",
        desired_go_live="2027-01-04",
        onboarding_status=Customer.Status.IN_PROGRESS,
    )
    for role, name in (("project", "Kari Nordmann"), ("finance", "Ola Nordmann")):
        customer.contacts.create(role=role, name=name, email=f"{role}@nordlys.example")
    user = User.objects.create_user("kari@nordlys.example", "kari@nordlys.example", PASSWORD)
    Membership.objects.create(user=user, customer=customer)
    check = services.connection_save_token(
        customer=customer,
        by=user,
        owner_entity_id=sb.owner_db_id,
        environment="production",
        token=sb.demo_tokens["full"],
    )
    assert check.outcome == "verified"
    entities = {e["dbId"]: {"in_scope": True} for e in check.connection.verification["entities"]}
    services.connection_save_scope(
        customer=customer, connection=check.connection, by=user, entities=entities, dimensions=[]
    )
    return customer, user


@pytest.mark.parametrize("language", ["en", "nb"])
def test_a_customer_adds_a_second_owner_entity(
    chromium, live_server, group_sandbox, pm_user, language
):
    sb = group_sandbox
    words = WORDS[language]
    customer, user = _customer_with_first_owner_entity(sb, pm_user)
    second_owner = sb.owners[1]
    context = chromium.new_context(locale="nb-NO" if language == "nb" else "en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        assert page.locator("html").get_attribute("lang") == language

        # The token step lists the one owner entity and offers another.
        page.goto(f"{live_server.url}/xledger/token/")
        listing = page.locator("section.owner-entities")
        assert words["owner_entities"] in listing.inner_text()
        assert str(sb.owner_db_id) in listing.inner_text()
        page.click("a[href='/xledger/connections/new/']")
        assert words["add"] in page.locator("#form-title").inner_text()

        # The first owner entity's ID by mistake: refused, nothing stored, what was typed kept.
        page.check("#id_environment_0")
        page.fill("#id_owner_entity_id", str(sb.owner_db_id))
        page.fill("#id_token", sb.owner_tokens[second_owner]["full"])
        page.click("form[aria-labelledby=form-title] button[type=submit]")
        assert words["taken"] in page.locator(".error-summary").inner_text()
        assert page.input_value("#id_owner_entity_id") == str(sb.owner_db_id)
        assert page.input_value("#id_token") == ""  # write-only, never sent back
        assert Connection.objects.filter(customer=customer).count() == 1

        # The right one: checked live, then its scope.
        page.fill("#id_owner_entity_id", str(second_owner))
        page.fill("#id_token", sb.owner_tokens[second_owner]["full"])
        page.click("form[aria-labelledby=form-title] button[type=submit]")
        second = Connection.objects.get(customer=customer, owner_entity_id=second_owner)
        page.wait_for_url(f"{live_server.url}/xledger/connections/{second.pk}/token/")
        page.click("#next-scope")
        page.wait_for_url(f"{live_server.url}/xledger/connections/{second.pk}/scope/")
        for entity in second.verification["entities"]:
            page.check(f"#id_entity_{entity['dbId']}_in_scope")
        for key in dimension_keys(second.verification, "Avdeling"):
            page.check(f"input[name=dimensions][value='{key}']")
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        # Both owner entities are done; the setup is confirmed.
        assert page.locator(".task.done").count() == 3
        page.click("form[action='/confirm/'] button")
        assert words["confirmed"] in page.locator("main").inner_text()
        customer.refresh_from_db()
        assert customer.onboarding_status == Customer.Status.SUBMITTED
        assert sb.owner_tokens[second_owner]["full"] not in page.content()
    finally:
        context.close()
