"""Staff single sign-on against a real OpenID Connect provider process (django-oauth-toolkit,
tests/oidc_provider): the portal finds it from its issuer URL, exchanges the code and checks the
ID token over real HTTP. Sign-in, role mapping, role removal, the provider's MFA, matching by
verified e-mail, and local staff passwords switched off."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from portal.models import AuditEntry, Membership
from portal.roles import PROJECT_MANAGERS, SUPPORT
from signin import sso
from tests.factories import make_customer
from tests.oidc_provider.harness import running_provider

pytestmark = pytest.mark.e2e

CALLBACK = "http://testserver/accounts/sso/callback/"
PM_GROUP, SUPPORT_GROUP = "semine-connect-project-managers", "semine-connect-support"
ANNE, PASSWORD = "anne@semine.example", "provider-password-1"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with running_provider(tmp_path_factory.mktemp("oidc"), redirect_uris=(CALLBACK,)) as running:
        yield running


@pytest.fixture
def sso_on(settings, provider):
    settings.SSO_OIDC_ISSUER = provider.issuer
    settings.SSO_OIDC_CLIENT_ID = provider.client_id
    settings.SSO_OIDC_CLIENT_SECRET = provider.client_secret
    settings.OIDC_RP_CLIENT_ID = provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
    sso._discovered.clear()
    yield provider
    sso._discovered.clear()


def sso_sign_in(client, provider, email=ANNE, password=PASSWORD, next_path="/admin/"):
    start = client.get(f"/accounts/sso/?next={next_path}")
    assert start.status_code == 302 and start["Location"].startswith(provider.issuer)
    back = provider.sign_in(start["Location"], email, password)
    assert back.startswith(CALLBACK), back
    return client.get(back.removeprefix("http://testserver"))


def roles(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_the_login_page_offers_it_only_when_configured(client, db, settings):
    assert "/accounts/sso/" not in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/sso/").status_code == 404
    settings.SSO_OIDC_ISSUER, settings.SSO_OIDC_CLIENT_ID = "https://idp.example", "x"
    assert 'href="/accounts/sso/"' in client.get("/accounts/login/").content.decode()


def test_a_new_staff_member_is_created_with_the_mapped_role_and_the_providers_mfa_counts(
    client, db, sso_on
):
    sso_on.set_user(ANNE, PASSWORD, groups=[PM_GROUP, "unrelated"], amr=["pwd", "mfa"])
    response = sso_sign_in(client, sso_on)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    anne = User.objects.get(username=ANNE)
    assert anne.is_staff and not anne.is_superuser and not anne.has_usable_password()
    assert roles(anne) == {PROJECT_MANAGERS}
    assert client.get("/admin/").status_code == 200  # no second ask: the provider's MFA counted
    assert client.get("/admin/portal/customer/").status_code == 200  # the role's permissions
    actions = set(AuditEntry.objects.filter(target=ANNE).values_list("action", flat=True))
    assert {"sso_staff_created", "sso_sign_in"} <= actions
    entry = AuditEntry.objects.get(action="sso_sign_in")
    assert entry.after == {"roles": [PROJECT_MANAGERS], "provider_mfa_counted": True}


def test_a_role_removed_at_the_provider_is_lost_at_the_next_sign_in(
    db, sso_on, django_capture_on_commit_callbacks
):
    sso_on.set_user(ANNE, PASSWORD, groups=[PM_GROUP, SUPPORT_GROUP], amr=["mfa"])
    first = Client()
    sso_sign_in(first, sso_on)
    anne = User.objects.get(username=ANNE)
    assert roles(anne) == {PROJECT_MANAGERS, SUPPORT}
    assert first.get("/admin/").status_code == 200

    sso_on.set_user(ANNE, PASSWORD, groups=[SUPPORT_GROUP], amr=["mfa"])
    second = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert sso_sign_in(second, sso_on)["Location"] == "/admin/"
    assert roles(anne) == {SUPPORT}
    assert AuditEntry.objects.filter(action="sso_roles_changed").exists()
    # The role changed, so the other session ended.
    assert first.get("/admin/")["Location"].startswith("/admin/login/")
    assert second.get("/admin/").status_code == 200

    sso_on.set_user(ANNE, PASSWORD, groups=[], amr=["mfa"])
    third = Client()
    with django_capture_on_commit_callbacks(execute=True):
        refused = sso_sign_in(third, sso_on)
    assert refused["Location"] == "/accounts/login/"
    anne.refresh_from_db()
    assert roles(anne) == set() and not anne.is_staff
    assert "_auth_user_id" not in third.session
    assert "no role in Semine Connect" in third.get("/accounts/login/").content.decode()
    assert second.get("/admin/")["Location"].startswith("/admin/login/")


def test_someone_with_no_role_is_not_created(client, db, sso_on):
    sso_on.set_user("bob@semine.example", PASSWORD, groups=["finance"], amr=["mfa"])
    assert sso_sign_in(client, sso_on, "bob@semine.example")["Location"] == "/accounts/login/"
    assert not User.objects.filter(username="bob@semine.example").exists()


def test_a_provider_sign_in_with_a_password_alone_asks_for_our_second_factor(client, db, sso_on):
    sso_on.set_user(ANNE, PASSWORD, groups=[SUPPORT_GROUP], amr=["pwd"])
    sso_sign_in(client, sso_on)
    assert client.get("/admin/")["Location"].startswith("/accounts/security/")
    entry = AuditEntry.objects.get(action="sso_sign_in")
    assert entry.after["provider_mfa_counted"] is False


def test_the_providers_mfa_can_be_made_not_to_count(client, db, sso_on, settings):
    settings.SSO_IDP_MFA_COUNTS = False
    sso_on.set_user(ANNE, PASSWORD, groups=[SUPPORT_GROUP], amr=["pwd", "mfa"])
    sso_sign_in(client, sso_on)
    assert client.get("/admin/")["Location"].startswith("/accounts/security/")


def test_an_existing_user_is_matched_by_verified_e_mail_in_any_case(client, db, sso_on):
    local = User.objects.create_user("Anne@Semine.example", "anne@semine.example", "local-pw-123")
    sso_on.set_user(ANNE, PASSWORD, groups=[SUPPORT_GROUP], amr=["mfa"])
    sso_sign_in(client, sso_on)
    assert User.objects.count() == 1
    local.refresh_from_db()
    assert local.is_staff and roles(local) == {SUPPORT}
    assert client.session["_auth_user_id"] == str(local.pk)


def test_an_unverified_e_mail_is_refused(client, db, sso_on):
    User.objects.create_user(ANNE, ANNE, "local-pw-123", is_staff=True)
    sso_on.set_user(ANNE, PASSWORD, groups=[PM_GROUP], email_verified=False, amr=["mfa"])
    assert sso_sign_in(client, sso_on)["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_a_customers_user_cannot_become_staff_through_it(client, db, sso_on):
    user = User.objects.create_user(ANNE, ANNE, "local-pw-123")
    Membership.objects.create(user=user, customer=make_customer())
    sso_on.set_user(ANNE, PASSWORD, groups=[PM_GROUP], amr=["mfa"])
    assert sso_sign_in(client, sso_on)["Location"] == "/accounts/login/"
    user.refresh_from_db()
    assert not user.is_staff and not user.groups.exists()


def test_with_local_staff_passwords_off_staff_sign_in_only_through_it(client, db, settings):
    settings.STAFF_PASSWORD_LOGIN = False
    pm = User.objects.create_user("pm@semine.example", "pm@semine.example", "pm-pw-12345")
    pm.is_staff = True
    pm.save()
    pm.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    root = User.objects.create_superuser("root@semine.example", "root@semine.example", "root-pw-1")
    customer = User.objects.create_user("kari@fjord.example", "kari@fjord.example", "kari-pw-123")
    refused = client.post("/accounts/login/", {"username": pm.username, "password": "pm-pw-12345"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    for user, password in [(root, "root-pw-1"), (customer, "kari-pw-123")]:
        other = Client()
        answer = other.post("/accounts/login/", {"username": user.username, "password": password})
        assert answer.status_code == 302, user
