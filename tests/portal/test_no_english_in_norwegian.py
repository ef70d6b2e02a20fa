"""Every page a customer (or the holder of a customer's link) reads, in Norwegian, holds no
English sentence from the English catalogue: the pages are rendered in the states a customer
meets them (empty, with errors, a failed and a passed token check, live with a failing dataset
and a revoked token, a pending scope change, a replace-token link), and the visible text is
searched for the literal parts of every msgid whose Norwegian text differs."""

import html
import re
from datetime import timedelta

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from integrations.models import Connection, Issue, Run, Schedule
from portal import brreg_fake
from portal.golive import customer_approve_golive
from portal.token_links import TokenLink
from tests.portal.conftest import client_information, complete_setup, token_form
from tests.second_factor import next_code

pytestmark = pytest.mark.xledger

NB = {"HTTP_ACCEPT_LANGUAGE": "nb-NO,nb;q=0.9"}
# Words that are the same in both languages, or names: never evidence of a missing translation.
SAME_IN_BOTH = {"Semine Connect", "Xledger", "SEMINE", "API", "Owner ID"}


def _chunks(msgid: str) -> list[str]:
    """The literal parts of a msgid long enough to be English words, not a name or a code."""
    parts = re.split(r"%\(\w+\)[sd]|%[sd]|\{[^}]*\}|<[^>]+>", msgid)
    return [p.strip(" .,:;()«»“”\"'") for p in parts if len(p.strip()) >= 12 and " " in p.strip()]


@pytest.fixture(scope="module")
def english():
    po = polib.pofile(str(settings.BASE_DIR / "locale" / "nb" / "LC_MESSAGES" / "django.po"))
    found = {}
    for entry in po:
        if entry.obsolete or not entry.translated():
            continue
        translation = entry.msgstr or " ".join(entry.msgstr_plural.values())
        for chunk in _chunks(entry.msgid):
            if chunk not in translation and chunk not in SAME_IN_BOTH:
                found[chunk] = entry.msgid
    return found


def _visible_text(response) -> str:
    body = response.content.decode()
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", body)
    body = re.sub(r"(?s)<!--.*?-->", " ", body)
    text = re.sub(r"<[^>]+>", " ", body)
    # Attributes people read (titles, labels for assistive technology, placeholders) too.
    attrs = " ".join(re.findall(r'(?:title|aria-label|placeholder|alt)="([^"]*)"', body))
    return re.sub(r"\s+", " ", html.unescape(text + " " + attrs))


def _english_in(response, english) -> list[str]:
    text = _visible_text(response)
    return sorted({chunk for chunk in english if chunk in text})


