"""The customer invites their IT partner to the token step: an account that reaches the token
instructions, the token pages and the scope pages, and nothing else."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from integrations.models import Connection
from portal.invitations import Invitation
from portal.models import AuditEntry, Membership
from portal.roles import CustomerRole
from tests.factories import make_customer
from tests.portal.conftest import (
    _verification,
    dimension_keys,
    make_customer_user,
    token_form,
)

PASSWORD = "Fjord-Sailing-2026!"
PARTNER = "ole@itpartner.example"


def _invite(client, email=PARTNER, language="nb"):
    return client.post("/xledger/it-partner/", {"email": email, "language": language})


def _link(message) -> str:
    return re.search(r"http\S+(/invitation/\S+/)", message.body).group(1)


def _accept(path, client=None):
    client = client or Client()
    response = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    return client, response


@pytest.fixture
def partner(customer_client, pm_user, compiled_catalog):
    """The IT partner, invited by the customer in Norwegian and logged in after accepting."""
    response = _invite(customer_client)
    assert response.status_code == 302 and response["Location"] == "/"
    invitation = [m for m in mail.outbox if m.to == [PARTNER]][-1]
    client, response = _accept(_link(invitation))
    assert response.status_code == 302 and response["Location"] == "/"
    return client


def test_it_sends_the_partner_a_link_in_the_chosen_language(
    customer_client, customer, customer_user, pm_user, compiled_catalog
):
    response = _invite(customer_client)
    assert response.status_code == 302
    to_partner = [m for m in mail.outbox if m.to == [PARTNER]]
    assert len(to_partner) == 1
    body = to_partner[0].body
    assert "Åpne denne lenken for å velge passord" in body  # Norwegian, as chosen
    assert "Open this link to choose your password" not in body
    assert "/invitation/" in body and customer.legal_name in body
    invitation = Invitation.objects.get(email=PARTNER)
    assert invitation.role == CustomerRole.IT_PARTNER
    assert invitation.created_by == customer_user and invitation.language == "nb"
    assert invitation.expires_at > timezone.now() + timedelta(days=6)


def test_the_project_manager_is_told_and_it_is_audited(customer_client, customer, pm_user):
    _invite(customer_client, language="en")
    to_pm = [m for m in mail.outbox if m.to == [pm_user.email]]
    assert len(to_pm) == 1
    assert PARTNER in to_pm[0].body and "kari@fjordbat.example" in to_pm[0].body
    assert f"/admin/portal/customer/{customer.pk}/change/" in to_pm[0].body
    assert "/invitation/" not in to_pm[0].body  # the link is the partner's alone
    entry = AuditEntry.objects.get(action="invitation_create", customer=customer)
    assert entry.target == PARTNER and entry.after == {"role": "it_partner"}
    assert entry.actor.email == "kari@fjordbat.example"


def test_the_project_manager_sees_it_in_the_admin(customer_client, customer, pm_user):
    _invite(customer_client)
    staff = Client()
    staff.force_login(pm_user)
    body = staff.get(f"/admin/portal/customer/{customer.pk}/change/").content.decode()
    assert PARTNER in body
    body = staff.get("/admin/portal/invitation/").content.decode()
    assert PARTNER in body and "IT partner" in body


def test_the_partner_accepts_and_reaches_the_token_step(partner, customer, sandbox):
    user = User.objects.get(username=PARTNER)
    assert user.membership.customer == customer
    assert user.membership.role == CustomerRole.IT_PARTNER
    entry = AuditEntry.objects.get(action="invitation_accept", customer=customer)
    assert entry.actor == user and entry.after == {"role": "it_partner"}
    for url in ("/", "/xledger/instructions/", "/xledger/token/", "/xledger/connections/new/"):
        assert partner.get(url).status_code == 200, url
    response = partner.post("/xledger/token/", token_form(sandbox))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Connection.objects.get(customer=customer).verification["ok"]
    assert partner.get("/xledger/scope/").status_code == 200
    verification = _verification(partner)
    data = {f"entity_{e['dbId']}_in_scope": "on" for e in verification["entities"]}
    data["dimensions"] = dimension_keys(verification, "Avdeling")
    assert partner.post("/xledger/scope/", data).status_code == 302
    connection = Connection.objects.get(customer=customer)
    assert connection.entities.exists()
    for url in (
        f"/xledger/connections/{connection.pk}/token/",
        f"/xledger/connections/{connection.pk}/scope/",
    ):
        assert partner.get(url).status_code == 200, url


def test_the_partner_is_refused_everything_else(partner, customer, sandbox):
    partner.post("/xledger/token/", token_form(sandbox))
    connection = Connection.objects.get(customer=customer)
    refused = [
        ("get", "/client-information/"),
        ("post", "/client-information/"),
        ("post", "/confirm/"),
        ("post", "/intervals/request/"),
        ("get", "/xledger/it-partner/"),
        ("post", "/xledger/it-partner/"),
        ("post", f"/xledger/connections/{connection.pk}/remove/"),
        ("post", f"/xledger/connections/{connection.pk}/approval/"),
    ]
    for method, url in refused:
        assert getattr(partner, method)(url).status_code == 403, (method, url)
    assert Connection.objects.filter(pk=connection.pk).exists()
    assert not Invitation.objects.filter(created_by__username=PARTNER).exists()


def test_the_partners_home_shows_only_the_token_step(partner, customer):
    body = partner.get("/").content.decode()
    assert 'href="/xledger/instructions/"' in body and 'href="/xledger/token/"' in body
    assert 'href="/client-information/"' not in body
    assert 'action="/confirm/"' not in body and 'action="/intervals/request/"' not in body
    assert 'action="/xledger/it-partner/"' not in body
    assert body.count('class="task ') == 2


def test_the_customer_home_offers_the_invitation(customer_client):
    body = customer_client.get("/").content.decode()
    assert 'action="/xledger/it-partner/"' in body and 'name="email"' in body


def test_the_link_works_once(partner):
    path = _link([m for m in mail.outbox if m.to == [PARTNER]][-1])
    client, response = _accept(path)
    assert response.status_code == 410
    assert "_auth_user_id" not in client.session


def test_the_link_expires(customer_client):
    _invite(customer_client)
    Invitation.objects.filter(email=PARTNER).update(expires_at=timezone.now() - timedelta(1))
    client, response = _accept(_link(mail.outbox[0]))
    assert response.status_code == 410
    assert not User.objects.filter(username=PARTNER).exists()


def test_a_user_of_another_customer_is_refused_clearly(customer_client):
    other = make_customer("Other Customer AS", country="SE")
    make_customer_user(other, PARTNER)
    _invite(customer_client)
    client, response = _accept(_link(mail.outbox[0]))
    assert response.status_code == 200
    assert "already has an account in Semine Connect for another customer" in (
        response.content.decode()
    )
    assert Membership.objects.get(user__username=PARTNER).customer == other
    assert Invitation.objects.get(email=PARTNER).is_usable
    assert "_auth_user_id" not in client.session


def test_another_customers_user_cannot_see_it(customer_client, customer):
    _invite(customer_client)
    other = make_customer("Other Customer AS", country="SE")
    client = Client()
    client.force_login(make_customer_user(other, "eve@other.example"))
    for url in ("/", "/xledger/it-partner/"):
        body = client.get(url).content.decode()
        assert PARTNER not in body, url
    mine = Client()
    mine.force_login(User.objects.get(username="kari@fjordbat.example"))
    assert PARTNER in mine.get("/xledger/it-partner/").content.decode()


def test_a_customer_sends_at_most_ten_a_day(customer_client, settings):
    for i in range(10):
        assert _invite(customer_client, f"p{i}@itpartner.example").status_code == 302
    sent = len(mail.outbox)
    response = _invite(customer_client, "p10@itpartner.example")
    assert response.status_code == 429
    assert "Try again tomorrow" in response.content.decode()
    assert len(mail.outbox) == sent
    assert not Invitation.objects.filter(email="p10@itpartner.example").exists()


def test_it_refuses_a_wrong_address(customer_client):
    response = _invite(customer_client, "not an address")
    assert response.status_code == 400
    assert 'href="#id_email"' in response.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox
