import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# .env.example as an operator who copied it to .env and changed nothing would have it.
ENV_EXAMPLE = dict(
    line.split("=", 1)
    for line in (ROOT / ".env.example").read_text().splitlines()
    if line and not line.startswith("#")
)
KEY = "q1Qd3dNRmzVIrGjWsxaJSm3vTo-Ks6bqn3d2bbKsiRU="
GOOD = {
    "DJANGO_SETTINGS_MODULE": "portal.settings_production",
    "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "FIELD_ENCRYPTION_KEYS": KEY,
    "DJANGO_ALLOWED_HOSTS": "connect.semine.no",
    "PORTAL_BASE_URL": "https://connect.semine.no",
    "DEFAULT_FROM_EMAIL": "Semine Connect <connect@semine.no>",
    "CACHE_URL": "dbcache://semine_cache",
    "DATABASE_URL": "sqlite:////tmp/semine-check-deploy.sqlite3",
}


def run_check(env_overrides, *args):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_")) and k not in ENV_EXAMPLE
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_check_deploy_with_real_secrets():
    result = run_check(GOOD, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_refuses_to_start_without_a_secret_key():
    env = dict(GOOD)
    del env["DJANGO_SECRET_KEY"]
    result = run_check(env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_it_refuses_to_start_without_encryption_keys():
    env = dict(GOOD)
    del env["FIELD_ENCRYPTION_KEYS"]
    result = run_check(env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_it_refuses_to_start_with_a_key_that_is_not_a_fernet_key():
    result = run_check({**GOOD, "FIELD_ENCRYPTION_KEYS": f"{KEY},not-a-fernet-key"})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS key 2 of 2 is not a Fernet key" in result.stderr
    assert "manage.py generate_encryption_key" in result.stderr  # what to do about it
    assert "not-a-fernet-key" not in result.stderr  # a key is never repeated


def test_it_refuses_to_start_with_the_development_encryption_key():
    from portal.settings import DEV_FIELD_ENCRYPTION_KEY

    result = run_check({**GOOD, "FIELD_ENCRYPTION_KEYS": f"{KEY},{DEV_FIELD_ENCRYPTION_KEY}"})
    assert result.returncode != 0
    assert "key 2 of 2 is the public development key" in result.stderr


def test_it_refuses_to_start_with_the_env_example_secret_key():
    result = run_check(
        {**ENV_EXAMPLE, **GOOD, "DJANGO_SECRET_KEY": ENV_EXAMPLE["DJANGO_SECRET_KEY"]}
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is the placeholder from .env.example" in result.stderr
    assert ENV_EXAMPLE["DJANGO_SECRET_KEY"] not in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


def test_it_refuses_to_start_with_the_env_example_placeholders():
    """.env.example's hosts fit `docker compose up` on one's own machine (https://localhost); its
    sender is still a placeholder, so a copied .env is refused until someone looked at it."""
    secrets = {k: GOOD[k] for k in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL")}
    result = run_check(
        {**ENV_EXAMPLE, **secrets, "DJANGO_SETTINGS_MODULE": GOOD["DJANGO_SETTINGS_MODULE"]}
    )
    assert result.returncode != 0
    assert "DEFAULT_FROM_EMAIL is Semine Connect <connect@semine.example>, a placeholder" in (
        result.stderr
    )
    assert "DJANGO_ALLOWED_HOSTS" not in result.stderr
    assert "PORTAL_BASE_URL" not in result.stderr


def test_it_refuses_to_start_with_placeholder_hosts():
    result = run_check(
        {
            **GOOD,
            "DJANGO_ALLOWED_HOSTS": "connect.semine.example",
            "PORTAL_BASE_URL": "https://connect.semine.example",
        }
    )
    assert result.returncode != 0
    for message in [
        "DJANGO_ALLOWED_HOSTS holds connect.semine.example, a placeholder from .env.example",
        "PORTAL_BASE_URL is https://connect.semine.example, a placeholder from .env.example",
    ]:
        assert message in result.stderr


def test_env_example_with_its_secrets_and_sender_set_starts_behind_compose_proxy():
    """A new operator sets the two secrets and the sender; the rest of .env.example starts."""
    secrets = {k: GOOD[k] for k in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL")}
    result = run_check(
        {
            **ENV_EXAMPLE,
            **secrets,
            "DEFAULT_FROM_EMAIL": "Semine Connect <connect@localhost>",
            "DJANGO_SETTINGS_MODULE": GOOD["DJANGO_SETTINGS_MODULE"],
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert ENV_EXAMPLE["DJANGO_ALLOWED_HOSTS"] == "localhost"
    assert ENV_EXAMPLE["PORTAL_BASE_URL"] == "https://localhost"


def test_it_refuses_single_sign_on_without_https_or_the_clients_secret():
    plain = run_check(
        {**GOOD, "SSO_OIDC_ISSUER": "http://idp.semine.no", "SSO_OIDC_CLIENT_ID": "c"}
    )
    assert plain.returncode != 0
    assert "SSO_OIDC_ISSUER must be an https:// URL." in plain.stderr
    assert "SSO_OIDC_CLIENT_SECRET must be set too." in plain.stderr
    good = run_check(
        {
            **GOOD,
            "SSO_OIDC_ISSUER": "https://idp.semine.no",
            "SSO_OIDC_CLIENT_ID": "semine-connect",
            "SSO_OIDC_CLIENT_SECRET": "a-secret-from-the-provider",
        }
    )
    assert good.returncode == 0, good.stderr


@pytest.mark.django_db
def test_postgresql_sessions_run_without_jit():
    """DATABASE_PG_OPTIONS (default `-c jit=off`) reaches every connection's session."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
