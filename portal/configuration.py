"""What a production configuration must hold, as rules that each return what to fix (an empty
list when all is well).

Two callers: `portal.settings_production` refuses to load when the secrets or placeholders are
wrong (so a bad key never waits for the first token save), and `portal.checks` reports the same
rules and the cache rule under `manage.py check --deploy`. Plain values in, plain sentences out:
this module is imported while settings load, so it must not read `django.conf.settings`. A
message never repeats a secret, only where it is and how to make a good one.
"""

from urllib.parse import urlsplit

from cryptography.fernet import Fernet

# What `.env.example` ships with. The secret key is public once it is in the repository; the
# `.example` top-level domain (RFC 2606) is never a real one, so a host, base URL or sender in it
# was copied from `.env.example` and not changed.
ENV_EXAMPLE_SECRET_KEY = "change-me-to-a-random-string-of-at-least-fifty-characters-0123456789"
PUBLIC_SECRET_KEY_PREFIXES = ("change-me", "dev-only")  # .env.example's and portal.settings'
PLACEHOLDER_DOMAIN = ".example"

MAKE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
MAKE_FERNET_KEY = "python manage.py generate_encryption_key"

# Cache backends each process keeps to itself (or not at all): a throttle counting in one lets a
# guesser spread attempts over the web processes, or is not counted at all.
NOT_SHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "local memory",
    "django.core.cache.backends.dummy.DummyCache": "a dummy cache",
}


def secret_key_problems(secret_key: str) -> list[str]:
    if secret_key == ENV_EXAMPLE_SECRET_KEY or secret_key.startswith(PUBLIC_SECRET_KEY_PREFIXES):
        return [
            "DJANGO_SECRET_KEY is the placeholder from .env.example (or the development default), "
            f"which anyone can read. Set a random value: {MAKE_SECRET_KEY}"
        ]
    if len(secret_key) < 50:
        return ["DJANGO_SECRET_KEY must be a random value of at least 50 characters."]
    return []


def fernet_key_problems(keys: list[str], *, development_key: str) -> list[str]:
    if not keys:
        return [f"FIELD_ENCRYPTION_KEYS is empty. Make a key with `{MAKE_FERNET_KEY}`."]
    problems = []
    for position, key in enumerate(keys, start=1):
        where = f"FIELD_ENCRYPTION_KEYS key {position} of {len(keys)}"
        if key == development_key:
            problems.append(
                f"{where} is the public development key. Make a key with `{MAKE_FERNET_KEY}`."
            )
            continue
        try:
            Fernet(key)
        except (ValueError, TypeError):
            problems.append(
                f"{where} is not a Fernet key (32 url-safe base64-encoded bytes, 44 characters "
                f"ending in '='). Make one with `{MAKE_FERNET_KEY}`; keys are comma-separated, "
                "newest first."
            )
    return problems


def _is_placeholder_host(host: str) -> bool:
    host = host.strip().lower().rstrip(".")
    return host == PLACEHOLDER_DOMAIN[1:] or host.endswith(PLACEHOLDER_DOMAIN)


def placeholder_problems(*, allowed_hosts, base_url: str, from_email: str) -> list[str]:
    """Hosts, the base URL in e-mailed links and the sender still at .env.example's values."""
    problems = []
    hosts = [host for host in allowed_hosts if _is_placeholder_host(host)]
    if hosts:
        problems.append(
            f"DJANGO_ALLOWED_HOSTS holds {', '.join(hosts)}, a placeholder from .env.example: "
            "set the host name(s) the portal is reached at."
        )
    if _is_placeholder_host(urlsplit(base_url).hostname or ""):
        problems.append(
            f"PORTAL_BASE_URL is {base_url}, a placeholder from .env.example: set the address "
            "customers reach the portal at (links in e-mails use it)."
        )
    address = from_email.rsplit("<", 1)[-1].rstrip(">").strip()
    if _is_placeholder_host(address.rpartition("@")[2]):
        problems.append(
            f"DEFAULT_FROM_EMAIL is {from_email}, a placeholder from .env.example: set an "
            "address your mail server may send from."
        )
    return problems


def cache_problems(cache: dict, *, alias: str = "default") -> list[str]:
    kind = NOT_SHARED_CACHES.get(cache.get("BACKEND", ""))
    if kind is None:
        return []
    return [
        f"CACHE_URL: the token-check and password-reset throttles count in the '{alias}' cache, "
        f"which is "
        f"{kind}: each web process counts on its own (or not at all). Set "
        "CACHE_URL=dbcache://semine_cache (then run `python manage.py createcachetable`) "
        "or CACHE_URL=redis://<host>:6379/1."
    ]
