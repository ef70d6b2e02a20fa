import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from portal import services
from portal.invitations import Invitation, hash_token
from portal.models import AuditEntry, Customer, Membership

PASSWORD = "Fjord-Sailing-2026!"


def _invite(customer, pm_user, email="kari@fjordbat.example"):
    invitation = services.invitation_create(customer=customer, email=email, by=pm_user)
    link = re.search(r"http\S+/invitation/(\S+)/", mail.outbox[-1].body)
    return invitation, link.group(1)


def _accept(client, raw, password=PASSWORD, password2=None):
    return client.post(
        f"/invitation/{raw}/", {"password1": password, "password2": password2 or password}
    )


def test_it_sends_a_link_and_stores_only_its_hash(customer, pm_user, compiled_catalog):
    invitation, raw = _invite(customer, pm_user)
    assert mail.outbox[-1].to == ["kari@fjordbat.example"]
    assert "Fjordbåt Shipping AS" in mail.outbox[-1].subject
    # No language chosen: the e-mail is in English and Norwegian.
    assert "Open this link to choose your password" in mail.outbox[-1].body
    assert "Åpne denne lenken for å velge passord" in mail.outbox[-1].body
    invitation.refresh_from_db()
    assert invitation.token_hash == hash_token(raw)
    assert raw not in str(Invitation.objects.values().get())
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)


def test_it_creates_the_user_and_binds_them_to_the_customer(customer, pm_user):
    _, raw = _invite(customer, pm_user)
    client = Client()
    assert client.get(f"/invitation/{raw}/").status_code == 200
    response = _accept(client, raw)
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="kari@fjordbat.example")
    assert user.check_password(PASSWORD) and not user.is_staff
    assert Membership.objects.get(user=user).customer == customer
    customer.refresh_from_db()
    assert customer.onboarding_status == Customer.Status.IN_PROGRESS
    assert client.get("/").status_code == 200  # logged in
    assert AuditEntry.objects.filter(action="invitation_accept", customer=customer).exists()


def test_it_refuses_a_weak_password_and_keeps_the_page(customer, pm_user):
    _, raw = _invite(customer, pm_user)
    client = Client()
    response = _accept(client, raw, password="12345678")
    assert response.status_code == 200
    body = response.content.decode()
    assert "error-summary" in body and 'href="#id_password1"' in body
    assert 'aria-invalid="true"' in body
    response = _accept(client, raw, password=PASSWORD, password2=PASSWORD + "x")
    assert "The two passwords are not the same." in response.content.decode()
    assert not User.objects.filter(username="kari@fjordbat.example").exists()
    assert Invitation.objects.get().is_usable


def test_it_refuses_a_used_link(customer, pm_user):
    _, raw = _invite(customer, pm_user)
    _accept(Client(), raw)
    client = Client()
    for response in (client.get(f"/invitation/{raw}/"), _accept(client, raw, "Other-pass-2026!")):
        assert response.status_code == 410
        assert "already been used" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert User.objects.get(username="kari@fjordbat.example").check_password(PASSWORD)


def test_it_refuses_an_expired_link(customer, pm_user):
    invitation, raw = _invite(customer, pm_user)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    client = Client()
    response = _accept(client, raw)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(is_staff=False).exists()
    assert "_auth_user_id" not in client.session


def test_it_respects_the_configured_lifetime(customer, pm_user, settings):
    settings.INVITATION_TTL = timedelta(days=2)
    invitation, _ = _invite(customer, pm_user)
    assert invitation.expires_at - timezone.now() < timedelta(days=2, minutes=1)


def test_it_refuses_a_revoked_link(customer, pm_user):
    invitation, raw = _invite(customer, pm_user)
    services.invitation_revoke(invitation=invitation, by=pm_user)
    response = _accept(Client(), raw)
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    assert not User.objects.filter(is_staff=False).exists()


def test_it_refuses_an_unknown_link(db):
    response = Client().get("/invitation/not-a-real-token/")
    assert response.status_code == 410
    assert "do not recognise" in response.content.decode()


def test_it_kills_the_old_link_on_resend(customer, pm_user):
    invitation, old = _invite(customer, pm_user)
    services.invitation_resend(invitation=invitation, by=pm_user)
    new = re.search(r"/invitation/(\S+)/", mail.outbox[-1].body).group(1)
    assert new != old
    assert _accept(Client(), old).status_code == 410
    assert _accept(Client(), new).status_code == 302


def test_it_cannot_resend_or_revoke_an_accepted_invitation(customer, pm_user):
    invitation, raw = _invite(customer, pm_user)
    _accept(Client(), raw)
    invitation.refresh_from_db()
    with pytest.raises(services.OnboardingError):
        services.invitation_resend(invitation=invitation, by=pm_user)
    with pytest.raises(services.OnboardingError):
        services.invitation_revoke(invitation=invitation, by=pm_user)


def test_it_lets_a_pm_invite_from_the_customer_admin(customer, pm_user):
    client = Client()
    client.force_login(pm_user)
    url = f"/admin/portal/customer/{customer.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(
        {
            "legal_name": customer.legal_name,
            "country": customer.country,
            "onboarding_status": customer.onboarding_status,
            "project_manager": pm_user.pk,
            "fixed_assets_dimension_code": "35",
        }
    )
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        if formset.formset.model is Invitation:
            data[f"{prefix}-TOTAL_FORMS"] = "1"
            data[f"{prefix}-0-email"] = "new.user@fjordbat.example"
    data = {k: v for k, v in data.items() if not isinstance(v, list | dict)}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    invitation = Invitation.objects.get(email="new.user@fjordbat.example")
    assert invitation.created_by == pm_user
    assert mail.outbox[-1].to == ["new.user@fjordbat.example"]


def test_it_resends_and_revokes_from_the_invitation_admin(customer, pm_user):
    invitation, raw = _invite(customer, pm_user)
    client = Client()
    client.force_login(pm_user)
    sent_before = len(mail.outbox)
    response = client.post(
        "/admin/portal/invitation/",
        {"action": "resend", "_selected_action": [invitation.pk]},
    )
    assert response.status_code == 302
    assert len(mail.outbox) == sent_before + 1
    assert Invitation.find(raw) is None  # old link dead
    response = client.post(
        "/admin/portal/invitation/",
        {"action": "revoke", "_selected_action": [invitation.pk]},
    )
    invitation.refresh_from_db()
    assert invitation.state() == Invitation.State.REVOKED
