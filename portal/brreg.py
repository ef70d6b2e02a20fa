"""Brønnøysundregistrene's Enhetsregisteret: a Norwegian company's legal name, business address and
whether it is bankrupt, being wound up or deleted, from its organisation number.

The open API (`GET {BRREG_URL}/enheter/{orgnr}`, no key, NLOD licence) only saves the customer some
typing, so it must never stand in their way: `lookup()` waits at most `TIMEOUT_SECONDS`, never
raises, and answers None (with a log line) when the register is slow, down or says something we do
not understand. Answers are cached briefly, so pressing the button twice asks once.

Tests and `make run` never reach the real register: `settings.BRREG_TRANSPORT_FACTORY` is a dotted
path to a callable `factory() -> httpx.BaseTransport` (`make run` uses
`portal.brreg_fake.transport`), or tests monkeypatch `transport_factory` here. In production
neither is set and httpx talks HTTPS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string

logger = logging.getLogger("portal.brreg")

TIMEOUT_SECONDS = 2.0
CACHE_SECONDS = 10 * 60
transport_factory = None  # tests: monkeypatch with `lambda: httpx.MockTransport(...)`


@dataclass(frozen=True)
class Company:
    """What Enhetsregisteret says about one organisation number. `found` is False when the
    register does not know the number (404); a deleted entity (410) is found and `deleted`."""

    organisation_number: str
    found: bool = True
    name: str = ""
    address_lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    country_code: str = ""
    bankrupt: bool = False
    being_wound_up: bool = False
    being_compulsorily_dissolved: bool = False
    deleted: bool = False
    deleted_on: date | None = None

    @property
    def street_address(self) -> str:
        return ", ".join(self.address_lines)


def enabled() -> bool:
    return bool(getattr(settings, "BRREG_LOOKUP", False))


def _transport():
    factory = transport_factory
    if factory is None and getattr(settings, "BRREG_TRANSPORT_FACTORY", ""):
        factory = import_string(settings.BRREG_TRANSPORT_FACTORY)
    return factory() if factory else None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


def company_from(orgnr: str, status: int, body) -> Company:
    """A Company from the register's answer; ValueError when the answer is not one we know."""
    if status == 404:
        return Company(orgnr, found=False)
    if status == 410:  # deleted; the body may say when
        body = body if isinstance(body, dict) else {}
        return Company(
            orgnr,
            name=_text(body.get("navn")),
            deleted=True,
            deleted_on=_date(body.get("slettedato")),
        )
    if status != 200:
        raise ValueError(f"HTTP {status}")
    if not isinstance(body, dict):
        raise ValueError("the answer is not a JSON object")
    name = _text(body.get("navn"))
    if not name:
        raise ValueError("no `navn`")
    address = body.get("forretningsadresse")
    address = address if isinstance(address, dict) else {}
    lines = address.get("adresse")
    lines = tuple(_text(line) for line in lines if _text(line)) if isinstance(lines, list) else ()
    deleted_on = _date(body.get("slettedato"))
    return Company(
        orgnr,
        name=name,
        address_lines=lines,
        postal_code=_text(address.get("postnummer")),
        city=_text(address.get("poststed")),
        country_code=_text(address.get("landkode")),
        bankrupt=body.get("konkurs") is True,
        being_wound_up=body.get("underAvvikling") is True,
        being_compulsorily_dissolved=(
            body.get("underTvangsavviklingEllerTvangsopplosning") is True
        ),
        deleted=deleted_on is not None,
        deleted_on=deleted_on,
    )


def lookup(orgnr: str) -> Company | None:
    """The register's entry for a Norwegian organisation number (9 digits, spaces allowed), or
    None when the register could not be asked or gave no usable answer. Never raises."""
    orgnr = "".join(ch for ch in str(orgnr) if not ch.isspace())
    if not (len(orgnr) == 9 and orgnr.isascii() and orgnr.isdigit()):
        return None
    key = f"brreg:enhet:{orgnr}"
    try:
        cached = cache.get(key)
    except Exception:  # a cache that is down must not break the lookup
        cached = None
    if isinstance(cached, Company):
        return cached
    url = f"{settings.BRREG_URL.rstrip('/')}/enheter/{orgnr}"
    try:
        with httpx.Client(
            transport=_transport(), timeout=TIMEOUT_SECONDS, follow_redirects=False
        ) as client:
            response = client.get(url, headers={"Accept": "application/json"})
        body = _json(response) if response.status_code in (200, 410) else None
        company = company_from(orgnr, response.status_code, body)
    except Exception as exc:  # slow, down, garbage, a broken fake: the customer types instead
        logger.warning("Brønnøysund lookup of %s gave no answer: %s", orgnr, exc)
        return None
    try:
        cache.set(key, company, CACHE_SECONDS)
    except Exception:
        pass
    return company
