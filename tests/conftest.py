from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from portal.roles import PROJECT_MANAGERS, SUPPORT


@pytest.fixture
def pm_user(db):
    user = User.objects.create_user("pm", "pm@semine.example", "pm-password-123", is_staff=True)
    user.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    return user


@pytest.fixture
def support_user(db):
    user = User.objects.create_user(
        "support", "support@semine.example", "support-password-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=SUPPORT))
    return user


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@semine.example", "root-password-123")


@pytest.fixture
def api_schema(db):
    """The API's OpenAPI schema for schemathesis (`schemathesis.pytest.from_fixture`)."""
    from tests.api.contract import wsgi_schema

    with wsgi_schema() as schema:
        yield schema


# --- Browser tests -------------------------------------------------------------------------------
# A real headless Chromium from Debian's packages, driven by Playwright; never a downloaded browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_browser():
    import os
    import shutil

    missing = None
    if not os.path.exists(CHROMIUM):
        missing = f"{CHROMIUM} is not installed (apt-get install chromium chromium-driver)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright Python package is not installed"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"BROWSER TESTS CANNOT RUN IN CI: {missing}")
        pytest.skip(f"BROWSER TESTS SKIPPED: {missing}")
    return shutil.which(CHROMIUM) or CHROMIUM


@pytest.fixture(scope="session")
def chromium():
    """A Playwright Browser on Debian's Chromium (skips loudly locally, fails with CI=true)."""
    import os

    path = _require_browser()
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say it loudly at the very end when the browser tests did not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = {
        str(report.longrepr[2])
        for report in skipped
        if "BROWSER TESTS SKIPPED" in str(report.longrepr)
    }
    if reasons:
        terminalreporter.write_sep("!", "BROWSER TESTS DID NOT RUN", red=True, bold=True)
        for reason in sorted(reasons):
            terminalreporter.write_line(reason, red=True, bold=True)


# --- Xledger-facing tests ------------------------------------------------------------------------
# CI runs these again under every other sandbox dialect (XLEDGER_SANDBOX_DIALECT=..., `-m xledger`):
# a test of the client that passes against one reading of the contract only is a bug waiting.
XLEDGER_FACING = ("integrations/xledger", "integrations/sync", "integrations/invoices")
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        relative = Path(str(item.fspath)).relative_to(TESTS).as_posix()
        if relative.startswith(XLEDGER_FACING) or "sandbox" in item.fixturenames:
            item.add_marker(pytest.mark.xledger)


# --- Second factors ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _force_login_is_a_complete_sign_in(monkeypatch):
    """`Client.force_login` stands for a complete sign-in; for staff (and users who must use a
    second factor) that includes the second factor, with a real authenticator app added to the
    account. Tests of the sign-in itself (tests/signin) post to the login forms instead."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        from signin import policy
        from tests.second_factor import authenticator, verified_session

        # The app is added before the session exists: adding a factor ends the user's others.
        needs_factor = policy.required_at_sign_in(user)
        if needs_factor:
            authenticator(user)
        original(self, user, backend)
        if needs_factor:
            verified_session(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)
