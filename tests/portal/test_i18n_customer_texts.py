"""Customer-facing texts made by code, not templates, come in the customer's language: the token
checklist (stored as keys and parameters, worded at display time), the issues on the home page,
and the e-mails to the customer's people (each in the language they last used the portal in)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from integrations.models import Connection, Issue
from portal import notifications, services
from portal.models import Contact, Customer, Membership
from tests.admin_builders import make_issue
from tests.factories import make_connection
from tests.portal.conftest import make_customer_user, token_form

NB = {"HTTP_ACCEPT_LANGUAGE": "nb-NO,nb;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PO = Path(settings.BASE_DIR) / "locale" / "nb" / "LC_MESSAGES" / "django.po"


@pytest.fixture(autouse=True)
def _compiled(compiled_catalog):
    """The catalogue compiled (tests/portal/test_i18n.py's fixture)."""


# --- The token checklist -------------------------------------------------------------------------


def _stored(customer):
    return Connection.objects.get(customer=customer).verification


def test_it_stores_keys_and_params_and_words_them_in_the_viewers_language(
    customer_client, customer, sandbox
):
    customer_client.post("/xledger/token/", token_form(sandbox, "no_suppliers"), **EN)
    suppliers = next(c for c in _stored(customer)["checks"] if c["key"] == "suppliers")
    assert suppliers["params"] == {
        "problem": "scope",
        "scopes": "Suppliers (and Supplier deltas)",
        "access": "read",
    }
    # English beside it, for staff screens; a failed row says what is not so.
    assert suppliers["label"] == "The token cannot read suppliers"

    body = customer_client.get("/xledger/token/", **NB).content.decode()
    assert "Tokenet kan ikke lese leverandører" in body
    assert "kryss av for lese-tilgang til Suppliers (and Supplier deltas)" in body
    assert "API-tokenet godtas" in body
    assert "cannot read suppliers" not in body and "tick read access" not in body

    body = customer_client.get("/xledger/token/", **EN).content.decode()
    assert "The token cannot read suppliers" in body and "tick read access for Suppliers" in body


def test_a_wrong_owner_id_is_explained_in_norwegian(customer_client, customer, sandbox):
    wrong = sandbox.owner_db_id + 777
    body = customer_client.post(
        "/xledger/token/", token_form(sandbox, owner_entity_id=str(wrong)), **NB
    ).content.decode()
    owner = next(c for c in _stored(customer)["checks"] if c["key"] == "owner")
    assert owner["params"]["entered"] == wrong
    assert owner["params"]["found"] == sandbox.owner_db_id
    assert f"Tokenet hører ikke til eier-ID {wrong}" in body
    assert f"Dette tokenet hører til eier-ID {sandbox.owner_db_id}" in body
    assert f"ikke {wrong}" in body and "Administrasjon → Enhet" in body
    assert "This token belongs to" not in body


def test_a_checklist_stored_before_params_keeps_its_text(customer_client, customer):
    connection = make_connection(customer)
    connection.verification = {
        "ok": False,
        "checks": [
            {"key": "token", "label": "The API token is accepted", "ok": True, "fix": ""},
            {"key": "owner", "label": "The token belongs to Owner ID 10001", "ok": True, "fix": ""},
            {"key": "suppliers", "label": "Read suppliers", "ok": False, "fix": "Tick suppliers."},
            {
                "key": "something_new",
                "label": "Unknown check",
                "ok": False,
                "fix": "Do X.",
            },
        ],
    }
    connection.save()
    body = customer_client.get("/xledger/token/", **NB).content.decode()
    assert "API-tokenet godtas" in body
    assert "Tokenet hører til eier-ID-en dere oppga" in body
    assert "Tokenet kan ikke lese leverandører" in body and "Tick suppliers." in body
    assert "Unknown check" in body and "Do X." in body


def test_the_admin_still_shows_the_checklist_in_english(customer, sandbox):
    from staff.sections import verification_checklist

    client = Client()
    user = make_customer_user(customer)
    client.force_login(user)
    client.post("/xledger/token/", token_form(sandbox, "no_suppliers"), **NB)
    html = str(verification_checklist(Connection.objects.get(customer=customer)))
    assert "The token cannot read suppliers" in html
    assert "tick read access for Suppliers" in html


# --- Issues on the home page ---------------------------------------------------------------------


def test_the_home_page_words_issues_from_their_kind(customer_client, customer):
    connection = make_connection(customer, live_since=timezone.now())
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.LIVE)
    make_issue(
        connection,
        kind=Issue.Kind.PERMISSION_MISSING,
        dataset="",
        title="The Xledger API token lacks a permission",
        detail="Permission denied for data type suppliers",
    )
    make_issue(connection, dataset="currencies", title="Currencies: 3 failed runs in a row")
    body = customer_client.get("/", **NB).content.decode()
    assert "Tokenet mangler en tilgang" in body
    assert "API-tokenet mangler en tilgang SEMINE trenger" in body
    assert "(Valuta)" in body
    assert "Synkroniseringen av disse dataene har feilet flere ganger på rad" in body
    for english in ("lacks a permission", "failed runs in a row", "Permission denied"):
        assert english not in body


