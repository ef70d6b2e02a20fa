"""Sessions that end: a staff session after a working day and after idle time (a clock the test
moves, no waiting), and every other session of a user whose factors or role change."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from portal.roles import PROJECT_MANAGERS, SUPPORT
from signin import clock
from signin.models import UserSession
from tests.second_factor import authenticator, next_code
from tests.signin.staff import make_staff


@pytest.fixture
def now(monkeypatch):
    """The sessions' clock, moved by the test."""
    current = [1_800_000_000.0]
    monkeypatch.setattr(clock, "now", lambda: current[0])

    def move(seconds=0):
        current[0] += seconds
        return current[0]

    return move


@pytest.fixture
def pm(db):
    return make_staff("pm@semine.example", "pm-password-123", PROJECT_MANAGERS)


def signed_in(user, password="pm-password-123") -> Client:
    """A complete sign-in: password, then a code from the user's authenticator app."""
    client = Client()
    device = authenticator(user)
    assert (
        client.post(
            "/accounts/login/", {"username": user.username, "password": password}
        ).status_code
        == 302
    )
    assert client.post("/accounts/verify/", {"code": next_code(device)}).status_code == 302
    return client


def test_a_staff_session_ends_after_idle_time(pm, now, settings):
    settings.STAFF_SESSION_IDLE = __import__("datetime").timedelta(minutes=30)
    client = signed_in(pm)
    now(29 * 60)
    assert client.get("/admin/").status_code == 200  # 29 idle minutes: still open, seen again
    now(29 * 60)
    assert client.get("/admin/").status_code == 200  # idle time counts from the last request
    now(31 * 60)
    response = client.get("/admin/portal/customer/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=%2Fadmin%2Fportal%2Fcustomer%2F")
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "Your session has ended. Please sign in again." in page


def test_a_staff_session_ends_after_a_working_day_however_busy(pm, now, settings):
    from datetime import timedelta

    settings.STAFF_SESSION_MAX_AGE = timedelta(hours=10)
    client = signed_in(pm)
    for _ in range(19):  # a request every 30 minutes for 9.5 hours
        now(30 * 60)
        assert client.get("/admin/").status_code == 200
    now(31 * 60)
    assert client.get("/admin/")["Location"].startswith("/accounts/login/")


def test_a_customer_session_is_not_cut_to_a_working_day(db, now):
    from portal.models import Membership
    from tests.factories import make_customer

    user = User.objects.create_user("kari@fjord.example", "kari@fjord.example", "kari-pw-1234")
    Membership.objects.create(user=user, customer=make_customer())
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": "kari-pw-1234"})
    now(24 * 3600)
    assert client.get("/").status_code == 200


def test_adding_a_factor_ends_the_other_sessions_and_keeps_this_one(
    pm, django_capture_on_commit_callbacks
):
    here, elsewhere = signed_in(pm), signed_in(pm)
    assert UserSession.objects.filter(user=pm).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert here.get("/accounts/security/authenticator/").status_code == 200
        from django_otp.plugins.otp_totp.models import TOTPDevice

        new = TOTPDevice.objects.get(user=pm, confirmed=False)
        response = here.post("/accounts/security/authenticator/", {"code": next_code(new)})
        assert response.status_code in (200, 302)
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/")["Location"].startswith("/admin/login/")
    assert UserSession.objects.filter(user=pm).count() == 1


def test_removing_a_factor_ends_the_other_sessions(pm, django_capture_on_commit_callbacks):
    here, elsewhere = signed_in(pm), signed_in(pm)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    second = TOTPDevice.objects.create(user=pm, name="Old phone", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        here.post(f"/accounts/security/totp/{second.pk}/remove/")
    assert not TOTPDevice.objects.filter(pk=second.pk).exists()
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


def test_a_role_change_in_the_admin_ends_that_users_sessions(
    pm, db, django_capture_on_commit_callbacks
):
    root = User.objects.create_superuser("root@semine.example", "root@semine.example", "root-pw-1")
    admin_client = Client()
    admin_client.force_login(root)
    pm_client = signed_in(pm)
    with django_capture_on_commit_callbacks(execute=True):
        pm.groups.set([Group.objects.get(name=SUPPORT)])
    assert pm_client.get("/admin/").status_code == 302
    pm_client = signed_in(pm)
    with django_capture_on_commit_callbacks(execute=True):
        pm.is_staff = False
        pm.save()
    assert pm_client.get("/admin/").status_code == 302
    assert admin_client.get("/admin/").status_code == 200  # nobody else's session ended


def test_signing_in_again_is_not_a_role_change(pm, django_capture_on_commit_callbacks):
    first = signed_in(pm)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(pm)  # last_login is saved: no role field changed
    assert first.get("/admin/").status_code == 200
