"""No admin page accepts a token (#16): staff never handle one, they send a replace-token link.

Over every registered ModelAdmin (`admin.site._registry`, so a new one is covered without touching
this file) and every custom admin page, as a superuser: no rendered form has a field whose name
holds "token" (the CSRF token aside) or a password box (a user's own password on Django's user
pages aside), and POSTing each add, change and custom page with a well-formed token under every
likely name changes no connection's token.
"""

from html.parser import HTMLParser

import pytest

from integrations.crypto import fingerprint
from integrations.models import Connection
from tests import test_no_5xx_admin as every_admin_page
from tests.test_no_5xx_admin import (
    CUSTOM_PAGES,
    MODEL_ADMINS,
    custom_pages,
    superuser_client,
    urls_of,
)
from tests.test_no_5xx_forms import in_rolled_back_savepoint

# The no-5xx run's fixtures: one object of every registered model, and each form as rendered.
admin_world = every_admin_page.admin_world
rendered_forms = every_admin_page.rendered_forms

NEW_TOKEN = "Brand_new-token-abcdefghijklmnopqrstuv"
TOKEN_NAMES = ("new_token", "token", "api_token", "xledger_token")
# A user's own password, on Django's user pages: a password, not an Xledger token.
USER_PASSWORD_FIELDS = {"password", "password1", "password2"}


class Controls(HTMLParser):
    """Every form control of a page: (tag, name, type)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.controls = []

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "select", "textarea", "button"):
            attrs = dict(attrs)
            kind = (attrs.get("type") or ("text" if tag == "input" else tag)).lower()
            self.controls.append((tag, attrs.get("name") or "", kind))


def controls(html: str) -> list[tuple[str, str, str]]:
    parser = Controls()
    parser.feed(html)
    parser.close()
    return parser.controls


def token_boxes(html: str, *, user_password_page: bool) -> list:
    """The controls that could take a token."""
    found = []
    for tag, name, kind in controls(html):
        if "token" in name.lower() and name != "csrfmiddlewaretoken":
            found.append((tag, name, kind))
        elif kind == "password" and not (user_password_page and name in USER_PASSWORD_FIELDS):
            found.append((tag, name, kind))
    return found


def fingerprints() -> dict:
    return dict(Connection.objects.values_list("pk", "token_fingerprint"))


def assert_no_token_taken(before: dict, what: str):
    """Every token is as it was (or destroyed: removing a connection does that); none is new."""
    after = fingerprints()
    assert fingerprint(NEW_TOKEN) not in after.values(), f"{what} took the posted token"
    for pk, was in before.items():
        assert after.get(pk, was) in (was, ""), f"{what} changed connection {pk}'s token"
    for connection in Connection.objects.exclude(pk__in=before):
        assert not connection.has_token, f"{what} made a connection with a token"


def test_the_checker_finds_a_token_box():
    page = (
        '<form><input type="hidden" name="csrfmiddlewaretoken" value="x">'
        '<input type="password" name="new_token"><input name="api_token">'
        '<input type="password" name="secret"><input type="password" name="password1"></form>'
    )
    assert token_boxes(page, user_password_page=False) == [
        ("input", "new_token", "password"),
        ("input", "api_token", "text"),
        ("input", "secret", "password"),
        ("input", "password1", "password"),
    ]
    assert ("input", "password1", "password") not in token_boxes(page, user_password_page=True)


@pytest.mark.parametrize("label", MODEL_ADMINS)
def test_no_admin_form_has_a_token_box(admin_world, label):
    client = superuser_client(admin_world)
    for page, url in urls_of(admin_world, label).items():
        response = client.get(url)
        if response.status_code != 200:
            continue
        boxes = token_boxes(response.content.decode(), user_password_page=label == "auth.user")
        assert not boxes, f"{page} {url} has {boxes}"


@pytest.mark.parametrize("name", CUSTOM_PAGES)
def test_no_custom_admin_page_has_a_token_box(admin_world, name):
    url, _ = custom_pages(admin_world)[name]
    response = superuser_client(admin_world).get(url)
    if response.status_code == 200:
        html = response.content.decode()
        boxes = token_boxes(html, user_password_page=name == "user_password_change")
        assert not boxes, f"{url} has {boxes}"


def test_the_connection_page_has_no_token_box_and_shows_the_fingerprint(admin_world):
    url = urls_of(admin_world, "integrations.connection")["change"]
    html = superuser_client(admin_world).get(url).content.decode()
    assert "Replace API token" not in html
    assert admin_world.connection.token_fingerprint in html


@pytest.mark.parametrize("view", ["add", "change"])
@pytest.mark.parametrize("label", MODEL_ADMINS)
def test_no_admin_form_takes_a_posted_token(admin_world, rendered_forms, label, view):
    url, baseline, _ = rendered_forms(label, view)
    before = fingerprints()
    assert any(before.values())  # there is a token to protect

    def example():
        data = {**baseline, **dict.fromkeys(TOKEN_NAMES, NEW_TOKEN)}
        response = superuser_client(admin_world).post(url, data)
        assert response.status_code < 500, (url, response.status_code)
        assert_no_token_taken(before, f"POST {url}")

    in_rolled_back_savepoint(example)


@pytest.mark.parametrize("name", CUSTOM_PAGES)
def test_no_custom_admin_page_takes_a_posted_token(admin_world, name):
    url, data = custom_pages(admin_world)[name]
    before = fingerprints()

    def example():
        response = superuser_client(admin_world).post(
            url, {**data, **dict.fromkeys(TOKEN_NAMES, NEW_TOKEN)}
        )
        assert response.status_code < 500, (url, response.status_code)
        assert_no_token_taken(before, f"POST {url}")

    in_rolled_back_savepoint(example)
