"""One person's data on request: the file of what the portal holds about them (GDPR art. 15), and
erasure without offboarding their customer (art. 17); bad input changes nothing."""

import json

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from portal import personal_data
from portal.invitations import Invitation
from portal.models import AuditEntry, Contact, Membership
from tests.factories import make_customer

KARI = "Kari.Nordmann@fjordbat.example"


@pytest.fixture
def kari(db, pm_user):
    customer = make_customer("Fjordbåt Shipping AS", project_manager=pm_user)
    user = User.objects.create_user(KARI.lower(), KARI.lower(), "kari-pw-123456")
    user.first_name, user.last_name = "Kari", "Nordmann"
    user.save()
    Membership.objects.create(user=user, customer=customer)
    Contact.objects.create(
        customer=customer,
        role="it_partner",
        name="Kari Nordmann",
        email=KARI,
        phone="+47 912 34 567",
    )
    Contact.objects.create(customer=customer, role="project", name="Per Hansen", email="per@f.no")
    Contact.objects.create(customer=customer, role="finance", name="Ola", email="ola@f.no")
    invitation = Invitation(customer=customer, email=KARI.lower(), created_by=pm_user)
    invitation.issue_token()
    invitation.save()
    AuditEntry.record(
        actor=pm_user,
        action="contacts_changed",
        customer=customer,
        target=customer.legal_name,
        after={"finance": "Kari Nordmann <kari.nordmann@fjordbat.example>, +47 912 34 567"},
    )
    AuditEntry.record(actor=user, action="setup_submitted", customer=customer, target="setup")
    return user


def test_the_file_holds_what_the_portal_holds_about_the_person(kari, pm_user):
    data = json.loads(personal_data.person_export(email=KARI.upper(), by=pm_user))
    assert [a["username"] for a in data["accounts"]] == [kari.username]
    assert data["accounts"][0]["customer"] == "Fjordbåt Shipping AS"
    assert [c["phone"] for c in data["contacts"]] == ["+47 912 34 567"]
    assert len(data["invitations"]) == 1
    actions = {e["action"] for e in data["audit_entries"]}
    assert actions == {"contacts_changed", "setup_submitted"}
    entry = AuditEntry.objects.get(action="personal_data_exported")
    assert KARI.lower() not in json.dumps([entry.target, entry.after, entry.comment]).lower()


def test_erasure_anonymises_the_account_and_redacts_the_audit_log(kari, pm_user):
    result = personal_data.person_erase(
        email=KARI, by=pm_user, reason="E-mail of 1 Dec", confirmation=KARI.lower()
    )
    assert result["accounts_anonymised"] == 1 and result["contacts_deleted"] == 1
    kari.refresh_from_db()
    assert kari.username == f"erased-{kari.pk}" and not kari.email and not kari.is_active
    assert not kari.has_usable_password() and not kari.first_name
    assert not Contact.objects.filter(email__iexact=KARI).exists()
    assert Contact.objects.filter(email="ola@f.no").exists()  # the others stay
    assert not Invitation.objects.filter(email__iexact=KARI).exists()
    text = json.dumps(list(AuditEntry.objects.values("target", "before", "after", "comment")))
    for secret in ("kari.nordmann@fjordbat.example", "Kari Nordmann", "+47 912 34 567"):
        assert secret.lower() not in text.lower()
    assert AuditEntry.objects.filter(action="setup_submitted", actor=kari).exists()  # history
    refused = Client().post("/accounts/login/", {"username": KARI, "password": "kari-pw-123456"})
    assert "_auth_user_id" not in refused.wsgi_request.session
    again = personal_data.person_data(email=KARI, by=pm_user)
    assert not again["accounts"] and not again["contacts"] and not again["invitations"]


def test_the_customers_finance_contact_is_not_erased_until_another_is_named(kari, pm_user):
    Contact.objects.filter(email="ola@f.no").delete()
    Contact.objects.filter(email=KARI).update(role="finance")
    with pytest.raises(ValidationError, match="finance contact of Fjordbåt Shipping AS"):
        personal_data.person_erase(
            email=KARI, by=pm_user, reason="Request", confirmation=KARI.lower()
        )
    kari.refresh_from_db()
    assert kari.is_active and Contact.objects.filter(email=KARI).exists()


@pytest.mark.parametrize(
    "email, reason, confirmation, message",
    [
        (KARI, "Request", "someone@else.example", "Type the person's e-mail address again"),
        (KARI, "  ", KARI, "Say why"),
        ("not an address", "Request", "not an address", "Enter the person's e-mail address"),
    ],
)
def test_bad_input_erases_nothing(kari, pm_user, email, reason, confirmation, message):
    with pytest.raises(ValidationError, match=message):
        personal_data.person_erase(
            email=email, by=pm_user, reason=reason, confirmation=confirmation
        )
    kari.refresh_from_db()
    assert kari.is_active and kari.email


def test_a_staff_account_is_not_erased_here(pm_user, support_user):
    with pytest.raises(ValidationError, match="staff account"):
        personal_data.person_erase(
            email=support_user.email,
            by=pm_user,
            reason="Request",
            confirmation=support_user.email,
        )


def test_the_staff_page_finds_downloads_and_erases(kari, client, pm_user, support_user):
    client.force_login(pm_user)
    page = client.get(f"/staff/personal-data/?email={KARI}")
    assert page.status_code == 200 and "Contacts: 1" in page.content.decode()
    download = client.post("/staff/personal-data/", {"email": KARI, "action": "export"})
    assert download["Content-Disposition"] == 'attachment; filename="personal-data.json"'
    assert json.loads(download.content)["contacts"][0]["name"] == "Kari Nordmann"
    wrong = client.post(
        "/staff/personal-data/",
        {"email": KARI, "action": "erase", "reason": "Letter", "confirmation": "x@y.no"},
    )
    assert wrong.status_code == 400 and "Letter" in wrong.content.decode()
    done = client.post(
        "/staff/personal-data/",
        {"email": KARI, "action": "erase", "reason": "Letter", "confirmation": KARI},
    )
    assert done.status_code == 200 and "Erased: 1 account(s)" in done.content.decode()
    client.force_login(support_user)
    assert client.get("/staff/personal-data/").status_code == 403
