"""Passkeys in a real browser (Chromium), with the browser's own WebAuthn code talking to a
virtual authenticator from Chrome's DevTools protocol (a platform authenticator that keeps its
keys, verifies the user and consents by itself): the library's scripts, our views and the
server-side checks of the signatures are all real; only the fingerprint is simulated.

The live server answers at http://localhost:PORT: `localhost` is a secure context for WebAuthn
and the relying party ID (the host of PORTAL_BASE_URL). The allowed origins are the site's own
origin with its port: the settings derive it from PORTAL_BASE_URL once, when they load
(http://localhost:8000 by default), so a server on another port sets it, as a deployment would.
"""

import base64

import pytest
from django.contrib.auth.models import Group, User
from django_otp_webauthn.models import WebAuthnCredential

from portal.models import AuditEntry
from portal.roles import PROJECT_MANAGERS
from tests.second_factor import authenticator, browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "support-password-123"  # tests/conftest.py's support_user
OTHER_PASSWORD = "other-password-123"


@pytest.fixture
def site(live_server, settings):
    assert live_server.url.startswith("http://localhost:"), live_server.url
    assert settings.OTP_WEBAUTHN_RP_ID == "localhost"
    settings.PORTAL_BASE_URL = live_server.url
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    return live_server.url


def base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def virtual_authenticator(page):
    """A passkey-capable authenticator built into the browser (Chrome DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def add_passkey(page, base, user):
    """On the user's Sign-in security page: "Add a passkey", and the browser makes one."""
    page.goto(f"{base}/accounts/security/passkey/")
    page.click("#passkey-register-button")
    status = page.locator("#passkey-register-status-message[data-status-enum]")
    status.wait_for()
    assert status.get_attribute("data-status-enum") == "success", status.inner_text()
    return WebAuthnCredential.objects.get(user=user)


def sign_out(page, base):
    page.goto(f"{base}/accounts/security/")
    page.locator("header.site form[action='/accounts/logout/'] button").click()
    page.wait_for_url(f"{base}/accounts/login/")


def sign_in_with_password(page, base, username, password):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/accounts/verify/?next=%2Fadmin%2F")


def test_add_a_passkey_then_sign_in_with_it(site, page, support_user):
    base = site
    cdp, authenticator_id = virtual_authenticator(page)
    browser_sign_in(page, base, "/admin/login/", "support", PASSWORD)  # password + app code
    assert page.url == f"{base}/admin/", page.url

    credential = add_passkey(page, base, support_user)
    assert credential.confirmed
    assert AuditEntry.objects.filter(
        action="mfa_enrolled", target="support", after__kind="passkey"
    ).exists()
    (kept,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert kept["rpId"] == "localhost"
    page.goto(f"{base}/accounts/security/")
    assert "Passkeys and security keys" in page.locator("main").inner_text()
    assert page.locator("main form[action$='/remove/']").count() == 2  # the app and the passkey
    sign_out(page, base)

    # The password, then the passkey instead of a code.
    sign_in_with_password(page, base, "support", PASSWORD)
    page.goto(f"{base}/admin/")
    assert page.url.startswith(f"{base}/accounts/verify/"), page.url  # held until the passkey
    page.click("#passkey-verification-button")
    page.wait_for_url(f"{base}/admin/")
    page.wait_for_selector("#semine-dashboard")
    page.goto(f"{base}/admin/portal/customer/")
    assert page.url == f"{base}/admin/portal/customer/", page.url
    credential.refresh_from_db()
    assert credential.last_used_at is not None


# In the page: ask the server for a challenge as the signed-in user, sign it with whatever passkey
# the authenticator holds for this site (no credential is named: the authenticator offers its own),
# and hand the signed answer back. What the library's button does, without its choice of passkeys.
SIGN_WITH_ANY_PASSKEY = """async () => {
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const post = (url, body) => fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"X-CSRFToken": csrf, "Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const options = await (await post("/webauthn/authentication/begin/")).json();
  options.allowCredentials = [];
  const credential = await navigator.credentials.get(
    {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
  const answer = await post("/webauthn/authentication/complete/?next=/admin/",
                            credential.toJSON());
  return {status: answer.status, body: await answer.json(), id: credential.id};
}"""


def test_another_users_passkey_does_not_verify_this_session(site, page, support_user):
    base = site
    other = User.objects.create_user("other", "other@semine.example", OTHER_PASSWORD, is_staff=True)
    other.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    authenticator(support_user)  # the support user has an app, and no passkey

    # On a shared computer, the other staff member adds a passkey and signs out.
    cdp, authenticator_id = virtual_authenticator(page)
    browser_sign_in(page, base, "/admin/login/", "other", OTHER_PASSWORD)
    others = add_passkey(page, base, other)
    sign_out(page, base)

    # The support user signs in with their password and offers the other's passkey.
    sign_in_with_password(page, base, "support", PASSWORD)
    assert page.locator("#passkey-verification-button").count() == 0  # none of their own
    answer = page.evaluate(SIGN_WITH_ANY_PASSKEY)
    assert base64url(bytes(others.credential_id)) == answer["id"]  # signed with the other's key
    assert answer["status"] == 403, answer
    assert answer["body"]["code"] == "credential_user_mismatch", answer
    page.goto(f"{base}/admin/")
    assert page.url.startswith(f"{base}/accounts/verify/?next=%2Fadmin%2F"), page.url
    assert page.locator("#semine-dashboard").count() == 0

    # The very same browser and passkey still verify the other's own session.
    sign_out(page, base)
    sign_in_with_password(page, base, "other", OTHER_PASSWORD)
    answer = page.evaluate(SIGN_WITH_ANY_PASSKEY)
    assert answer["status"] == 200, answer
    page.goto(f"{base}/admin/")
    assert page.url == f"{base}/admin/", page.url
