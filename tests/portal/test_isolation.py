"""A customer user sees their own customer and nothing else.

Customer URLs carry no customer ids, so there is nothing to change in a URL to reach another
customer; a connection's own pages carry its id, and another customer's connection answers 404
(as a missing one does). The staff export and the admin answer 404 or send to the admin login."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, reverse

from integrations.models import Connection
from portal import urls as portal_urls
from tests.factories import make_customer
from tests.portal.conftest import complete_setup, make_customer_user

CUSTOMER_URL_NAMES = {
    "home",
    "confirm_setup",
    "client_information",
    "token_instructions",
    "xledger_token",
    "xledger_scope",
    "interval_request",
    "xledger_connection_add",
    "it_partner_invite",
}
# Pages of one of the customer's connections, by id.
CONNECTION_URL_NAMES = {
    "xledger_connection_token",
    "xledger_connection_scope",
    "xledger_connection_discard",
    "xledger_connection_approval",
}


def test_the_list_covers_every_customer_url():
    """Every page of the customer views is in the list below (new pages must be added)."""
    not_customer_pages = (
        "portal.views.auth",
        "portal.views.staff",
        "portal.views.invitations",
        "portal.views.token_links",  # reached by a link's secret, not a login (test_token_links)
    )
    named = {
        p.name
        for p in portal_urls.urlpatterns
        if isinstance(p, URLPattern)
        and p.callback.__module__.startswith("portal.views.")
        and p.callback.__module__ not in not_customer_pages
    }
    assert named == CUSTOMER_URL_NAMES | CONNECTION_URL_NAMES


@pytest.fixture
def two_customers(customer, customer_client, sandbox):
    complete_setup(customer_client, sandbox)
    other = make_customer("Other Customer AS", country="SE")
    other_user = make_customer_user(other, "eve@other.example")
    client = Client()
    client.force_login(other_user)
    return customer, other, client


def test_another_customers_user_sees_none_of_it(two_customers):
    mine, other, client = two_customers
    secrets = [
        mine.legal_name,
        "974 760 673",
        "kari@fjordbat.example",
        "Strandgata",
        Connection.objects.get(customer=mine).token_fingerprint,
        "Andersen Konsern",
    ]
    for name in sorted(CUSTOMER_URL_NAMES):
        for method in ("get", "post"):
            response = getattr(client, method)(reverse(name))
            assert response.status_code in (200, 302, 400, 405), (name, method)
            body = response.content.decode()
            for secret in secrets:
                assert secret not in body, (name, method, secret)
    # The id-bearing URLs of the first customer:
    connection = Connection.objects.get(customer=mine)
    for name in sorted(CONNECTION_URL_NAMES):
        for method in ("get", "post"):
            response = getattr(client, method)(reverse(name, args=[connection.pk]))
            assert response.status_code in (404, 405), (name, method)
    assert Connection.objects.filter(pk=connection.pk).exists()
    assert client.get(reverse("export_customer", args=[mine.pk])).status_code == 404
    response = client.get(f"/admin/portal/customer/{mine.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_posting_another_customers_entities_changes_nothing(two_customers):
    mine, other, client = two_customers
    connection = Connection.objects.get(customer=mine)
    db_id = connection.verification["entities"][0]["dbId"]
    response = client.post(reverse("xledger_scope"), {f"entity_{db_id}_in_scope": "on"})
    assert response.status_code == 302  # other has no checked token: sent to the token page
    assert not Connection.objects.filter(customer=other, entities__isnull=False).exists()


def test_a_user_without_a_customer_gets_404_everywhere(db):
    user = User.objects.create_user("lost@example.com", "lost@example.com", "pw-123-xyz-abc")
    client = Client()
    client.force_login(user)
    for name in sorted(CUSTOMER_URL_NAMES):
        for method in ("get", "post"):
            assert getattr(client, method)(reverse(name)).status_code in (404, 405), name
    for name in sorted(CONNECTION_URL_NAMES):
        for method in ("get", "post"):
            assert getattr(client, method)(reverse(name, args=[1])).status_code in (404, 405)


def test_customers_never_reach_the_admin(customer_user):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": customer_user.username, "password": "correct-horse-battery-9"},
    )
    assert response.status_code == 200  # the admin login refuses non-staff
    assert "_auth_user_id" not in client.session