# --- E-mails to the customer ---------------------------------------------------------------------


def test_an_invitation_in_norwegian_is_norwegian_only(customer, pm_user):
    services.invitation_create(
        customer=customer, email="x@fjordbat.example", by=pm_user, language="nb"
    )
    message = mail.outbox[-1]
    assert message.subject == "Sett opp Xledger-integrasjonen for Fjordbåt Shipping AS"
    assert "Åpne denne lenken for å velge passord" in message.body
    assert "Open this link" not in message.body


def test_accepting_remembers_the_language_of_the_page(customer, pm_user):
    services.invitation_create(customer=customer, email="ny@fjordbat.example", by=pm_user)
    link = re.search(r"(/invitation/\S+/)", mail.outbox[-1].body).group(1)
    client = Client()
    password = "correct-horse-battery-9"
    response = client.post(link, {"password1": password, "password2": password}, **NB)
    assert response.status_code == 302
    assert Membership.objects.get(user__email="ny@fjordbat.example").language == "nb"
    client.get("/", **EN)  # reading the portal in English from now on
    assert Membership.objects.get(user__email="ny@fjordbat.example").language == "en"


def test_go_live_and_changes_requested_reach_each_person_in_their_language(customer):
    kari = make_customer_user(customer, "kari@fjordbat.example")
    Membership.objects.filter(user=kari).update(language="nb")
    make_customer_user(customer, "it@partner.example")  # English (the default)
    Contact.objects.create(
        customer=customer, role="finance", name="Ola", email="ola@fjordbat.example"
    )  # no account: the language of the customer's first user (Kari)

    notifications.notify_golive_approved(customer)
    by_to = {tuple(m.to): m for m in mail.outbox}
    norwegian = by_to[("kari@fjordbat.example", "ola@fjordbat.example")]
    assert norwegian.subject == "Semine Connect: Fjordbåt Shipping AS er i drift"
    assert "SEMINE har godkjent Xledger-integrasjonen for Fjordbåt Shipping AS" in norwegian.body
    assert "approved" not in norwegian.body
    english = by_to[("it@partner.example",)]
    assert "SEMINE has approved the Xledger integration" in english.body

    mail.outbox.clear()
    notifications.notify_changes_requested(customer, comment="Konto 2400 er feil.")
    norwegian = next(m for m in mail.outbox if "kari@fjordbat.example" in m.to)
    assert norwegian.subject == "Semine Connect: gå gjennom oppsettet for Fjordbåt Shipping AS"
    assert "ber om noen endringer" in norwegian.body and "Konto 2400 er feil." in norwegian.body


def test_a_token_issue_reaches_a_norwegian_contact_in_norwegian(customer, pm_user):
    from integrations.issues import issue_notify, issue_open

    kari = make_customer_user(customer, "kari@fjordbat.example")
    Membership.objects.filter(user=kari).update(language="nb")
    Contact.objects.create(
        customer=customer, role="project", name="Kari", email="kari@fjordbat.example"
    )
    issue = issue_open(
        connection=make_connection(customer),
        kind=Issue.Kind.AUTH_FAILED,
        title="Xledger no longer accepts the API token",
        detail="401 Unauthorized",
    )
    assert issue_notify(issue)
    by_to = {tuple(m.to): m for m in mail.outbox}
    norwegian = by_to[("kari@fjordbat.example",)]
    assert "Xledger godtar ikke lenger API-tokenet" in norwegian.body
    assert "trenger oppfølging" in norwegian.body
    staff = by_to[(pm_user.email,)]
    assert "Xledger no longer accepts the API token, so SEMINE cannot fetch" in staff.body


# --- The catalogue -------------------------------------------------------------------------------


def _po_entries():
    """(references, flags, msgid, msgstrs) per entry of the nb catalogue (obsolete ones skipped)."""
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        text = "\n".join(line for line in lines if not line.startswith("#"))
        refs = " ".join(line[3:] for line in lines if line.startswith("#: "))
        flags = " ".join(line[3:] for line in lines if line.startswith("#, "))
        msgid = "".join(re.findall(r'"(.*)"', text.split("msgid ", 1)[1].split("msgstr", 1)[0]))
        msgstrs = ["".join(re.findall(r'"(.*)"', m)) for m in re.findall(
            r"^msgstr(?:\[\d\])? ((?:\".*\"\n?)+)", text + "\n", re.M
        )]  # fmt: skip
        yield refs, flags, msgid, msgstrs


def test_the_catalogue_has_no_fuzzy_entries():
    assert [msgid for _, flags, msgid, _ in _po_entries() if "fuzzy" in flags] == []


@pytest.mark.parametrize(
    "source",
    [
        "templates/portal/",
        "templates/notifications/golive_approved",
        "templates/notifications/changes_requested",
        "templates/emails/invitation",
        "integrations/xledger/checklist.py",
        "integrations/issues.py",
    ],
)
def test_every_string_the_customer_reads_is_translated(source):
    untranslated = [
        msgid
        for refs, _, msgid, msgstrs in _po_entries()
        if msgid and source in refs and not (msgstrs and all(msgstrs))
    ]
    assert untranslated == []
