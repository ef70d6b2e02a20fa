"""Failed logins are throttled by django-axes in the authentication backend: the portal's login
form and the admin's alike, counted in the database every web process shares.

Limits (portal.settings): 10 failures on one account from one address, 30 on one account from all
addresses, for a cool-off of 15 minutes after the last failure. Time never passes in these tests:
a cool-off is ended by moving the recorded attempts back.
"""

import re
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core import mail
from django.db.models import F
from django.test import Client, RequestFactory

from tests.integrations.sync.processes import ROOT, database_url
from tests.portal.conftest import make_customer_user

RIGHT = "correct-horse-battery-9"  # customer_user's password (tests/portal/conftest.py)
PM_RIGHT = "pm-password-123"  # pm_user's (tests/conftest.py)
WRONG = "wrong-password-7"
LIMIT = 10
LOCKED_TEXT = "too many failed attempts"
LOCKED_TEXT_NB = "Det har vært for mange mislykkede forsøk"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed


def portal_login(client, username, password=WRONG, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


def admin_login(client, username, password=WRONG, **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/", **extra},
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize(
    "login, user_fixture, right, home",
    [(admin_login, "pm_user", PM_RIGHT, "/admin/"), (portal_login, "customer_user", RIGHT, "/")],
    ids=["admin", "portal"],
)
def test_a_login_form_locks_after_the_limit_and_then_refuses_the_right_password(
    request, login, user_fixture, right, home
):
    user = request.getfixturevalue(user_fixture)
    client = Client()
    for _ in range(LIMIT - 1):
        response = login(client, user.username)
        assert response.status_code == 200
    response = login(client, user.username)  # the 10th failure locks
    assert response.status_code == 429
    assert LOCKED_TEXT in response.content.decode()

    response = login(client, user.username, right)
    assert response.status_code == 429
    assert LOCKED_TEXT in response.content.decode()
    assert not logged_in(client)
    assert Client().get(home).status_code == 302  # sent to a login page, not let in


def test_the_admin_lockout_page_leads_back_to_the_admin_login(pm_user):
    client = Client()
    for _ in range(LIMIT):
        admin_login(client, pm_user.username)
    response = admin_login(client, pm_user.username, PM_RIGHT)
    assert response.status_code == 429
    assert 'href="/admin/login/"' in response.content.decode()


@pytest.mark.parametrize("login", [admin_login, portal_login], ids=["admin", "portal"])
def test_the_lockout_page_is_in_the_users_language(pm_user, login):
    client = Client(headers={"accept-language": "nb"})
    for _ in range(LIMIT):
        login(client, pm_user.username)
    response = login(client, pm_user.username, PM_RIGHT)
    assert response.status_code == 429
    assert response["Content-Language"] == "nb"
    assert LOCKED_TEXT_NB in response.content.decode()
    assert "15 minutter" in response.content.decode()


def test_the_portal_and_the_admin_login_share_one_count(pm_user):
    client = Client()
    for _ in range(LIMIT // 2):
        assert portal_login(client, pm_user.username).status_code == 200
    for _ in range(LIMIT // 2 - 1):
        assert admin_login(client, pm_user.username).status_code == 200
    assert admin_login(client, pm_user.username).status_code == 429
    assert portal_login(client, pm_user.username, PM_RIGHT).status_code == 429


def test_a_flow_that_authenticates_with_the_request_is_under_the_same_throttle(pm_user):
    """What a later login flow (staff MFA/SSO) gets by calling `authenticate(request, ...)`."""
    client = Client()
    for _ in range(LIMIT):
        admin_login(client, pm_user.username)
    request = RequestFactory().post("/some/other/login/")
    assert authenticate(request, username=pm_user.username, password=PM_RIGHT) is None
    assert getattr(request, "axes_locked_out", False)


# The count lives in the database, shared by every web process. The second process below has its
# own local-memory cache (the compose shape with CACHE_URL=locmemcache://, where the hand-written
# throttle counted per process) and fails on the admin login; this process fails on the portal's.
SECOND_PROCESS = """
import sys
import django
django.setup()
from django.test import Client
client = Client()
statuses = [
    client.post(
        "/admin/login/", {"username": sys.argv[1], "password": "wrong-password-7"}
    ).status_code
    for _ in range(int(sys.argv[2]))
]
print(" ".join(map(str, statuses)))
"""


def test_counts_are_shared_between_processes(transactional_db, pm_user):
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url(),
        "CACHE_URL": "locmemcache://",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, pm_user.username, str(LIMIT // 2)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200"] * (LIMIT // 2)

    client = Client()
    for _ in range(LIMIT // 2 - 1):
        assert portal_login(client, pm_user.username).status_code == 200
    assert portal_login(client, pm_user.username).status_code == 429
    response = admin_login(Client(), pm_user.username, PM_RIGHT)
    assert response.status_code == 429


def test_another_user_at_the_same_address_is_not_locked(customer, customer_user, pm_user):
    """Colleagues behind one office address do not lock each other out."""
    client = Client()
    for _ in range(LIMIT):
        portal_login(client, customer_user.username)
    assert portal_login(client, customer_user.username, RIGHT).status_code == 429
    colleague = make_customer_user(customer, email="ola@fjordbat.example")
    other = Client()  # the same REMOTE_ADDR, 127.0.0.1
    response = portal_login(other, colleague.username, RIGHT)
    assert response.status_code == 302 and response["Location"] == "/"
    response = admin_login(Client(), pm_user.username, PM_RIGHT)
    assert response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.parametrize("login", [admin_login, portal_login], ids=["admin", "portal"])
def test_an_address_typed_in_another_case_counts_as_the_same_user(db, login):
    user = User.objects.create_user(
        "anne.x@semine.example", "anne.x@semine.example", "anne-password-123", is_staff=True
    )
    client = Client()
    for typed in ["Anne.X@semine.example", "ANNE.X@SEMINE.EXAMPLE"] * (LIMIT // 2 - 1):
        assert login(client, typed).status_code == 200
    assert login(client, " anne.x@Semine.Example").status_code == 200
    assert login(client, "anne.x@semine.example").status_code == 429
    assert login(client, user.username, "anne-password-123").status_code == 429


def test_a_good_login_below_the_limit_starts_the_count_again(customer_user):
    client = Client()
    for _ in range(LIMIT - 1):
        portal_login(client, customer_user.username)
    response = portal_login(client, customer_user.username, RIGHT)
    assert response.status_code == 302 and response["Location"] == "/"
    client.post("/accounts/logout/")
    for _ in range(LIMIT - 1):
        assert portal_login(client, customer_user.username).status_code == 200
    assert portal_login(client, customer_user.username, RIGHT).status_code == 302


def test_the_lockout_ends_after_the_cool_off(customer_user, settings):
    client = Client()
    for _ in range(LIMIT):
        portal_login(client, customer_user.username)
    assert portal_login(client, customer_user.username, RIGHT).status_code == 429
    # Refused attempts while locked are not counted, and do not extend the lockout.
    assert AccessAttempt.objects.get().failures_since_start == LIMIT
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert portal_login(client, customer_user.username, RIGHT).status_code == 302


def test_many_addresses_lock_an_account_for_everyone_but_one_address_cannot(customer_user):
    attacker = Client(REMOTE_ADDR="203.0.113.1")
    for _ in range(3 * LIMIT):  # refused, and not counted, once this address is locked
        portal_login(attacker, customer_user.username)
    owner = Client(REMOTE_ADDR="198.51.100.7")
    assert portal_login(owner, customer_user.username, RIGHT).status_code == 302

    client = None
    for address in ["203.0.113.2", "203.0.113.3", "203.0.113.4"]:
        client = Client(REMOTE_ADDR=address)
        statuses = [portal_login(client, customer_user.username).status_code for _ in range(LIMIT)]
        assert statuses == [200] * (LIMIT - 1) + [429]
    # 30 failures on the account from three addresses: locked from a fresh address too.
    owner = Client(REMOTE_ADDR="198.51.100.8")
    assert portal_login(owner, customer_user.username, RIGHT).status_code == 429


def test_a_password_reset_does_not_lift_the_lockout(customer_user):
    client = Client()
    for _ in range(LIMIT):
        portal_login(client, customer_user.username)
    client.post("/accounts/password-reset/", {"email": customer_user.email})
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "New-Fjord-2027!", "new_password2": "New-Fjord-2027!"}
    )
    assert response.status_code == 302
    assert not logged_in(client)  # the reset does not log in
    customer_user.refresh_from_db()
    assert customer_user.check_password("New-Fjord-2027!")
    assert portal_login(client, customer_user.username, "New-Fjord-2027!").status_code == 429
    assert not logged_in(client)


def test_the_records_hold_no_password_and_no_token(customer_user, pm_user):
    csrf = "csrf-token-that-must-not-be-stored-0123456789"
    client = Client()
    for _ in range(3):
        portal_login(client, customer_user.username, "Secret-Guess-1", csrfmiddlewaretoken=csrf)
        admin_login(client, pm_user.username, "Secret-Guess-2", csrfmiddlewaretoken=csrf)

    rows = [*AccessAttempt.objects.all(), *AccessFailureLog.objects.all(), *AccessLog.objects.all()]
    assert len(rows) >= 2
    for row in rows:
        for field in row._meta.concrete_fields:
            value = str(field.value_from_object(row))
            for secret in ["Secret-Guess-1", "Secret-Guess-2", PM_RIGHT, csrf]:
                assert secret not in value, (type(row).__name__, field.name)


SHOW_SETTINGS = """
import django
django.setup()
from django.conf import settings
print(settings.AXES_FAILURE_LIMIT, settings.LOGIN_ACCOUNT_FAILURE_LIMIT,
      int(settings.AXES_COOLOFF_TIME.total_seconds()))
"""


def test_the_limits_come_from_the_environment(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "AXES_FAILURE_LIMIT": "5",
        "LOGIN_ACCOUNT_FAILURE_LIMIT": "12",
        "AXES_COOLOFF_MINUTES": "60",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5", "12", "3600"]
