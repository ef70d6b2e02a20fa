"""Production settings: everything from `portal.settings`, but refuse to start without real secrets.

DJANGO_SETTINGS_MODULE=portal.settings_production

A secret key or encryption key that is missing, public or malformed, or a value still at its
`.env.example` placeholder, stops the process here with what to fix (the rules are in
`portal.configuration`; `manage.py check --deploy` reports the same, and the shared cache).
"""

from django.core.exceptions import ImproperlyConfigured

from portal.configuration import fernet_key_problems, placeholder_problems, secret_key_problems
from portal.settings import *  # noqa: F403
from portal.settings import (
    DEFAULT_FROM_EMAIL,
    DEV_FIELD_ENCRYPTION_KEY,
    PORTAL_BASE_URL,
    SSO_OIDC_CLIENT_ID,
    SSO_OIDC_CLIENT_SECRET,
    SSO_OIDC_ISSUER,
    env,
)


def refuse(problems):
    if problems:
        raise ImproperlyConfigured(" ".join(problems))


DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Static files: collected at image build (`collectstatic`, see the Dockerfile) into STATIC_ROOT,
# with content hashes in their names and compressed copies beside them, and served by the web
# process itself (WhiteNoise, in MIDDLEWARE) with far-future caching. A template naming a file
# that was not collected fails loudly instead of linking to a 404.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = DEBUG

try:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.") from exc
refuse(secret_key_problems(SECRET_KEY))

try:
    FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be set in production (Fernet keys, newest first)."
    ) from exc
refuse(fernet_key_problems(FIELD_ENCRYPTION_KEYS, development_key=DEV_FIELD_ENCRYPTION_KEY))

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
refuse(
    placeholder_problems(
        allowed_hosts=ALLOWED_HOSTS, base_url=PORTAL_BASE_URL, from_email=DEFAULT_FROM_EMAIL
    )
)

# Staff single sign-on, when configured: over HTTPS, with the client's secret.
if SSO_OIDC_ISSUER:
    refuse(
        [
            problem
            for problem, bad in [
                (
                    "SSO_OIDC_ISSUER must be an https:// URL.",
                    not SSO_OIDC_ISSUER.startswith("https://"),
                ),
                ("SSO_OIDC_CLIENT_ID must be set with SSO_OIDC_ISSUER.", not SSO_OIDC_CLIENT_ID),
                ("SSO_OIDC_CLIENT_SECRET must be set too.", not SSO_OIDC_CLIENT_SECRET),
            ]
            if bad
        ]
    )

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# TLS ends at the proxy in front (compose's `proxy`, Caddy), which sets X-Forwarded-Proto; the web
# process must never be reachable except through it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# The language cookie too: HTTPS only, not sent with other sites' requests, no script reads it.
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
