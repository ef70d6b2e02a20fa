import pytest
from django.test import Client


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/invitation/nope/", "/admin/login/"])
def test_it_sets_the_security_headers(db, url):
    response = Client().get(url)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp or "'unsafe-inline'" not in csp.split("script-src")[1]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response["X-Frame-Options"] == "DENY"


def test_customer_pages_allow_no_inline_style(customer_client):
    response = customer_client.get("/")
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "style=" not in response.content.decode()
    assert "<script" not in response.content.decode()


def test_the_invitation_page_keeps_its_token_on_this_site(customer, pm_user):
    import re

    from django.core import mail

    from portal import services

    services.invitation_create(customer=customer, email="x@fjordbat.example", by=pm_user)
    raw = re.search(r"/invitation/(\S+)/", mail.outbox[-1].body).group(1)
    response = Client().get(f"/invitation/{raw}/")
    assert response["Referrer-Policy"] == "same-origin"
    assert "http" not in response.content.decode().split("<main", 1)[1]  # no outside links
    assert response["Cache-Control"].startswith("max-age=0")
