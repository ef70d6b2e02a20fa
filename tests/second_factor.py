"""Second factors in tests: an authenticator app for a user, and the code it shows.

Codes are computed with pyotp from the device's key, as a phone would. django-otp accepts a
time step only once and only within its tolerance (one step either side), so `next_code` gives
the next step the device has not used yet: two sign-ins in the same 30 seconds both work, with
no waiting and no race with the clock.
"""

import base64
import time

import pyotp
from django.contrib.auth import get_user_model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def authenticator(user) -> TOTPDevice:
    """The user's confirmed authenticator app (one is added when there is none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)
    return device


def code_at(key: str | bytes, step: int, *, digits: int = 6, period: int = 30) -> str:
    secret = base64.b32encode(key if isinstance(key, bytes) else bytes.fromhex(key)).decode()
    return pyotp.TOTP(secret, digits=digits, interval=period).at(step * period)


def next_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    now_step = int(time.time() - device.t0) // device.step
    step = max(device.last_t + 1, now_step - device.tolerance)
    assert step <= now_step + device.tolerance, "the device used every step it accepts now"
    return code_at(device.bin_key, step, digits=device.digits, period=device.step)


def verified_session(client, user) -> None:
    """What a full sign-in leaves in the session: the second factor shown."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.save()


def browser_sign_in(page, base_url: str, path: str, username: str, password: str) -> None:
    """Sign in through the login form at `path` (the portal's or the admin's), then show the
    second factor when asked (a staff user gets an authenticator app first)."""
    user = get_user_model().objects.get(username=username)
    device = authenticator(user) if user.is_staff or user.is_superuser else None
    page.goto(f"{base_url}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()
    if "/accounts/verify/" in page.url:
        device = device or authenticator(user)
        page.fill("#id_code", next_code(device))
        page.locator("main form [type=submit]").first.click()
        page.wait_for_load_state()
