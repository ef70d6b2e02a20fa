"""Throttles: failed logins (django-axes, below) and counted attempts in a window, so a person (or
a script) cannot guess passwords, flood a mailbox or make the portal hammer Xledger.

Logins are throttled by django-axes at the authentication-backend level
(`axes.backends.AxesStandaloneBackend` first in AUTHENTICATION_BACKENDS), so every form that calls
`django.contrib.auth.authenticate` with the request is covered: the portal's login, the admin's,
and any later one. Its failures are rows in the database every web process shares; the settings
are the AXES_* ones in `portal.settings`.

The other throttles (token checks, password reset e-mails) count in Django's cache under a key per
purpose and subject (an IP address, a customer). The first hit of a window sets the expiry; the
window is fixed, not sliding, which is plenty for "5 checks in 10 minutes". With several web
processes the cache must be shared (Redis or the database cache; `check --deploy` refuses local
memory).
"""

from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_lockout_parameters
from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum


def _key(scope: str, subject) -> str:
    return f"throttle:{scope}:{subject}"


def count(scope: str, subject) -> int:
    return int(cache.get(_key(scope, subject), 0))


def is_limited(scope: str, subject, limit: int) -> bool:
    return count(scope, subject) >= limit


def hit(scope: str, subject, window: timedelta) -> int:
    """Count one attempt; return the count in the current window."""
    key = _key(scope, subject)
    if cache.add(key, 1, timeout=int(window.total_seconds())):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=int(window.total_seconds()))
        return 1


def reset(scope: str, subject) -> None:
    cache.delete(_key(scope, subject))


def client_ip(request) -> str:
    """The address the request came from. Behind a proxy, configure the proxy to set
    REMOTE_ADDR (we do not trust X-Forwarded-For, which a client can forge)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


# --- Logins (django-axes) ------------------------------------------------------------------------


def login_client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, as for the other throttles (None when absent: axes
    stores addresses in an IP address column)."""
    return request.META.get("REMOTE_ADDR") or None


def login_username(request, credentials) -> str | None:
    """AXES_USERNAME_CALLABLE: the name failures are counted under. Usernames are e-mail
    addresses, so the one typed is trimmed and lowercased: `Anne.X@…` and `anne.x@…` count as one
    account. Only the count is here; the login finds its account case-blind too
    (`portal.authentication.EmailAddressBackend`)."""
    if credentials is not None:
        typed = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        typed = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    if not isinstance(typed, str):
        return None
    return typed.strip().lower()[:255] or None


class LoginFailures(AxesDatabaseHandler):
    """axes' database handler, with a limit of its own for each lockout parameter.

    axes compares the largest count over AXES_LOCKOUT_PARAMETERS with one limit,
    AXES_FAILURE_LIMIT. Here the count for one account from all addresses ("username") has its
    own, higher limit (LOGIN_ACCOUNT_FAILURE_LIMIT), so each count is scaled to AXES_FAILURE_LIMIT
    before axes compares: `count * limit // own_limit >= limit` exactly when
    `count >= own_limit`. Everything else (recording, cool-off, reset on success) is axes'.
    """

    def get_failures(self, request, credentials=None) -> int:
        limit = settings.AXES_FAILURE_LIMIT
        failures = 0
        parameters = get_lockout_parameters(request, credentials)
        attempts_per_parameter = self.get_user_attempts(request, credentials)
        for parameter, attempts in zip(parameters, attempts_per_parameter, strict=True):
            counted = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            own_limit = settings.LOGIN_ACCOUNT_FAILURE_LIMIT if parameter == "username" else limit
            own_limit = max(own_limit, 1)
            failures = max(failures, counted * limit // own_limit)
        return failures
