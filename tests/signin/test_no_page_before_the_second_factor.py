"""A staff user who has only a password reaches no staff page, admin page or API: every URL
answers with the way to the second factor (or, for the API, 403), never 200 with its content.
The walk covers every URL the portal serves under /admin/, /staff/, /api/ and /metrics, read from
the URL configuration itself, so a page added later is walked too."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import get_resolver

from portal.roles import PROJECT_MANAGERS
from tests.second_factor import authenticator
from tests.signin.staff import make_staff

PASSWORD = "staff-password-123"
GUARDED = ("admin/", "staff/", "api/", "metrics")


def _routes(resolver=None, prefix=""):
    """Every (route, parameter names) the URL configuration reverses to."""
    resolver = resolver or get_resolver()
    for key, entries in resolver.reverse_dict.lists():
        if not isinstance(key, str):
            continue
        for possibilities, _pattern, _defaults, _converters in entries:
            for route, params in possibilities:
                yield prefix + route, params
    for _namespace, (ns_prefix, sub) in resolver.namespace_dict.items():
        yield from _routes(sub, prefix + ns_prefix)


def guarded_urls() -> list[str]:
    values = {"app_label": "portal", "object_id": "1", "pk": "1", "id": "1"}
    urls = set()
    for route, params in _routes():
        url = "/" + route % {name: values.get(name, "1") for name in params}
        if url.lstrip("/").startswith(GUARDED):
            urls.add(url)
    return sorted(urls)


def test_the_walk_covers_the_staff_surfaces():
    urls = guarded_urls()
    assert "/admin/" in urls and "/admin/portal/customer/" in urls
    assert "/admin/portal/customer/1/change/" in urls
    assert any(url.startswith("/staff/") for url in urls)
    assert any(url.startswith("/admin/integrations/") for url in urls)
    assert "/metrics" in urls and "/api/customers" in "".join(urls)
    assert len(urls) > 60, len(urls)


@pytest.fixture
def staff(db):
    return make_staff("anne@semine.example", PASSWORD, PROJECT_MANAGERS)


def _signed_in_with_password(client, user, login_url="/accounts/login/"):
    response = client.post(login_url, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    assert client.session.get("_auth_user_id") == str(user.pk)


@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_a_password_alone_opens_no_staff_or_admin_url(client, staff, login_url):
    _signed_in_with_password(client, staff, login_url)
    for url in guarded_urls():
        response = client.get(url)
        assert response.status_code != 200, url
        if url.startswith(("/api/", "/metrics")):
            assert response.status_code in (401, 403, 404), (url, response.status_code)
        else:
            assert response.status_code == 302, (url, response.status_code)
            assert response["Location"].startswith("/accounts/security/?next="), url
        # A POST (an admin action, a form) is held the same way.
        assert client.post(url, {}).status_code != 200, url


def test_a_superuser_with_a_password_alone_is_held_too(client, db):
    root = User.objects.create_superuser("root@semine.example", "root@semine.example", PASSWORD)
    _signed_in_with_password(client, root, "/admin/login/")
    response = client.get("/admin/auth/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/security/")


def test_with_a_factor_but_no_code_yet_every_url_asks_for_the_code(client, staff):
    authenticator(staff)
    _signed_in_with_password(client, staff)
    for url in guarded_urls():
        response = client.get(url)
        assert response.status_code != 200, url
        if not url.startswith(("/api/", "/metrics")):
            assert response["Location"].startswith("/accounts/verify/?next="), url
    # Adding a factor of one's own is not a way around the code either.
    for url in ["/accounts/security/", "/accounts/security/authenticator/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/verify/" in response["Location"]
    begin = client.post("/webauthn/registration/begin/", content_type="application/json")
    assert begin.status_code != 200


def test_the_enrolment_page_says_what_to_do(client, staff):
    _signed_in_with_password(client, staff)
    response = client.get("/admin/", follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Add a second factor to continue." in page
    assert re.search(r'href="/accounts/security/authenticator/\?next=', page)
