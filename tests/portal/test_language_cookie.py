"""In production the language cookie is sent like the session and CSRF cookies: over HTTPS only,
and not with requests started by other sites."""

import subprocess
import sys

from tests.portal.test_production_settings import GOOD, ROOT

SET_LANGUAGE = """
import django
django.setup()
from django.test import Client
from django.conf import settings
response = Client().post(
    "/i18n/setlang/", {"language": "nb", "next": "/"}, secure=True,
    headers={"host": settings.ALLOWED_HOSTS[0]},
)
print(response.status_code)
print(response.cookies[settings.LANGUAGE_COOKIE_NAME].output())
"""


def test_the_language_cookie_is_secure_and_same_site_in_production(tmp_path):
    env = {
        **GOOD,
        "CACHE_URL": "locmemcache://",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cookie.sqlite3'}",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", SET_LANGUAGE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, cookie = result.stdout.strip().splitlines()[-2:]
    assert status == "302", result.stdout
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "secure" in attributes, cookie
    assert attributes.get("samesite", "").strip().lower() == "samesite=lax", cookie
    assert "httponly" in attributes, cookie  # no script of ours reads it
