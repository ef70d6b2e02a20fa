"""After go-live, Xledger stops accepting a connection's token; the customer fixes it alone.

End to end with real parts: the sandbox as its own HTTP process, a real qcluster and the
dispatcher syncing a live customer, the portal served by pytest-django's live_server, and
Debian's headless Chromium (Playwright), in English and in Norwegian. The token is revoked in
the sandbox; the run that notices stops the connection and e-mails the customer's contacts a
link to the token page; the customer follows it, logs in, pastes a new token, and — with no
staff action — the syncs resume and the invoice held meanwhile arrives in the sandbox.

Skipped loudly when Chromium or Playwright is missing; a failure when CI=true (tests/conftest.py).
"""

import os
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.models import Connection, Invoice, Issue, Run, Schedule
from portal import golive, services
from portal.models import AuditEntry, Contact, Customer, Membership
from tests.integrations.invoices.conftest import invoice_rows
from tests.integrations.sync.processes import (
    Processes,
    SandboxControl,
    database_url,
    free_port,
    wait_for,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.xledger,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "Fjord-Sailing-2026!"
INTERVALS = {"suppliers": 2, "currencies": 60, "accounts": 60, "dimensions": 60,
             "vat_codes": 60, "fixed_assets": 60, "invoices": 2}  # fmt: skip

WORDS = {
    "en": {"replace": "Replace the API token", "done": "has replaced the old one"},
    "nb": {"replace": "Bytt API-tokenet", "done": "har erstattet det gamle"},
}


@pytest.fixture
def world(tmp_path, settings, live_server):
    port = free_port()
    sandbox = SandboxControl(port)
    settings.XLEDGER_API_URL = sandbox.url
    mailbox = tmp_path / "mail"
    procs = Processes(
        {
            "DATABASE_URL": database_url(),
            "XLEDGER_API_URL": sandbox.url,
            "XLEDGER_MAX_ATTEMPTS": "2",
            "XLEDGER_MAX_WAIT_SECONDS": "1",
            "INVOICE_IN_DOUBT_SETTLE_SECONDS": "0",
            "Q_WORKERS": "2",
            "PORTAL_BASE_URL": live_server.url,
            "EMAIL_URL": f"filemail:///{mailbox}",  # four slashes: an absolute path
        },
        tmp_path,
    )
    try:
        procs.start("sandbox", "xledger_sandbox", "--port", str(port), "--suppliers", "40",
                    "--seed", "11", "--no-burst-limit")  # fmt: skip
        wait_for(sandbox.ready, what="the sandbox")
        yield procs, sandbox, mailbox
    finally:
        procs.stop_all()
        print(procs.logs())  # shown with a failing test's report


def _live_customer(sandbox, pm, language):
    info = sandbox.call("GET", "info")
    owner = info["owners"][0]
    customer = Customer.objects.create(
        legal_name="Fjordbåt Shipping AS", organisation_number="974760673", country="NO",
        street_address="Strandgata 1", postal_code="5013", city="Bergen",
        expected_invoice_volume=200, supplier_posting_account="2400",
        customer_posting_account="1500", desired_go_live="2027-01-04", project_manager=pm,
        onboarding_status=Customer.Status.IN_PROGRESS,
    )  # fmt: skip
    for role, name in (("project", "Kari Nordmann"), ("finance", "Ola Nordmann")):
        Contact.objects.create(
            customer=customer, role=role, name=name, email=f"{role}@fjordbat.example"
        )
    user = User.objects.create_user("project@fjordbat.example", "project@fjordbat.example",
                                    PASSWORD)  # fmt: skip
    membership = Membership(user=user, customer=customer)
    membership.remember_language(language)
    membership.save()
    check = services.connection_save_token(
        customer=customer, by=user, owner_entity_id=owner["db_id"], environment="production",
        token=owner["tokens"]["full"],
    )  # fmt: skip
    assert check.outcome == "verified", check
    connection = check.connection
    entities = {e["dbId"]: {"in_scope": True} for e in connection.verification["entities"]}
    services.connection_save_scope(
        customer=customer, connection=connection, by=user, entities=entities, dimensions=[]
    )
    services.customer_confirm_setup(customer=customer, by=user)
    golive.customer_approve_golive(customer=customer, by=pm)
    for dataset, seconds in INTERVALS.items():
        Schedule.objects.filter(connection=connection, dataset=dataset).update(
            interval_override=timedelta(seconds=seconds), override_reason="e2e",
            next_run_at=timezone.now(),
        )  # fmt: skip
    return connection, owner, user


def _link_in_mail(mailbox, connection) -> str:
    """The token-page link of the 'token no longer accepted' e-mail to the customer."""
    if not mailbox.exists():
        return ""
    pattern = re.compile(rf"https?://\S+/xledger/connections/{connection.pk}/token/")
    for message in sorted(mailbox.iterdir()):
        text = message.read_text(errors="replace")
        if "To: project@fjordbat.example" in text or "project@fjordbat.example" in text:
            found = pattern.search(text)
            if found:
                return found.group()
    return ""


@pytest.mark.parametrize("language", ["en", "nb"])
def test_the_customer_replaces_a_revoked_token_and_everything_resumes_without_staff(
    chromium, world, pm_user, language
):
    procs, sandbox, mailbox = world
    words = WORDS[language]
    connection, owner, user = _live_customer(sandbox, pm_user, language)
    procs.start("qcluster", "qcluster")
    procs.start("dispatcher", "dispatcher", "--every", "0.5")
    wait_for(
        lambda: Run.objects.filter(
            connection=connection, dataset="suppliers", status=Run.Status.SUCCEEDED
        ).exists(),
        timeout=60,
        what="the first supplier sync",
    )

    # Xledger stops accepting the token (its creator left the company).
    sandbox.call("POST", "tokens/revoke", {"token": owner["tokens"]["full"]})
    wait_for(
        lambda: (
            Connection.objects.get(pk=connection.pk).status == Connection.Status.NEEDS_ATTENTION
        ),
        timeout=30,
        what="the connection to need attention",
    )
    # An invoice SEMINE hands over now is held: nothing may reach Xledger with a dead token.
    entity = connection.entities.get(db_id=owner["client_ids"][0])
    supplier = next(
        r["code"]
        for r in sandbox.call("GET", "records/suppliers")
        if r["ownerDbId"] in (owner["db_id"], entity.db_id)
    )
    (invoice,) = invoice_rows(connection, 1, entity=entity, supplier=supplier, prefix="HELD")
    link = wait_for(
        lambda: _link_in_mail(mailbox, connection), timeout=30, what="the e-mailed link"
    )
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PENDING
    since = Run.objects.filter(connection=connection).order_by("-pk").first().pk

    # The customer follows the e-mailed link, logs in, and pastes a new token.
    new_token = sandbox.call("POST", "tokens", {"entity_db_id": owner["db_id"]})["token"]
    context = chromium.new_context(locale="nb-NO" if language == "nb" else "en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(link)
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(link)
        assert page.locator("html").get_attribute("lang") == language
        assert words["replace"] in page.locator("h1").inner_text()
        assert page.locator("#id_owner_entity_id").is_disabled()
        page.fill("#id_token", new_token)
        page.click("main form button[type=submit]")
        page.wait_for_url(link)
        assert words["done"] in page.locator("main").inner_text()
        assert new_token not in page.content()
    finally:
        context.close()

    # No staff action: the syncs resume and the held invoice arrives in Xledger, once.
    connection.refresh_from_db()
    assert connection.status == Connection.Status.OK
    assert (
        not Issue.objects.filter(connection=connection, kind=Issue.Kind.AUTH_FAILED)
        .exclude(status=Issue.Status.RESOLVED)
        .exists()
    )
    wait_for(
        lambda: Run.objects.filter(
            connection=connection, pk__gt=since, dataset="suppliers",
            status=Run.Status.SUCCEEDED,
        ).exists(),
        timeout=60,
        what="the syncs to resume",
    )  # fmt: skip
    wait_for(
        lambda: Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.SENT,
        timeout=60,
        what="the held invoice to be sent",
    )
    sent = Invoice.objects.get(pk=invoice.pk)
    stored = [i for i in sandbox.call("GET", "imports") if i["clientId"] in sent.xledger_db_ids]
    assert len(stored) == len(sent.xledger_db_ids) >= 1
    assert sandbox.call("POST", "counts/token", {"token": new_token})["count"] > 0
    assert AuditEntry.objects.filter(action="token_replace", actor=user).count() == 1
    assert not AuditEntry.objects.filter(actor=pm_user, action__startswith="token").exists()
