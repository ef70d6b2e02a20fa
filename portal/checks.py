"""`manage.py check --deploy`: the production rules of `portal.configuration`, as system checks.

Registered in `PortalConfig.ready()` with `deploy=True`, so they run beside Django's own deploy
checks. `portal.settings_production` already refuses to load with bad secrets or placeholders;
these also catch a configuration built another way, and the cache the throttles count in, which
only shows in a deployment with several web processes.
"""

from django.conf import settings
from django.core.checks import Error

from portal import configuration


def _errors(problems, id):
    return [Error(problem, id=id) for problem in problems]


def check_secret_key(app_configs, **kwargs):
    return _errors(configuration.secret_key_problems(settings.SECRET_KEY), "portal.E001")


def check_encryption_keys(app_configs, **kwargs):
    problems = configuration.fernet_key_problems(
        list(settings.FIELD_ENCRYPTION_KEYS),
        development_key=getattr(settings, "DEV_FIELD_ENCRYPTION_KEY", ""),
    )
    return _errors(problems, "portal.E002")


def check_placeholders(app_configs, **kwargs):
    problems = configuration.placeholder_problems(
        allowed_hosts=settings.ALLOWED_HOSTS,
        base_url=settings.PORTAL_BASE_URL,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    return _errors(problems, "portal.E003")


def check_throttle_cache(app_configs, **kwargs):
    # portal.throttle counts token checks and password resets in the default cache (login
    # failures are django-axes', in the database).
    return _errors(configuration.cache_problems(settings.CACHES["default"]), "portal.E004")


DEPLOY_CHECKS = [check_secret_key, check_encryption_keys, check_placeholders, check_throttle_cache]
