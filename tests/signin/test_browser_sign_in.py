"""In a real browser (Chromium), a staff member's first and later sign-ins with an authenticator
app: the admin's login form sends them to add a second factor; they copy the key from the page
into their "app" (pyotp, here), confirm it with a code, keep the ten recovery codes and reach the
admin. Later they sign in with the password and the code the app shows, then with a recovery
code, which then no longer works.

Every code is computed here from the key the page showed, as a phone would: nothing is read
from the database but the last time step the server accepted (each step works once, so the
next sign-in uses the next step instead of waiting 30 seconds).
"""

import re
import time

import pyotp
import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "support-password-123"  # tests/conftest.py's support_user


def the_apps_code(secret: str, user) -> str:
    """The code the app shows for the next time step the server has not accepted yet."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    step = max(device.last_t + 1, int(time.time()) // 30 - device.tolerance)
    return pyotp.TOTP(secret).at(step * 30)


def sign_in_with_password(page, base):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "support")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def show_code(page, code):
    page.fill("#id_code", code)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def sign_out(page, base):
    page.click("#logout-form [type=submit]")  # the admin's own "Log out" button
    page.wait_for_url(f"{base}/accounts/login/")
    page.goto(f"{base}/admin/")
    assert page.url.startswith(f"{base}/admin/login/"), page.url  # signed out indeed


def test_enrol_then_sign_in_with_the_app_then_with_a_recovery_code_once(
    live_server, page, support_user
):
    base = live_server.url

    # First sign-in: the password alone leads to adding a second factor, not to the admin.
    sign_in_with_password(page, base)
    assert page.url.startswith(f"{base}/accounts/security/?next=%2Fadmin%2F"), page.url
    assert "Add a second factor to continue." in page.locator("main").inner_text()
    page.goto(f"{base}/admin/")
    assert "/accounts/security/" in page.url

    page.get_by_role("link", name="Add an authenticator app").click()
    page.wait_for_url(f"{base}/accounts/security/authenticator/**")
    assert page.locator(".qr svg").count() == 1
    shown = page.locator("#totp-secret").inner_text()  # the key, as a person copies it
    secret = "".join(shown.split())
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), shown
    assert secret == page.locator("#totp-secret").get_attribute("data-secret")
    page.fill("#id_code", pyotp.TOTP(secret).now())  # a fresh app: the code it shows now
    page.get_by_role("button", name="Add the app").click()

    page.wait_for_selector("#recovery-codes")
    codes = page.locator("#recovery-codes li code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}", code) for code in codes), codes
    page.get_by_role("link", name="I have kept them; continue").click()
    page.wait_for_url(f"{base}/admin/")
    page.wait_for_selector("#semine-dashboard")
    assert TOTPDevice.objects.get(user=support_user).confirmed
    assert AuditEntry.objects.filter(
        action="mfa_enrolled", target="support", after__kind="totp"
    ).exists()
    sign_out(page, base)

    # With the password and the code the app shows.
    sign_in_with_password(page, base)
    assert page.url.startswith(f"{base}/accounts/verify/?next=%2Fadmin%2F"), page.url
    page.goto(f"{base}/admin/auth/")
    assert page.url.startswith(f"{base}/accounts/verify/"), page.url  # no page before the code
    page.goto(f"{base}/accounts/verify/?next=/admin/")
    show_code(page, the_apps_code(secret, support_user))
    assert page.url == f"{base}/admin/", page.url
    page.wait_for_selector("#semine-dashboard")
    sign_out(page, base)

    # With the password and a recovery code (typed as printed: any case, with its hyphen).
    sign_in_with_password(page, base)
    assert "/accounts/verify/" in page.url
    show_code(page, codes[3].upper())
    assert page.url == f"{base}/admin/", page.url
    assert "9 recovery codes are left" in page.locator("body").inner_text()
    assert StaticToken.objects.filter(device__user=support_user).count() == 9
    sign_out(page, base)

    # The same recovery code again: refused, and the admin stays shut.
    sign_in_with_password(page, base)
    assert "/accounts/verify/" in page.url
    show_code(page, codes[3])
    assert "That code is not right" in page.locator(".error-summary").inner_text()
    assert "/accounts/verify/" in page.url
    page.goto(f"{base}/admin/")
    assert page.url.startswith(f"{base}/accounts/verify/?next=%2Fadmin%2F"), page.url
    assert page.locator("#semine-dashboard").count() == 0
    assert StaticToken.objects.filter(device__user=support_user).count() == 9
