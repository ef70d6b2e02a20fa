"""Recovery that does not weaken the second factor: only a superuser resets another user's
factors (audited, the user e-mailed and signed out), and `manage.py break_glass` does it for the
last superuser, refusing while another superuser could."""

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEntry
from portal.roles import PROJECT_MANAGERS
from signin import factors
from tests.second_factor import authenticator
from tests.signin.staff import make_staff

RESET = "reset_second_factors"


@pytest.fixture
def pm(db):
    user = make_staff("pm@semine.example", "pm-password-123", PROJECT_MANAGERS)
    authenticator(user)
    factors.new_recovery_codes(user=user)
    return user


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root@semine.example", "root@semine.example", "root-pw-1")


def test_a_superuser_resets_another_users_factors(pm, root, django_capture_on_commit_callbacks):
    pm_client = Client()
    pm_client.force_login(pm)
    admin = Client()
    admin.force_login(root)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/admin/auth/user/",
            {"action": RESET, "_selected_action": [pm.pk]},
            follow=True,
        )
    assert "Reset the second factors of 1 users" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=pm).exists()
    assert not StaticDevice.objects.filter(user=pm).exists()
    entry = AuditEntry.objects.get(action="mfa_reset")
    assert entry.actor == root and entry.target == pm.username
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [pm.email]
    body = mail.outbox[0].body
    assert "removed the second factors" in body and "fjernet" in body  # English and Norwegian
    assert "/accounts/security/" in body
    # Signed out; at the next sign-in, enrolment.
    assert pm_client.get("/admin/")["Location"].startswith("/admin/login/")
    pm_client.post("/accounts/login/", {"username": pm.username, "password": "pm-password-123"})
    assert pm_client.get("/admin/")["Location"].startswith("/accounts/security/")


def test_only_a_superuser_may_reset(pm, db):
    other = User.objects.create_user("pm2@semine.example", "pm2@semine.example", "pw-123456789")
    other.is_staff = True
    other.save()
    other.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    client = Client()
    client.force_login(other)
    response = client.post("/admin/auth/user/", {"action": RESET, "_selected_action": [pm.pk]})
    assert response.status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=pm).exists()
    assert not AuditEntry.objects.filter(action="mfa_reset").exists()


def test_a_superuser_does_not_reset_their_own_here(root):
    authenticator(root)
    client = Client()
    client.force_login(root)
    response = client.post(
        "/admin/auth/user/", {"action": RESET, "_selected_action": [root.pk]}, follow=True
    )
    assert "Sign-in security page" in response.content.decode()
    assert TOTPDevice.objects.filter(user=root).exists()


def test_break_glass_refuses_while_another_superuser_can_sign_in(root, db):
    other = User.objects.create_superuser("eva@semine.example", "eva@semine.example", "eva-pw-12")
    authenticator(other)
    authenticator(root)
    with pytest.raises(CommandError, match="eva@semine.example"):
        call_command("break_glass", root.username, reason="lost phone")
    assert TOTPDevice.objects.filter(user=root).exists()


def test_break_glass_for_the_last_superuser(root, capsys):
    authenticator(root)
    factors.new_recovery_codes(user=root)
    mail.outbox.clear()
    call_command("break_glass", root.username.upper(), reason="lost phone and codes")
    assert not TOTPDevice.objects.filter(user=root).exists()
    assert not StaticDevice.objects.filter(user=root).exists()
    entry = AuditEntry.objects.get(action="mfa_break_glass")
    assert entry.actor is None and entry.target == root.username
    assert "lost phone and codes" in entry.after["reason"] and "ran by" in entry.after["reason"]
    assert mail.outbox and mail.outbox[0].to == [root.email]
    assert "Removed 2 second factors" in capsys.readouterr().out


@pytest.mark.parametrize("who", ["nobody@semine.example", "pm@semine.example"])
def test_break_glass_is_for_superusers_only(pm, who):
    with pytest.raises(CommandError, match="not an active superuser"):
        call_command("break_glass", who, reason="x")
    assert TOTPDevice.objects.filter(user=pm).exists()
