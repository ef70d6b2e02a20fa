"""In a real browser, under the real CSP: a click in the new API key's box selects the whole key
(our static script does it; an inline onclick would be blocked), and no policy is violated."""

import pytest
from django.contrib.auth.models import User

from tests.second_factor import browser_sign_in

pytestmark = pytest.mark.browser


def test_a_click_selects_the_new_key_under_the_csp(transactional_db, live_server, page):
    User.objects.create_superuser("root", "root@semine.example", "root-password-123")
    violations = []
    page.on("console", lambda message: violations.append(message.text))
    browser_sign_in(page, live_server.url, "/admin/login/", "root", "root-password-123")
    page.goto(f"{live_server.url}/admin/integrations/apikey/add/")
    page.fill("#id_name", "SEMINE production")
    page.click("input[name=_save]")
    page.wait_for_selector("#api-key")
    page.wait_for_load_state("load")  # the deferred script has run

    page.click("#api-key")
    selected = page.evaluate(
        "() => { const f = document.getElementById('api-key');"
        " return [f.selectionStart, f.selectionEnd, f.value.length]; }"
    )
    assert selected[0] == 0 and selected[1] == selected[2] > 30, selected
    assert not [text for text in violations if "Content Security Policy" in text], violations
