"""The whole journey in a real browser, in English and in Norwegian: the project manager's
invitation → password → client information → token → scope → confirmation → the project
manager's approval in the admin → the first sync, seen on the customer's home page.

Every page the customer sees in Norwegian is scanned for English sentences from the English
catalogue (the literal parts of every msgid whose Norwegian text differs): there must be none.
The runs are executed by calling the engine's task function as a django-q2 worker would; the
Xledger calls go to the sandbox over loopback HTTP.

Skipped loudly when Chromium or Playwright is missing; a failure when CI=true (tests/conftest.py).
"""

import os
import re
from datetime import timedelta

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core import mail
from django.utils import timezone

from integrations import dispatch, tasks
from integrations.models import Connection, Run
from portal import services
from portal.models import Customer
from portal.roles import PROJECT_MANAGERS, sync_group_permissions
from tests.factories import make_customer
from tests.portal.test_no_english_in_norwegian import SAME_IN_BOTH, _chunks
from tests.second_factor import authenticator, next_code

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Fjord-Sailing-2026!"
WORDS = {
    "en": {"welcome": "Welcome to Semine Connect", "create": "Create my account",
           "client_info": "Fill in the client information", "token": "Enter the owner ID and token",
           "check": "Save and check", "scope": "Save the scope",
           "confirm": "Confirm that the setup is done", "told": "project manager has been told",
           "running": "Everything is running."},
    "nb": {"welcome": "Velkommen til Semine Connect", "create": "Opprett kontoen min",
           "client_info": "Fyll ut kundeinformasjonen", "token": "Legg inn eier-ID og token",
           "check": "Lagre og kontroller", "scope": "Lagre omfanget",
           "confirm": "Bekreft at oppsettet er ferdig", "told": "prosjektleder har fått beskjed",
           "running": "Alt går som det skal."},
}  # fmt: skip


@pytest.fixture(scope="module")
def english():
    po = polib.pofile(str(settings.BASE_DIR / "locale" / "nb" / "LC_MESSAGES" / "django.po"))
    found = set()
    for entry in po:
        if entry.obsolete or not entry.translated():
            continue
        translation = entry.msgstr or " ".join(entry.msgstr_plural.values())
        found |= {c for c in _chunks(entry.msgid) if c not in translation} - SAME_IN_BOTH
    return found


@pytest.fixture
def sandbox_url(settings):
    from integrations.xledger.sandbox import Sandbox

    sb = Sandbox(suppliers=40, burst_limit=False)
    with sb.serve(port=0) as url:
        settings.XLEDGER_API_URL = url
        settings.XLEDGER_DEMO_API_URL = url
        yield sb


@pytest.fixture
def handed_to_workers(monkeypatch):
    ids = []
    monkeypatch.setattr(dispatch, "_async_task", lambda run_id, name: ids.append(run_id))
    return ids


class Walk:
    """A browser page that scans what it shows for English when the walk is in Norwegian."""

    def __init__(self, page, language, english):
        self.page, self.language, self.english, self.seen = page, language, english, {}

    def scan(self, label):
        if self.language != "nb":
            return
        text = re.sub(r"\s+", " ", self.page.locator("body").inner_text())
        found = sorted(chunk for chunk in self.english if chunk in text)
        if found:
            self.seen[label] = found


