"""Counting attempts in a window, so a person (or a script) cannot guess passwords or make the
portal hammer Xledger with token checks.

Counters live in Django's cache under a key per purpose and subject (a username, an IP address,
a customer). The first hit of a window sets the expiry; the window is fixed, not sliding, which is
plenty for "10 failures in 15 minutes". With several web processes the cache must be shared
(Redis or the database cache); the local-memory default counts per process.
"""

from datetime import timedelta

from django.core.cache import cache


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
