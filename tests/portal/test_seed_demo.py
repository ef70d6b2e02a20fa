from django.contrib.auth.models import User
from django.core.management import call_command
from django.http import HttpRequest

from portal.management.commands.seed_demo import DEMO_LOGINS
from tests.second_factor import authenticator, next_code


def test_it_creates_demo_logins_that_reach_the_admin(db, client, capsys, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    out = capsys.readouterr().out
    for username, password, _ in DEMO_LOGINS:
        assert username in out and password in out
    assert client.login(request=HttpRequest(), username="pm", password="demo-pm-2026")
    # Staff add a second factor at their first sign-in, then reach the admin.
    assert client.get("/admin/")["Location"].startswith("/accounts/security/?next=")
    device = authenticator(User.objects.get(username="pm"))
    assert client.post("/accounts/verify/", {"code": next_code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.login(request=HttpRequest(), username="kunde", password="demo-kunde-2026")
    assert client.get("/admin/").status_code == 302  # customers never reach the admin
