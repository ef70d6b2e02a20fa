"""The portal's header stays on one row for a logged-in customer at laptop widths, in both
languages and with a long e-mail address (it used to wrap onto two rows)."""

import os

import pytest
from django.contrib.auth.models import User

from portal.models import Membership
from tests.factories import make_customer

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Fjord-Sailing-2026!"
EMAIL = "kari.nordmann-hansen@fjordbat-shipping-konsern.example"


@pytest.mark.parametrize("width", [1280, 1024])
@pytest.mark.parametrize("language", ["en", "nb"])
def test_the_header_is_one_row_when_logged_in(chromium, live_server, language, width):
    user = User.objects.create_user(EMAIL, EMAIL, PASSWORD)
    Membership.objects.create(user=user, customer=make_customer())
    context = chromium.new_context(
        locale="nb-NO" if language == "nb" else "en-GB", viewport={"width": width, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", EMAIL)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        brand = page.locator("header.site a.brand").bounding_box()
        logout = page.locator("header.site form[action='/accounts/logout/'] button").bounding_box()
        language_button = page.locator("header.site form.inline button").first.bounding_box()
        rows = {
            round(box["y"] + box["height"] / 2) // 20 for box in (brand, logout, language_button)
        }
        assert len(rows) == 1, (brand, logout, language_button)
        assert page.locator("header.site").bounding_box()["height"] < 70
        assert page.locator("header.site .who").get_attribute("title") == EMAIL
    finally:
        context.close()
