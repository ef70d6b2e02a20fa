"""Settings for Semine Connect, read from the environment (django-environ).

Local defaults work with no `.env` at all: SQLite in the project folder, DEBUG on, a throwaway
secret key and a fixed development encryption key. `portal.settings_production` builds on this
module and refuses to start without real secrets.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="dev-only-insecure-secret-key-do-not-use-in-production"
)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Token encryption keys, newest first. Independent of SECRET_KEY on purpose: rotating the one
# must never make the other unreadable. This development key is public; production refuses it.
DEV_FIELD_ENCRYPTION_KEY = "2wQpTnGmSkmIu1Ar2Sx4QUlGBJ8mr0G3h7iN0m3N8Z0="
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEV_FIELD_ENCRYPTION_KEY])

# Where each connection environment is reached. `make run` points both at the local sandbox.
XLEDGER_API_URL = env.str("XLEDGER_API_URL", default="https://www.xledger.net/graphql")
XLEDGER_DEMO_API_URL = env.str("XLEDGER_DEMO_API_URL", default="https://demo.xledger.net/graphql")
XLEDGER_TIMEOUT_SECONDS = env.float("XLEDGER_TIMEOUT_SECONDS", default=30.0)
# Longest wait the client sleeps inside a worker before giving the decision back to the caller.
XLEDGER_MAX_WAIT_SECONDS = env.float("XLEDGER_MAX_WAIT_SECONDS", default=30.0)
XLEDGER_MAX_ATTEMPTS = env.int("XLEDGER_MAX_ATTEMPTS", default=4)

# Invoices to Xledger: the PDF size limit at intake, how long a worker's claim on invoices lasts
# (it is raised to outlast the client's worst-case request), and how long a send that ended in
# doubt waits before it is looked up in Xledger.
INVOICE_PDF_MAX_BYTES = env.int("INVOICE_PDF_MAX_BYTES", default=10 * 1024 * 1024)
INVOICE_CLAIM_LEASE_SECONDS = env.int("INVOICE_CLAIM_LEASE_SECONDS", default=600)
INVOICE_IN_DOUBT_SETTLE_SECONDS = env.int("INVOICE_IN_DOUBT_SETTLE_SECONDS", default=60)

PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://localhost:8000")

# Customer onboarding: invitation links, and throttles (attempts per window, per key).
INVITATION_TTL = timedelta(days=env.int("INVITATION_TTL_DAYS", default=7))
# How long a replace-token link staff send works (portal/token_links.py).
TOKEN_LINK_TTL = timedelta(days=env.int("TOKEN_LINK_TTL_DAYS", default=7))
THROTTLE_TOKEN_CHECKS = (5, timedelta(minutes=10))  # live Xledger checks per customer
THROTTLE_IT_PARTNER_INVITATIONS = (10, timedelta(days=1))  # sent by one customer
# These throttles (token checks, password reset e-mails) count in the cache: with several web
# processes it must be shared, e.g.
# CACHE_URL=redis://redis:6379/1 or dbcache://semine_cache (after `manage.py createcachetable`).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "ninja",  # serves /api/docs from local static files (no CDN, no inline script)
    "portal",
    "integrations",
    "staff",  # the staff admin of the integration engine (staff/admin.py)
    "axes",  # failed logins (portal.throttle)
    "django_otp",  # second factors (signin): the device model
    "django_otp.plugins.otp_totp",  # authenticator apps
    "django_otp.plugins.otp_static",  # recovery codes
    "django_otp_webauthn",  # passkeys and security keys
    "mozilla_django_oidc",  # staff single sign-on (signin.sso)
    "signin",  # sign-in security: second factors, single sign-on, sessions that end
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /static/ from STATIC_ROOT
    "portal.edge.RefuseUnusableInput",  # NUL in a query string, ids beyond any id: 400
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "signin.middleware.SecondFactorMiddleware",  # no page before the second factor
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.security.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a refused login into the lockout page
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite by default, in the project folder; DATABASE_URL switches (postgres://... in production).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the web process and the workers share one file without
    # "database is locked" surprises; the busy timeout makes writers wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
                "PRAGMA secure_delete=ON;"  # a destroyed token leaves no bytes in free pages
            ),
        }
    )
    # The test database is a file (not :memory:) so that end-to-end tests can share it with the
    # qcluster and server processes they start; one file per test process, so runs never collide.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str(
            "SQLITE_TEST_NAME", default=str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")
        )
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles the plans of the admin's big sorted lists for more than they
    # then save (bench/admin_lists.py); short OLTP queries never gain from it. Sent as a
    # connection option: set DATABASE_PG_OPTIONS empty behind a pooler that refuses options.
    pg_options = env.str("DATABASE_PG_OPTIONS", default="-c jit=off")
    if pg_options:
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} {pg_options}".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},  # English
    {"NAME": "portal.passwords.NorwegianCommonPasswordValidator"},  # passord123, Sommer2025
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nb", "Norsk bokmål")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# The web process serves /static/ itself (WhiteNoise). Here Django's default storage, so development
# and tests need no collectstatic; production serves compressed, hashed files (see
# portal.settings_production). Where DEBUG is on at start, files are looked up per request.
WHITENOISE_AUTOREFRESH = DEBUG

# Failed logins: django-axes refuses a locked-out login in its backend, before any password is
# checked, on every form that authenticates with the request (the portal's, the admin's, later
# ones). Failures are rows in the database every web process shares (the database handler, not a
# cache). Locked (defaults): 10 failures on one account from one address, or 30 on one account from
# all addresses, until 15 minutes after the last one; never one address for all its accounts, so
# colleagues behind one office address do not lock each other out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked-out login goes no further
    "portal.authentication.EmailAddressBackend",  # the e-mail address, typed in any case
    "signin.backends.SecondFactorBackend",  # the code after the password: counted like it
    "signin.sso.StaffSingleSignOn",  # staff single sign-on (only when SSO_OIDC_ISSUER is set)
]
AXES_HANDLER = "portal.throttle.LoginFailures"
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"], "username"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)  # one account, one address
LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("LOGIN_ACCOUNT_FAILURE_LIMIT", default=30)  # all addresses
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Refused attempts while locked are not counted: one address cannot push an account it is locked
# out of to the all-addresses limit, nor keep the lockout going for ever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True  # a good login below the limit starts the count again
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "portal.throttle.login_username"  # e-mail addresses: case-blind
AXES_CLIENT_IP_CALLABLE = "portal.throttle.login_client_ip"  # REMOTE_ADDR, as everywhere
AXES_LOCKOUT_CALLABLE = "portal.views.auth.locked_out"  # 429, our page, the user's language
# Masked in the form data axes keeps and logs (the password always is); the username and address
# columns hold what is counted.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken", "otp_token", "code"]
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login: nothing would prune them
# axes' own admin pages answer 500 to some hostile queries (tests/test_no_5xx_admin.py): lockouts
# are listed and lifted with `manage.py axes_list_attempts` / `axes_reset_username`.
AXES_ENABLE_ADMIN = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Second factors (signin): every staff and superuser account must use one (an authenticator app
# or a passkey, with recovery codes); a customer's user when the customer requires it or once
# they turned it on. django-otp, django-otp-webauthn (passkeys as a second factor only).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Semine Connect")
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
# Passkeys belong to the portal's host name, and the browser must be on the portal's origin.
_PORTAL = urlsplit(PORTAL_BASE_URL)
OTP_WEBAUTHN_RP_ID = env.str("OTP_WEBAUTHN_RP_ID", default=_PORTAL.hostname or "localhost")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "OTP_WEBAUTHN_ALLOWED_ORIGINS", default=[f"{_PORTAL.scheme}://{_PORTAL.netloc}"]
)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# A staff session ends after a working day, and after this long without a request.
STAFF_SESSION_MAX_AGE = timedelta(hours=env.float("STAFF_SESSION_MAX_HOURS", default=10))
STAFF_SESSION_IDLE = timedelta(minutes=env.float("STAFF_SESSION_IDLE_MINUTES", default=30))

# Single sign-on for staff (OpenID Connect, signin.sso): on when an issuer and a client are set.
SSO_OIDC_ISSUER = env.str("SSO_OIDC_ISSUER", default="")
SSO_OIDC_CLIENT_ID = env.str("SSO_OIDC_CLIENT_ID", default="")
SSO_OIDC_CLIENT_SECRET = env.str("SSO_OIDC_CLIENT_SECRET", default="")
SSO_ROLE_CLAIM = env.str("SSO_ROLE_CLAIM", default="groups")
SSO_PROJECT_MANAGER_ROLES = env.list(
    "SSO_PROJECT_MANAGER_ROLES", default=["semine-connect-project-managers"]
)
SSO_SUPPORT_ROLES = env.list("SSO_SUPPORT_ROLES", default=["semine-connect-support"])
# The provider's own second factor counts (unless its `amr` claim says a password alone).
SSO_IDP_MFA_COUNTS = env.bool("SSO_IDP_MFA_COUNTS", default=True)
# Off: staff who are not superusers can sign in only through single sign-on. Superusers keep
# their password and second factor: the way in when the provider is down.
STAFF_PASSWORD_LOGIN = env.bool("STAFF_PASSWORD_LOGIN", default=True)
# mozilla-django-oidc's own settings (the endpoints come from the issuer's discovery document).
OIDC_RP_CLIENT_ID = SSO_OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = SSO_OIDC_CLIENT_SECRET
OIDC_RP_SIGN_ALGO = env.str("SSO_OIDC_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"

# E-mail: printed to the console locally; SMTP via EMAIL_URL in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Semine Connect <connect@semine.example>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# django-q2: the ORM broker on the default database, Redis when REDIS_URL is set.
# `retry` must be longer than the longest task and `timeout` shorter than `retry`, otherwise the
# ORM broker hands a slow sync to a second worker while the first is still running it.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "semine",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=1500),
    "retry": env.int("Q_RETRY", default=1800),
    "max_attempts": 2,
    "catch_up": False,
    "save_limit": 500,
    "ack_failures": True,
    "poll": 1,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failures and lockouts, not every login and clean-up
    },
}

# Integration engine knobs.
RUN_HEARTBEAT_STALE_AFTER = timedelta(seconds=env.int("RUN_HEARTBEAT_STALE_SECONDS", default=300))
# A run queued this long without a worker taking it is abandoned (and its schedule due again).
RUN_QUEUED_STALE_AFTER = timedelta(seconds=env.int("RUN_QUEUED_STALE_SECONDS", default=1800))
# A full sync that would tombstone more than this share of a dataset asks a person first.
MASS_DELETION_THRESHOLD = env.float("MASS_DELETION_THRESHOLD", default=0.20)
# Records per Xledger request in syncs: Xledger's maximum (fewer, fuller pages cost less).
SYNC_PAGE_SIZE = env.int("SYNC_PAGE_SIZE", default=10_000)
# Dotted path to `factory(connection) -> httpx transport` (tests, demos); empty = real HTTPS.
XLEDGER_TRANSPORT_FACTORY = env.str("XLEDGER_TRANSPORT_FACTORY", default="")
# /health/ answers 503 when the dispatcher has not ticked for this long (it ticks every minute).
HEALTH_MAX_TICK_AGE = timedelta(seconds=env.int("HEALTH_MAX_TICK_AGE_SECONDS", default=180))
# Run history retention (`manage.py prune_runs`, also a daily django-q2 schedule): failures are
# kept longer than successes because they are what support digs into weeks later.
RUN_RETENTION_SUCCESS_DAYS = env.int("RUN_RETENTION_SUCCESS_DAYS", default=30)
RUN_RETENTION_FAILURE_DAYS = env.int("RUN_RETENTION_FAILURE_DAYS", default=180)
# Quiet successful runs (nothing changed) keep their detail this long; then the same task rolls
# them up per connection × dataset × day (integrations.retention.rollup_quiet_runs).
RUN_QUIET_KEEP_HOURS = env.int("RUN_QUIET_KEEP_HOURS", default=24)

# Offboarding: an offboarded customer's or connection's data is erased this long after it left
# (sooner when the customer asked for erasure); until then staff can reactivate it.
OFFBOARD_RETENTION_DAYS = env.int("OFFBOARD_RETENTION_DAYS", default=90)
OFFBOARD_ERASURE_REQUESTED_DAYS = env.int("OFFBOARD_ERASURE_REQUESTED_DAYS", default=30)

# Brønnøysundregistrene (Enhetsregisteret): fills a Norwegian customer's legal name and business
# address from the organisation number (portal/brreg.py). Off: no lookup button. The transport
# factory is a dotted path to `factory() -> httpx transport` (`make run` uses the local fake,
# portal.brreg_fake.transport); empty = the real register over HTTPS.
BRREG_LOOKUP = env.bool("BRREG_LOOKUP", default=True)
BRREG_URL = env.str("BRREG_URL", default="https://data.brreg.no/enhetsregisteret/api")
BRREG_TRANSPORT_FACTORY = env.str("BRREG_TRANSPORT_FACTORY", default="")