@pytest.fixture
def pages(customer_client, customer_user, customer, sandbox, pm_user, monkeypatch):
    """(label, response) for every customer page in each state it is met in, in Norwegian."""
    monkeypatch.setattr("integrations.dispatch._async_task", lambda run_id, name: None)
    got = []

    def get(label, url, client=customer_client):
        response = client.get(url, **NB)
        assert response.status_code < 500, (label, response.status_code)
        got.append((label, response))
        return response

    def post(label, url, data, client=customer_client):
        response = client.post(url, data, **NB)
        assert response.status_code < 500, (label, response.status_code)
        got.append((label, response))
        return response

    anonymous = Client()
    for client in (customer_client, anonymous):  # every request in Norwegian, messages too
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    get("login", "/accounts/login/", anonymous)
    post("login failed", "/accounts/login/", {"username": "x@y.no", "password": "nope"}, anonymous)
    get("password reset", "/accounts/password_reset/", anonymous)
    get("home, new", "/")
    get("client information, empty", "/client-information/")
    wrong = client_information(organisation_number="923609017", desired_go_live="not a date")
    post("client information, errors", "/client-information/", wrong)
    monkeypatch.setattr("portal.brreg.transport_factory", brreg_fake.transport)
    for number in ("974760673", "910000004", "910000039", "910000047", "923609017"):
        lookup = {**client_information(organisation_number=number), "brreg_lookup": "1"}
        post(f"client information, register lookup {number}", "/client-information/", lookup)
    get("IT partner invitations", "/xledger/it-partner/")
    post("IT partner invitation, bad address", "/xledger/it-partner/", {"email": "nope"})
    get("token instructions", "/xledger/instructions/")
    get("token page, empty", "/xledger/token/")
    post("token page, missing scope", "/xledger/token/", token_form(sandbox, "no_suppliers"))
    post("token page, rejected", "/xledger/token/", token_form(sandbox, "revoked"))
    complete_setup(customer_client, sandbox)
    get("token page, verified", "/xledger/token/")
    get("scope", "/xledger/scope/")
    get("home, setup done", "/")
    customer_client.post("/confirm/")
    get("home, submitted", "/")
    customer_approve_golive(customer=customer, by=pm_user)
    connection = Connection.objects.get(customer=customer)
    Run.objects.filter(status__in=Run.ACTIVE_STATUSES).update(
        status=Run.Status.SUCCEEDED, finished_at=timezone.now()
    )
    get("home, live", "/")
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    for _ in range(3):
        Run.objects.create(connection=connection, schedule=schedule, dataset="suppliers",
                           status=Run.Status.FAILED, trigger=Run.Trigger.SCHEDULED,
                           finished_at=timezone.now(), error_message="boom")  # fmt: skip
    get("home, a dataset failing", "/")
    Issue.objects.create(connection=connection, kind=Issue.Kind.AUTH_FAILED, title="x")
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.NEEDS_ATTENTION)
    get("home, token revoked", "/")
    token_page = reverse("xledger_connection_token", args=[connection.pk])
    get("replace token", token_page)
    post("replace token, refused", token_page, {"token": sandbox.demo_tokens["revoked"]})
    post("replace token, malformed", token_page, {"token": "not a token!"})
    scope_page = reverse("xledger_connection_scope", args=[connection.pk])
    get("scope, live", scope_page)
    data = {f"entity_{e['dbId']}_in_scope": "on" for e in connection.verification["entities"]}
    post("scope change asked", scope_page, data)
    get("home, scope change pending", "/")
    get("scope, change pending", scope_page)
    link = TokenLink(connection=connection, email="drift@it.example", created_by=pm_user)
    raw = link.issue_token()
    link.save()
    get("replace-token link", reverse("token_link", args=[raw]), anonymous)
    post("replace-token link, refused", reverse("token_link", args=[raw]),
         {"token": sandbox.demo_tokens["revoked"]}, anonymous)  # fmt: skip
    TokenLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(days=1))
    get("replace-token link, expired", reverse("token_link", args=[raw]), anonymous)
    get("replace-token link, unknown", reverse("token_link", args=["nope"]), anonymous)
    # Sign-in security: a customer user turns a second factor on, then signs in with it.
    get("sign-in security, none yet", "/accounts/security/")
    get("add an authenticator app", "/accounts/security/authenticator/")
    post("add an authenticator app, wrong code", "/accounts/security/authenticator/",
         {"code": "000000"})  # fmt: skip
    device = TOTPDevice.objects.get(user=customer_user, confirmed=False)
    post("recovery codes", "/accounts/security/authenticator/", {"code": next_code(device)})
    get("sign-in security, on", "/accounts/security/")
    get("add a passkey", "/accounts/security/passkey/")
    customer_client.post("/accounts/logout/")
    customer_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    post("signed in, code asked", "/accounts/login/",
         {"username": customer_user.username, "password": "correct-horse-battery-9"})  # fmt: skip
    get("code page", "/accounts/verify/")
    post("code page, wrong code", "/accounts/verify/", {"code": "000000"})
    return got


def test_no_customer_page_shows_english_in_norwegian(pages, english):
    assert len(pages) >= 38
    found = {label: _english_in(response, english) for label, response in pages}
    assert {label: chunks for label, chunks in found.items() if chunks} == {}


def test_the_scan_finds_english_when_it_is_there(customer_client, english):
    """The scan can fail: the same page in English is full of catalogue sentences."""
    response = customer_client.get("/client-information/", HTTP_ACCEPT_LANGUAGE="en")
    assert len(_english_in(response, english)) >= 5
