"""A throwaway OpenID Connect provider for the SSO tests (django-oauth-toolkit).

Started by `serve.py`, never imported by the portal. Its state lives in OIDC_PROVIDER_DIR; the
issuer and the signing key come from the environment because `serve.py` only knows them at start.
"""

import os
import secrets
from pathlib import Path

STATE_DIR = Path(os.environ["OIDC_PROVIDER_DIR"])
USERS_FILE = STATE_DIR / "users.json"
ISSUER = os.environ["OIDC_PROVIDER_ISSUER"]

SECRET_KEY = secrets.token_urlsafe(32)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.oidc_provider.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).parent / "templates"],
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": STATE_DIR / "provider.sqlite3",
        # The server is threaded: wait for the write lock rather than fail with "locked".
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}

AUTHENTICATION_BACKENDS = ["tests.oidc_provider.users.UsersFileBackend"]
# DOT hashes the client secret with the first hasher and checks it on every token request.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    # Pinned so that discovery's `issuer` and the tokens' `iss` are exactly this string.
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": os.environ["OIDC_PROVIDER_RSA_KEY"],
    "OAUTH2_VALIDATOR_CLASS": "tests.oidc_provider.users.ClaimsValidator",
    "SCOPES": {
        "openid": "OpenID Connect",
        "email": "Email address",
        "profile": "Profile, with the groups",
    },
    "PKCE_REQUIRED": False,
}

# Requests and errors (with tracebacks) go to stderr, which the harness keeps in a log file.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
