"""The second factor with an authenticator app, over the test client: enrolment after the
password, the code at each sign-in, recovery codes that work once, wrong codes counted and locked
out by django-axes like wrong passwords, and no code in the audit log or axes' records."""

import re

import pytest
from axes.models import AccessAttempt
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEntry, Membership
from portal.roles import SUPPORT
from tests.factories import make_customer
from tests.second_factor import code_at, next_code
from tests.signin.staff import make_staff

PASSWORD = "support-password-123"


@pytest.fixture
def staff(db):
    return make_staff("sam@semine.example", PASSWORD, SUPPORT)


def sign_in(client, user, password=PASSWORD):
    return client.post("/accounts/login/", {"username": user.username, "password": password})


def enrol(client) -> tuple[TOTPDevice, list[str]]:
    page = client.get("/accounts/security/authenticator/?next=/admin/")
    assert page.status_code == 200
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.content.decode()).group(1)
    assert 'class="qr"><svg' in page.content.decode()
    device = TOTPDevice.objects.get(user__username=page.wsgi_request.user.username)
    assert not device.confirmed
    assert code_at(device.bin_key, 0) == code_at(secret_to_hex(secret), 0)
    response = client.post(
        "/accounts/security/authenticator/", {"code": next_code(device), "next": "/admin/"}
    )
    assert response.status_code == 200, response.content[:300]
    codes = re.findall(
        r"<li><code>([a-z0-9]{4}-[a-z0-9]{4})</code></li>", response.content.decode()
    )
    assert len(codes) == 10
    assert "no-store" in response["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


def secret_to_hex(secret: str) -> str:
    import base64

    return base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()


def test_enrol_then_sign_in_with_a_code_then_with_a_recovery_code_once(client, staff):
    assert sign_in(client, staff).status_code == 302
    assert client.get("/admin/")["Location"].startswith("/accounts/security/")
    device, codes = enrol(client)
    assert client.get("/admin/").status_code == 200  # enrolment verified this session
    entries = AuditEntry.objects.filter(target=staff.username)
    assert {"mfa_enrolled", "mfa_recovery_codes_made"} <= set(
        entries.values_list("action", flat=True)
    )

    client.post("/accounts/logout/")
    assert sign_in(client, staff).status_code == 302
    response = client.get("/admin/")
    assert response["Location"].startswith("/accounts/verify/?next=%2Fadmin%2F")
    response = client.post("/accounts/verify/", {"code": next_code(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

    client.post("/accounts/logout/")
    sign_in(client, staff)
    response = client.post("/accounts/verify/", {"code": codes[0].upper(), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert "9 recovery codes are left" in client.get("/admin/", follow=True).content.decode()
    assert AuditEntry.objects.filter(action="mfa_recovery_code_used", target=staff.username)

    client.post("/accounts/logout/")
    sign_in(client, staff)
    response = client.post("/accounts/verify/", {"code": codes[0], "next": "/admin/"})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_wrong_code_keeps_the_page_and_says_what_to_do(client, staff):
    sign_in(client, staff)
    enrol(client)
    client.post("/accounts/logout/")
    sign_in(client, staff)
    response = client.post("/accounts/verify/", {"code": "000000", "next": "/admin/"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary"' in page and 'value="000000"' in page
    assert 'name="next" value="/admin/"' in page


def test_wrong_codes_are_failed_logins_and_lock_the_account(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    sign_in(client, staff)
    device, codes = enrol(client)
    client.post("/accounts/logout/")
    sign_in(client, staff)
    for _ in range(3):
        client.post("/accounts/verify/", {"code": "123456"})
    attempt = AccessAttempt.objects.get(username=staff.username)
    assert attempt.failures_since_start == 3
    assert "123456" not in attempt.post_data and "123456" not in str(attempt.get_data)
    # Locked: even the right code is refused now, and so is the password.
    response = client.post("/accounts/verify/", {"code": next_code(device)})
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302
    assert sign_in(Client_(), staff).status_code == 429


def Client_():
    from django.test import Client

    return Client()


def test_codes_stay_out_of_the_audit_log(client, staff):
    sign_in(client, staff)
    _device, codes = enrol(client)
    text = str(list(AuditEntry.objects.values()))
    for code in codes:
        assert code not in text and code.replace("-", "") not in text


@pytest.fixture
def later(monkeypatch):
    """django-otp makes each try after a wrong code wait longer (1 s, 2 s, 4 s…): this moves its
    clock on instead of sleeping."""
    from datetime import timedelta

    from django.utils import timezone

    real_now = timezone.now
    shift = [timedelta(0)]
    monkeypatch.setattr(timezone, "now", lambda: real_now() + shift[0])

    def move(seconds):
        shift[0] += timedelta(seconds=seconds)

    return move


def test_recovery_codes_are_new_each_time_and_the_old_ones_stop(client, staff, later):
    sign_in(client, staff)
    _device, first = enrol(client)
    response = client.post("/accounts/security/recovery-codes/")
    second = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4})</code>", response.content.decode())
    assert len(second) == 10 and not set(first) & set(second)
    assert StaticToken.objects.filter(device__user=staff).count() == 10
    client.post("/accounts/logout/")
    sign_in(client, staff)
    assert client.post("/accounts/verify/", {"code": first[1]}).status_code == 400
    assert client.post("/accounts/verify/", {"code": second[1]}).status_code == 400  # too soon
    later(2)
    assert client.post("/accounts/verify/", {"code": second[1]}).status_code == 302


def test_the_database_keeps_no_recovery_code_only_a_keyed_hash(client, staff, later, settings):
    sign_in(client, staff)
    _device, codes = enrol(client)
    stored = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert len(stored) == 10
    for code in codes:
        plain = code.replace("-", "")
        assert not {code, plain} & stored
        assert all(plain not in token for token in stored)
    # A key rotation (the new key first, the old one kept) leaves the codes working.
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    client.post("/accounts/logout/")
    sign_in(client, staff)
    assert client.post("/accounts/verify/", {"code": codes[2]}).status_code == 302
    # Without the key a stored hash signs nobody in, typed as a code.
    client.post("/accounts/logout/")
    sign_in(client, staff)
    token = StaticToken.objects.filter(device__user=staff).first().token
    assert client.post("/accounts/verify/", {"code": token}).status_code == 400


def test_recovery_codes_made_before_hashing_keep_working(client, staff, later):
    """signin migration 0002 keeps the plain codes of earlier enrolments as their hashes."""
    from importlib import import_module

    from django.apps import apps
    from django_otp.plugins.otp_static.models import StaticDevice

    sign_in(client, staff)
    enrol(client)
    device = StaticDevice.objects.get(user=staff)
    device.token_set.all().delete()
    device.token_set.create(token="abcd2345")
    device.token_set.create(token="wxyz6789")
    migration = import_module("signin.migrations.0002_recovery_codes_hashed")
    migration.hash_plain_codes(apps, None)
    migration.hash_plain_codes(apps, None)  # twice: a hash is left as it is
    assert not device.token_set.filter(token__in=["abcd2345", "wxyz6789"]).exists()
    client.post("/accounts/logout/")
    sign_in(client, staff)
    assert client.post("/accounts/verify/", {"code": "ABCD-2345"}).status_code == 302
    assert device.token_set.count() == 1


def test_staff_keep_at_least_one_factor(client, staff):
    sign_in(client, staff)
    device, _codes = enrol(client)
    response = client.post(f"/accounts/security/totp/{device.pk}/remove/", follow=True)
    assert "You need at least one authenticator app or passkey" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def customer_user():
    user = User.objects.create_user("kari@fjordbat.example", "kari@fjordbat.example", PASSWORD)
    Membership.objects.create(user=user, customer=make_customer())
    return user


def test_a_customer_user_may_turn_it_on_and_off(client, db):
    user = customer_user()
    sign_in(client, user)
    assert client.get("/").status_code == 200  # not required
    device, _codes = enrol(client)
    client.post("/accounts/logout/")
    sign_in(client, user)
    assert client.get("/")["Location"].startswith("/accounts/verify/")
    client.post("/accounts/verify/", {"code": next_code(device)})
    assert client.get("/").status_code == 200
    client.post(f"/accounts/security/totp/{device.pk}/remove/")
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    client.post("/accounts/logout/")
    sign_in(client, user)
    assert client.get("/").status_code == 200


def test_a_customer_that_requires_it_signs_its_users_out_and_has_them_enrol(
    client, db, django_capture_on_commit_callbacks
):
    user = customer_user()
    sign_in(client, user)
    assert client.get("/").status_code == 200
    customer = user.membership.customer
    with django_capture_on_commit_callbacks(execute=True):
        customer.require_mfa = True
        customer.save()
    assert client.get("/")["Location"].startswith("/accounts/login/")  # signed out
    sign_in(client, user)
    response = client.get("/")
    assert response["Location"].startswith("/accounts/security/")
    page = client.get(response["Location"]).content.decode()
    assert "Add a second factor to continue." in page


NASTIES = ["a\x00b", "\x01", "\u202e", "²", str(2**63), "9" * 5000, "x" * 100_000, "", "١٢٣٤٥٦"]


def test_the_code_form_of_a_held_session_never_answers_5xx(client, staff, later):
    sign_in(client, staff)
    enrol(client)
    client.post("/accounts/logout/")
    sign_in(client, staff)
    for value in NASTIES:
        for field in ("code", "next"):
            later(3600)  # past django-otp's wait after each wrong code
            data = {"code": "123456", "next": "/admin/", field: value}
            response = client.post("/accounts/verify/", data)
            assert response.status_code < 500, (field, value[:20])
    assert client.get("/admin/").status_code == 302
