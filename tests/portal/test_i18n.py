"""English and Norwegian Bokmål: chosen from the browser, switchable on the page, and every
customer-facing string translated."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

PO = Path(settings.BASE_DIR) / "locale" / "nb" / "LC_MESSAGES" / "django.po"
CUSTOMER_FACING = (
    "templates/base.html",
    "templates/portal/",
    "templates/registration/",
    "templates/emails/invitation",
    "templates/emails/token_link",
    "templates/notifications/golive_approved",
    "templates/notifications/connection_golive_approved",
    "templates/notifications/changes_requested",
    "templates/notifications/interval_request_answered",
    "portal/forms.py",
    "portal/selectors.py",
    "portal/orgnumbers.py",
    "portal/views/",
    "portal/models.py",
    "portal/invitations.py",
    "portal/interval_requests.py",
    "integrations/models/interval_requests.py",
    "integrations/datasets/__init__.py",
    "integrations/xledger/checklist.py",
    "integrations/issues.py",
)


@pytest.fixture(autouse=True)
def _compiled(compiled_catalog):
    """The catalogue compiled (tests/portal/conftest.py)."""


def _entries():
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        refs = " ".join(re.findall(r"^#: (.*)$", block, re.M))
        flags = " ".join(re.findall(r"^#, (.*)$", block, re.M))
        msgid = "".join(re.findall(r'"(.*)"', block.split("msgid ", 1)[-1].split("msgstr", 1)[0]))
        msgstrs = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)
        yield refs, flags, msgid, ["".join(re.findall(r'"(.*)"', m)) for m in msgstrs]


def test_every_customer_facing_string_is_translated():
    missing = [
        msgid
        for refs, flags, msgid, strs in _entries()
        if msgid
        and any(path in refs for path in CUSTOMER_FACING)
        and ("fuzzy" in flags or not all(strs))
    ]
    assert missing == []


def test_it_follows_the_browser_language(customer_client):
    body = customer_client.get("/", HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9").content.decode()
    assert '<html lang="nb">' in body
    assert "Oppgavene deres" in body and "Gjenstår" in body
    body = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Logg inn" in body and "E-postadresse" in body


def test_the_switch_changes_the_language(customer_client):
    response = customer_client.post("/i18n/setlang/", {"language": "nb", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    body = customer_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Oppgavene deres" in body
    customer_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Your tasks" in customer_client.get("/").content.decode()


def test_errors_come_in_norwegian(customer_client):
    from tests.portal.conftest import client_information

    response = customer_client.post(
        "/client-information/",
        client_information(organisation_number="923609017"),
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    body = response.content.decode()
    assert "Dette er ikke et gyldig organisasjonsnummer" in body
    assert "Det er 1 feil som må rettes" in body


def test_the_checklist_comes_in_norwegian(customer_client, sandbox):
    from tests.portal.conftest import token_form

    body = customer_client.post(
        "/xledger/token/", token_form(sandbox, "no_suppliers"), HTTP_ACCEPT_LANGUAGE="nb"
    ).content.decode()
    assert "Tokenet kan ikke lese leverandører" in body and "kryss av for lese-tilgang" in body


def test_the_invitation_is_in_both_languages(customer, pm_user):
    from django.core import mail

    from portal import services

    services.invitation_create(customer=customer, email="x@fjordbat.example", by=pm_user)
    body = mail.outbox[-1].body
    assert "Open this link to choose your password" in body
    assert "Åpne denne lenken for å velge passord" in body
