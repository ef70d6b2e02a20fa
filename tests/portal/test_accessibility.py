"""Plain, accessible HTML: every control has a label, error links lead to a field, no script."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.portal.conftest import client_information, token_form


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.labels, self.controls, self.links, self.scripts = set(), set(), [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if (
            tag in ("input", "select", "textarea")
            and attrs.get("type") not in ("hidden", "submit")
            and "hidden" not in attrs
        ):
            self.controls.append(attrs.get("id") or attrs.get("name"))
        if tag == "a" and (attrs.get("href") or "").startswith("#"):
            self.links.append(attrs["href"][1:])
        if tag == "script":
            self.scripts += 1


def _check(response):
    page = _Page()
    page.feed(response.content.decode())
    unlabelled = [c for c in page.controls if c not in page.labels]
    assert unlabelled == []
    broken = [link for link in page.links if link not in page.ids]
    assert broken == []
    assert page.scripts == 0
    return page


@pytest.mark.parametrize(
    "url", ["/", "/client-information/", "/xledger/instructions/", "/xledger/token/"]
)
def test_customer_pages_are_labelled(customer_client, url):
    _check(customer_client.get(url))


def test_pages_with_errors_are_labelled(customer_client, sandbox):
    page = _check(
        customer_client.post(
            "/client-information/", client_information(organisation_number="1", city="")
        )
    )
    assert "id_organisation_number" in page.links and "id_city" in page.links
    page = _check(customer_client.post("/xledger/token/", token_form(sandbox, token="a b")))
    assert "id_token" in page.links
    _check(customer_client.post("/xledger/token/", token_form(sandbox, "no_suppliers")))
    customer_client.post("/xledger/token/", token_form(sandbox))
    _check(customer_client.get("/xledger/scope/"))
    page = _check(customer_client.post("/xledger/scope/", {}))


def test_the_login_page_is_labelled(db):
    _check(Client().get("/accounts/login/"))
    _check(Client().post("/accounts/login/", {"username": "x", "password": "y"}))
    _check(Client().get("/accounts/password-reset/"))


def test_the_invitation_page_is_labelled(customer, pm_user):
    import re

    from django.core import mail

    from portal import services

    services.invitation_create(customer=customer, email="new@fjordbat.example", by=pm_user)
    raw = re.search(r"/invitation/(\S+)/", mail.outbox[-1].body).group(1)
    _check(Client().get(f"/invitation/{raw}/"))
    _check(Client().post(f"/invitation/{raw}/", {"password1": "1", "password2": "2"}))
