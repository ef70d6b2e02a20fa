"""Which of Xledger's object kinds are financial dimensions, and which one a customer means.

`objectKinds` lists every object kind of an installation, system kinds included: the tax rules
(VAT codes) are object values of a kind of their own [seen], which the customer must not be
offered as a dimension. The rule, in one place: a kind is a system kind when its dbId is one of
`SYSTEM_KIND_DB_IDS` (the tax-rule kind is 14, named `MERVERDIAVGIFT`, in a public client [seen])
or its name or number, compared without case, spaces, '-' and '_', is one of
`SYSTEM_KIND_NAMES` [ours: the names a tax-rule kind is shown with; extend when another turns up].

The customer names their fixed-assets dimension on the client information page by the number
Xledger shows (SEMINE's example: 35) and optionally a display name [known, SEMINE]. Object kinds
carry no `code` Xledger is known to answer with [seen], so that number is matched against every
number we know for a kind: its key (dbId as text), its dbId, and the `number` verify() stores where
Xledger did answer a code (see verify.py); the name is compared too.
"""

from __future__ import annotations

SYSTEM_KIND_DB_IDS = frozenset({14})
SYSTEM_KIND_NAMES = frozenset(
    {"taxrule", "taxrules", "mvakode", "mvakoder", "mva", "merverdiavgift", "avgiftskode", "vat"}
)


def _squeezed(text) -> str:
    return "".join(ch for ch in str(text or "").casefold() if ch not in " -_")


def _as_int(text) -> int | None:
    text = str(text if text is not None else "").strip()
    return int(text) if text.isdigit() else None


def is_financial_dimension(kind: dict) -> bool:
    """False for a system kind (see the module's docstring) the customer must not choose."""
    if _as_int(kind.get("dbId")) in SYSTEM_KIND_DB_IDS:
        return False
    return not any(_squeezed(kind.get(field)) in SYSTEM_KIND_NAMES for field in ("name", "number"))


def financial_dimensions(kinds) -> list[dict]:
    """The object kinds a customer may choose as dimensions, in Xledger's order."""
    return [kind for kind in kinds or () if is_financial_dimension(kind)]


def numbers_of(kind: dict) -> set[str]:
    """Every number a kind is known by: its key, its dbId and the code Xledger showed."""
    numbers = set()
    for field in ("code", "dbId", "number"):
        value = str(kind.get(field) if kind.get(field) is not None else "").strip()
        if value:
            numbers.add(str(_as_int(value)) if _as_int(value) is not None else value.casefold())
    return numbers


def matches(kind: dict, *, number: str = "", name: str = "") -> bool:
    """Is this the kind the customer named by `number` (as Xledger shows it) or `name`?"""
    typed = (number or "").strip()
    typed = str(_as_int(typed)) if _as_int(typed) is not None else typed.casefold()
    if typed and typed in numbers_of(kind):
        return True
    name = (name or "").strip().casefold()
    return bool(name) and (kind.get("name") or "").strip().casefold() == name
