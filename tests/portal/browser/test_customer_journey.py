"""The whole customer journey in a real browser (Debian's headless Chromium via Playwright),
against a real portal server (pytest-django's live_server) and the Xledger sandbox over loopback
HTTP: invitation link → password → client information with one mistake corrected → a token
missing a scope, then a good one → entities and dimensions → confirm → the PM's e-mail.

Skipped loudly when Chromium or Playwright is missing; a failure when CI=true (tests/conftest.py).
"""

import os
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from integrations.models import ClientEntity, Connection
from portal import services
from portal.models import Customer
from tests.factories import make_customer
from tests.portal.conftest import dimension_keys

# Playwright's sync API runs an event loop in this thread; the ORM calls below are still sync.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _expect_url(page, url):
    page.wait_for_load_state()
    if page.url.split("#")[0] != url:  # a redirect keeps the fragment of a followed link
        errors = page.locator(".error-summary, .panel.warn, .messages")
        details = errors.all_inner_texts() if errors.count() else page.content()[:3000]
        pytest.fail(f"expected {url}, stayed on {page.url}: {details}")


@pytest.fixture
def sandbox_url(settings):
    from integrations.xledger.sandbox import Sandbox

    sb = Sandbox(suppliers=50, burst_limit=False)
    with sb.serve(port=0) as url:
        settings.XLEDGER_API_URL = url
        settings.XLEDGER_DEMO_API_URL = url
        yield sb, url


def test_it_walks_a_customer_through_the_setup(page, live_server, settings, sandbox_url, pm_user):
    sb, _ = sandbox_url
    settings.PORTAL_BASE_URL = live_server.url
    customer = make_customer("Fjordbåt Shipping AS", country="NO", project_manager=pm_user)

    # The PM invites; the customer opens the link from the e-mail.
    services.invitation_create(customer=customer, email="kari@fjordbat.example", by=pm_user)
    link = re.search(r"(http\S+/invitation/\S+/)", mail.outbox[-1].body).group(1)
    assert link.startswith(live_server.url)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Welcome to Semine Connect"
    page.fill("#id_password1", "Fjord-Sailing-2026!")
    page.fill("#id_password2", "Fjord-Sailing-2026!")
    page.click("button:has-text('Create my account')")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".task.todo").count() == 3

    # Client information, with a wrong organisation number first.
    page.click("text=Fill in the client information")
    page.fill("#id_organisation_number", "923609017")
    page.fill("#id_street_address", "Strandgata 1")
    page.fill("#id_postal_code", "5013")
    page.fill("#id_city", "Bergen")
    page.fill("#id_contact_project-name", "Kari Nordmann")
    page.fill("#id_contact_project-email", "kari@fjordbat.example")
    page.fill("#id_contact_finance-name", "Ola Nordmann")
    page.fill("#id_contact_finance-email", "ola@fjordbat.example")
    page.fill("#id_expected_invoice_volume", "400")
    page.fill("#id_supplier_posting_account", "2400")
    page.fill("#id_customer_posting_account", "1500")
    page.check("#id_fixed_assets_apply")
    page.check("#id_fixed_assets_as_dimension")
    page.fill("#id_fixed_assets_dimension_name", "Anleggsmiddel")
    go_live = (timezone.localdate() + timedelta(days=45)).isoformat()
    page.fill("#id_desired_go_live", go_live)
    page.click("button[name=save]")
    summary = page.locator(".error-summary")
    assert "not a valid organisation number" in summary.inner_text()
    # Every value is still there; the summary link leads to the field.
    assert page.input_value("#id_city") == "Bergen"
    assert page.input_value("#id_contact_finance-email") == "ola@fjordbat.example"
    assert page.input_value("#id_desired_go_live") == go_live
    assert page.is_checked("#id_fixed_assets_as_dimension")
    summary.locator("a[href='#id_organisation_number']").click()
    page.fill("#id_organisation_number", "974760673")
    page.click("button[name=save]")
    _expect_url(page, f"{live_server.url}/")
    assert page.locator(".task.done").count() == 1

    # The token: first one without the supplier scope, then a good one.
    page.click("text=Enter the owner ID and token")
    page.check("#id_environment_0")
    page.fill("#id_owner_entity_id", str(sb.owner_db_id))
    page.fill("#id_token", sb.demo_tokens["no_suppliers"])
    page.click("button:has-text('Save and check')")
    checklist = page.locator("ul.checklist")
    assert "cannot read suppliers" in checklist.locator("li.fail").inner_text()
    assert "tick read access for Suppliers" in checklist.inner_text()
    assert page.input_value("#id_token") == ""  # write-only
    assert page.input_value("#id_owner_entity_id") == str(sb.owner_db_id)
    page.fill("#id_token", sb.demo_tokens["full"])
    page.click("button:has-text('Save and check again')")
    # Back to the token page: the green checklist, then the next step.
    _expect_url(page, f"{live_server.url}/xledger/token/")
    assert page.locator("ul.checklist li.fail").count() == 0
    page.click("#next-scope")
    pk = Connection.objects.get(customer=customer).pk
    _expect_url(page, f"{live_server.url}/xledger/connections/{pk}/scope/")

    # Entities and dimensions.
    connection = Connection.objects.get(customer=customer)
    entities = [e["dbId"] for e in connection.verification["entities"]]
    page.uncheck(f"#id_entity_{entities[-1]}_in_scope")
    page.check(f"#id_entity_{entities[0]}_fixed_assets")
    chosen = dimension_keys(connection.verification, "Avdeling", "Anleggsmidler")
    for key in chosen:
        page.check(f"input[name=dimensions][value='{key}']")
    page.click("button:has-text('Save the scope')")
    _expect_url(page, f"{live_server.url}/")
    assert page.locator(".task.done").count() == 3

    # Confirm.
    mail.outbox.clear()
    page.click("button:has-text('Confirm that the setup is done')")
    assert "project manager has been told" in page.locator("main").inner_text()
    assert "What happens next" in page.content()

    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.SUBMITTED
    connection.refresh_from_db()
    assert connection.status == Connection.Status.OK
    assert set(connection.selected_dimensions) == set(chosen)
    assert not ClientEntity.objects.get(connection=connection, db_id=entities[-1]).in_scope
    assert ClientEntity.objects.get(connection=connection, db_id=entities[0]).fixed_assets

    [message] = mail.outbox
    assert message.to == [pm_user.email]
    assert f"{live_server.url}/admin/portal/customer/{customer.pk}/change/" in message.body
    for token in sb.demo_tokens.values():
        assert token not in message.body
    assert sb.demo_tokens["full"] not in page.content()
