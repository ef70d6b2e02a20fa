"""`manage.py check --deploy` reports what production would refuse, and the cache the throttles
count in: a key that is not a Fernet key, a placeholder from .env.example, local memory."""

from django.core.checks import run_checks
from django.test import override_settings

from portal.configuration import ENV_EXAMPLE_SECRET_KEY
from tests.portal.test_production_settings import GOOD, KEY, run_check

REAL = {
    "SECRET_KEY": GOOD["DJANGO_SECRET_KEY"],
    "FIELD_ENCRYPTION_KEYS": [KEY],
    "ALLOWED_HOSTS": ["connect.semine.no"],
    "PORTAL_BASE_URL": "https://connect.semine.no",
    "DEFAULT_FROM_EMAIL": "connect@semine.no",
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache"}},
}


def _portal_errors(**settings):
    with override_settings(**{**REAL, **settings}):
        errors = run_checks(include_deployment_checks=True)
    found = {}
    for error in errors:
        if error.id.startswith("portal."):
            found[error.id] = f"{found.get(error.id, '')} {error.msg}".strip()
    return found


def test_a_real_configuration_passes():
    assert _portal_errors() == {}


def test_the_checks_run_only_with_deploy():
    with override_settings(FIELD_ENCRYPTION_KEYS=["not-a-fernet-key"]):
        assert not [e for e in run_checks() if e.id.startswith("portal.")]


def test_it_reports_a_key_that_is_not_a_fernet_key():
    errors = _portal_errors(FIELD_ENCRYPTION_KEYS=["not-a-fernet-key", KEY])
    assert "key 1 of 2 is not a Fernet key" in errors["portal.E002"]
    assert "generate_encryption_key" in errors["portal.E002"]


def test_it_reports_the_placeholder_secret_key():
    errors = _portal_errors(SECRET_KEY=ENV_EXAMPLE_SECRET_KEY)
    assert "placeholder from .env.example" in errors["portal.E001"]


def test_it_reports_placeholder_hosts_urls_and_senders():
    errors = _portal_errors(
        ALLOWED_HOSTS=["connect.semine.no", "connect.semine.example"],
        PORTAL_BASE_URL="https://connect.semine.example",
        DEFAULT_FROM_EMAIL="Semine Connect <connect@semine.example>",
    )
    assert "DJANGO_ALLOWED_HOSTS holds connect.semine.example" in errors["portal.E003"]
    assert "PORTAL_BASE_URL" in errors["portal.E003"]
    assert "DEFAULT_FROM_EMAIL" in errors["portal.E003"]


def test_it_reports_a_cache_the_web_processes_do_not_share():
    for backend in ["locmem.LocMemCache", "dummy.DummyCache"]:
        caches = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}
        errors = _portal_errors(CACHES=caches)
        assert "the token-check and password-reset throttles" in errors["portal.E004"]
        assert "CACHE_URL=dbcache://semine_cache" in errors["portal.E004"]


def test_check_deploy_fails_on_the_issues_configuration():
    """Development settings with a broken key and local memory, as in the report."""
    result = run_check(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "FIELD_ENCRYPTION_KEYS": "not-a-fernet-key",
            "CACHE_URL": "locmemcache://",
        },
        "--deploy",
    )
    assert result.returncode != 0
    assert "portal.E002" in result.stderr and "portal.E004" in result.stderr
    assert "portal.E001" in result.stderr  # the development secret key is public too


def test_check_deploy_fails_in_production_on_local_memory():
    result = run_check({**GOOD, "CACHE_URL": "locmemcache://"}, "--deploy")
    assert result.returncode != 0
    assert "portal.E004" in result.stderr
