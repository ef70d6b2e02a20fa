"""In a real browser: a project manager approves a submitted customer and watches the initial
runs appear and finish against the sandbox; support resyncs suppliers and sees the new run.

The runs are executed by calling the engine's task function (`integrations.tasks.run_sync`)
synchronously in the test, exactly as a django-q2 worker would with the id it was handed; the
admin's web requests run in the live server, the Xledger calls go to an in-process sandbox.
"""

import pytest
from django.contrib.auth.models import Group, User

from integrations import clients, dispatch, tasks
from integrations.models import Run
from integrations.services import connection_reverify
from integrations.xledger.sandbox import Sandbox
from portal.models import Customer
from portal.roles import PROJECT_MANAGERS, SUPPORT, sync_group_permissions
from tests.admin_builders import make_submitted_customer
from tests.second_factor import browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def sandbox(monkeypatch):
    sb = Sandbox(seed=5, suppliers=120, clients=2, burst_limit=False)
    monkeypatch.setattr(clients, "transport_factory", lambda connection: sb.transport())
    return sb


@pytest.fixture
def handed_to_workers(monkeypatch):
    """Run ids the engine hands to django-q2; the test plays the worker."""
    ids = []
    monkeypatch.setattr(dispatch, "_async_task", lambda run_id, name: ids.append(run_id))
    return ids


def _staff(username, group):
    sync_group_permissions()
    user = User.objects.create_user(
        username, f"{username}@semine.example", f"{username}-password-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    return user


def _login(page, live_server, username):
    """The admin's login form, then the code from the user's authenticator app."""
    browser_sign_in(page, live_server.url, "/admin/login/", username, f"{username}-password-123")
    page.wait_for_selector("#semine-dashboard")


def _work(ids):
    """Play the worker: run every handed-over run, in the order handed over."""
    while ids:
        tasks.run_sync(ids.pop(0))


def test_a_pm_approves_go_live_and_support_resyncs_suppliers(
    transactional_db, live_server, chromium, sandbox, handed_to_workers
):
    from playwright.sync_api import expect  # here: without playwright, `chromium` skips loudly

    pm = _staff("pm", PROJECT_MANAGERS)
    _staff("support", SUPPORT)
    customer = make_submitted_customer("Nordlys Regnskap AS", pm=pm, verified=False)
    conn = customer.connections.get()
    conn.set_token(sandbox.demo_tokens["full"])
    conn.owner_entity_id = sandbox.owner_db_id
    conn.selected_dimensions = ["PROSJEKT", "AVDELING"]
    conn.save()
    assert connection_reverify(connection=conn).ok

    # The project manager approves.
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    _login(page, live_server, "pm")
    page.goto(f"{live_server.url}/admin/portal/customer/?onboarding_status__exact=submitted")
    page.click("#result_list >> text=Nordlys Regnskap AS")
    expect(page.locator("fieldset")).to_contain_text(["Ready to approve."])
    page.click("a.golive-approve")
    expect(page.locator("#content-main")).to_contain_text("The API token is accepted")
    expect(page.locator("#content-main")).not_to_contain_text("cannot go live")
    page.click("input[name=approve]")
    page.wait_for_selector("text=is live; 5 initial syncs queued")
    runs_table = page.locator("table.recent-runs")
    assert runs_table.locator("tbody tr").count() == 5
    assert runs_table.inner_text().count("Queued") == 5

    # The workers run them; the PM reloads and sees them finished.
    _work(handed_to_workers)
    page.reload()
    text = page.locator("table.recent-runs").inner_text()
    assert text.count("Succeeded") == 5, text
    assert Customer.objects.get(pk=customer.pk).onboarding_status == "live"
    expect(page.locator("fieldset").first).to_contain_text("Live since")
    context.close()

    # Support resyncs the suppliers from the connection page.
    sandbox.add_record("suppliers", code="NEW-1", description="Ny Leverandør AS")
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    _login(page, live_server, "support")
    page.goto(f"{live_server.url}/admin/integrations/connection/{conn.pk}/change/")
    page.select_option("select[name=dataset]", "suppliers")
    page.click("input[name=resync]")
    page.wait_for_selector("text=Resync of Supplier register queued.")
    run = Run.objects.filter(connection=conn, trigger="manual").get()
    page.goto(
        f"{live_server.url}/admin/integrations/run/?connection={conn.pk}&trigger__exact=manual"
    )
    row = page.locator("#result_list tbody tr")
    assert row.count() == 1
    assert "Queued" in row.inner_text() and "Supplier register" in row.inner_text()
    _work(handed_to_workers)
    page.reload()
    assert "Succeeded" in page.locator("#result_list tbody tr").inner_text()
    run.refresh_from_db()
    assert run.status == "succeeded" and run.created >= 1 and run.triggered_by.username == "support"
    context.close()
