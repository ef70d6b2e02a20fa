"""Our CSP allows scripts from our own origin only, so a page with an inline event handler
(`onclick="..."`) or an inline <script> does not work. None of the pages has one."""

import re

from django.contrib import admin
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.admin_builders import make_customer_user, make_issue, make_run, make_submitted_customer

# An attribute named on... inside a tag: an inline event handler.
INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.S)
# A <script> that runs code of its own (one with src, or holding JSON data, runs nothing inline).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.S)


def assert_no_inline_script(html, page):
    assert not INLINE_HANDLER.search(html), (page, INLINE_HANDLER.search(html).group(0))
    assert not INLINE_SCRIPT.search(html), (page, INLINE_SCRIPT.search(html).group(0))


def test_the_api_key_created_page_has_no_inline_handler_and_selects_with_our_script(
    client, superuser
):
    client.force_login(superuser)
    response = client.post("/admin/integrations/apikey/add/", {"name": "SEMINE production"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="api-key"' in html
    assert_no_inline_script(html, "apikey created")
    # The behaviour comes from a static file of ours, which the CSP's 'self' allows.
    script = re.search(r'<script src="/static/(staff/[^"]+\.js)"', html)
    assert script, html
    assert "script-src" not in response["Content-Security-Policy"]  # default-src 'self' rules
    assert "default-src 'self'" in response["Content-Security-Policy"]
    source = open(finders.find(script.group(1)), encoding="utf-8").read()
    assert "data-select-on-click" in source and "select()" in source
    assert re.search(r'id="api-key"[^>]*data-select-on-click', html)


def test_no_admin_or_portal_page_has_inline_script(client, superuser, pm_user):
    customer = make_submitted_customer(pm=pm_user)
    connection = customer.connections.get()
    make_run(connection)
    make_issue(connection)
    client.force_login(superuser)
    pages = ["/admin/", "/admin/password_change/"]
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        first = model._default_manager.first()
        if first is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    pages += [
        f"/admin/integrations/connection/{connection.pk}/intervals/",
        "/admin/integrations/apikey/add/",
        "/admin/portal/customer/add/",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert_no_inline_script(response.content.decode(), page)

    client.logout()
    for page in ["/accounts/login/", "/accounts/password-reset/", "/invitation/unknown/"]:
        assert_no_inline_script(client.get(page).content.decode(), page)
    client.force_login(make_customer_user(customer))
    for page in ["/", "/client-information/", "/xledger/instructions/", "/xledger/token/"]:
        response = client.get(page, follow=True)
        assert response.status_code == 200, page
        assert_no_inline_script(response.content.decode(), page)