@pytest.mark.parametrize("language", ["en", "nb"])
def test_the_whole_journey(chromium, live_server, settings, sandbox_url, handed_to_workers,
                           english, language):  # fmt: skip
    sb, words = sandbox_url, WORDS[language]
    settings.PORTAL_BASE_URL = live_server.url
    sync_group_permissions()
    pm = User.objects.create_user("pm", "pm@semine.example", "pm-password-123", is_staff=True)
    pm.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    pm_phone = authenticator(pm)  # the project manager's authenticator app (a second factor)
    customer = make_customer("Fjordbåt Shipping AS", country="NO", project_manager=pm)
    services.invitation_create(customer=customer, email="kari@fjordbat.example", by=pm,
                               language=language)  # fmt: skip
    link = re.search(r"(http\S+/invitation/\S+/)", mail.outbox[-1].body).group(1)

    context = chromium.new_context(locale="nb-NO" if language == "nb" else "en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    walk = Walk(page, language, english)
    try:
        page.goto(link)
        walk.scan("invitation")
        assert words["welcome"] in page.locator("h1").inner_text()
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.click(f"button:has-text('{words['create']}')")
        page.wait_for_url(f"{live_server.url}/")
        walk.scan("home, new")

        page.click(f"text={words['client_info']}")
        walk.scan("client information")
        for field, value in {
            "organisation_number": "974760673", "street_address": "Strandgata 1",
            "postal_code": "5013", "city": "Bergen", "contact_project-name": "Kari Nordmann",
            "contact_project-email": "kari@fjordbat.example",
            "contact_finance-name": "Ola Nordmann", "contact_finance-email": "ola@fjordbat.example",
            "expected_invoice_volume": "400", "supplier_posting_account": "2400",
            "customer_posting_account": "1500",
            "desired_go_live": (timezone.localdate() + timedelta(days=45)).isoformat(),
        }.items():  # fmt: skip
            page.fill(f"#id_{field}", value)
        page.click("button[name=save]")
        page.wait_for_url(f"{live_server.url}/")
        walk.scan("home, client information done")

        page.click(f"text={words['token']}")
        walk.scan("token page")
        page.check("#id_environment_0")
        page.fill("#id_owner_entity_id", str(sb.owner_db_id))
        page.fill("#id_token", sb.demo_tokens["no_suppliers"])
        page.click(f"form button:has-text('{words['check']}')")
        walk.scan("token page, a scope missing")
        page.fill("#id_token", sb.demo_tokens["full"])
        page.click(f"form button:has-text('{words['check']}')")
        page.wait_for_selector("#next-scope")
        walk.scan("token page, verified")
        page.click("#next-scope")
        page.wait_for_selector("input[name=dimensions]")
        walk.scan("scope")
        connection = Connection.objects.get(customer=customer)
        for entity in connection.verification["entities"]:
            page.check(f"#id_entity_{entity['dbId']}_in_scope")
        page.click(f"button:has-text('{words['scope']}')")
        page.wait_for_url(f"{live_server.url}/")
        walk.scan("home, tasks done")
        page.click(f"button:has-text('{words['confirm']}')")
        assert words["told"] in page.locator("main").inner_text()
        walk.scan("home, confirmed")

        # The project manager approves in the admin (English: staff pages are English).
        staff = chromium.new_context(locale="en-GB")
        admin = staff.new_page()
        admin.set_default_timeout(15_000)
        admin.goto(f"{live_server.url}/admin/login/")
        admin.fill("#id_username", "PM")  # any case of the user name
        admin.fill("#id_password", "pm-password-123")
        admin.click("input[type=submit]")
        admin.wait_for_url(f"{live_server.url}/accounts/verify/**")  # the code from the app
        admin.fill("#id_code", next_code(pm_phone))
        admin.locator("main form [type=submit]").first.click()
        admin.wait_for_selector("#semine-dashboard")
        admin.goto(f"{live_server.url}/admin/portal/customer/{customer.pk}/change/")
        admin.click("a.golive-approve")
        admin.click("input[name=approve]")
        admin.wait_for_selector("text=initial syncs queued")
        staff.close()

        # The first sync (the test plays the worker), then the customer's home.
        while handed_to_workers:
            tasks.run_sync(handed_to_workers.pop(0))
        assert Customer.objects.get(pk=customer.pk).onboarding_status == Customer.Status.LIVE
        assert not Run.objects.exclude(status=Run.Status.SUCCEEDED).exists()
        page.goto(f"{live_server.url}/")
        assert words["running"] in page.locator("main").inner_text()
        walk.scan("home, live")
        page.goto(f"{live_server.url}/xledger/connections/{connection.pk}/token/")
        walk.scan("replace token")
    finally:
        context.close()
    assert walk.seen == {}
