"""The README's screenshots, made from real pages: the customer's home once live, the token
checklist after a check with a missing permission, and the connection's admin page.

Always run as a test (each page must show what the picture is for); with SCREENSHOTS_DIR set the
pictures are written there too:

    SCREENSHOTS_DIR=docs/screenshots .venv/bin/python -m pytest \
        tests/portal/browser/test_screenshots.py
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from integrations import dispatch, tasks
from integrations.models import Connection
from portal import golive, services
from portal.models import Contact, Customer, Membership
from portal.roles import PROJECT_MANAGERS, sync_group_permissions
from tests.portal.conftest import client_information
from tests.second_factor import browser_sign_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Fjord-Sailing-2026!"


@pytest.fixture
def sandbox(settings):
    from integrations.xledger.sandbox import Sandbox

    sb = Sandbox(suppliers=60, burst_limit=False)
    with sb.serve(port=0) as url:
        settings.XLEDGER_API_URL = url
        settings.XLEDGER_DEMO_API_URL = url
        yield sb


def _shoot(page, name):
    target = os.environ.get("SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def test_the_readme_screenshots(chromium, live_server, sandbox, monkeypatch):
    handed = []
    monkeypatch.setattr(dispatch, "_async_task", lambda run_id, name: handed.append(run_id))
    sync_group_permissions()
    pm = User.objects.create_user("pm", "pm@semine.example", "pm-password-123", is_staff=True)
    pm.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    info = {k: v for k, v in client_information().items() if "-" not in k}
    customer = Customer.objects.create(
        **{k: v for k, v in info.items() if k in {f.name for f in Customer._meta.fields}},
        project_manager=pm,
        onboarding_status=Customer.Status.IN_PROGRESS,
    )
    for role, name in (("project", "Kari Nordmann"), ("finance", "Ola Nordmann")):
        Contact.objects.create(customer=customer, role=role, name=name,
                               email=f"{role}@fjordbat.example")  # fmt: skip
    user = User.objects.create_user("kari@fjordbat.example", "kari@fjordbat.example", PASSWORD)
    Membership.objects.create(user=user, customer=customer)
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        # The token checklist: a token without the supplier permission.
        page.goto(f"{live_server.url}/xledger/token/")
        page.check("#id_environment_0")
        page.fill("#id_owner_entity_id", str(sandbox.owner_db_id))
        page.fill("#id_token", sandbox.demo_tokens["no_suppliers"])
        page.click("main form[aria-labelledby=form-title] button[type=submit]")
        assert "cannot read suppliers" in page.locator("ul.checklist").inner_text()
        _shoot(page, "token-checklist")

        # Live, with its first syncs done: the customer's home.
        check = services.connection_save_token(
            customer=customer, by=user, connection=customer.connections.get(),
            owner_entity_id=sandbox.owner_db_id,
            environment="production", token=sandbox.demo_tokens["full"],
        )  # fmt: skip
        connection = check.connection
        entities = {e["dbId"]: {"in_scope": True} for e in connection.verification["entities"]}
        services.connection_save_scope(customer=customer, connection=connection, by=user,
                                       entities=entities, dimensions=[])  # fmt: skip
        services.customer_confirm_setup(customer=customer, by=user)
        golive.customer_approve_golive(customer=customer, by=pm)
        while handed:
            tasks.run_sync(handed.pop(0))
        page.goto(f"{live_server.url}/")
        assert "Everything is running." in page.locator("main").inner_text()
        _shoot(page, "customer-home")

        # The connection's page in the admin, as the project manager sees it.
        staff = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        admin = staff.new_page()
        admin.set_default_timeout(15_000)
        browser_sign_in(admin, live_server.url, "/admin/login/", "pm", "pm-password-123")
        admin.wait_for_selector("#semine-dashboard")
        connection = Connection.objects.get(customer=customer)
        admin.goto(f"{live_server.url}/admin/integrations/connection/{connection.pk}/change/")
        assert "Succeeded" in admin.locator("#content-main").inner_text()
        _shoot(admin, "connection-page")
        staff.close()
    finally:
        context.close()
