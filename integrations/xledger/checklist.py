"""The words of the token checklist, in the reader's language.

`verify()` stores each check as a stable `key` with its `params` (the Owner ID typed and the one
found, the scopes and access a dataset needs, whether Xledger refused the query itself, ...) and,
for staff screens and older code, an English `label` and `fix`. Customer pages render the label
and fix from here at display time (`describe(check)`), so one stored result reads in Norwegian for
a Norwegian customer and in English for the admin. A check stored before `params` existed keeps
its stored English fix, and its label where the label depended on a value we no longer have.

A passed check's label says what holds; a failed one's says what does not (`FAILED_LABELS`), so
that no row beside a ✗ reads as a fact. Xledger's own words (its error message, in English) never
go inside a translated sentence: `detail(check)` gives them apart, shown as "Xledger said: …".

The Xledger menu paths are Xledger's own words [ours: not confirmed in a Norwegian Xledger]; the
translators may localise the ones written inside a sentence.
"""

from __future__ import annotations

from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

TOKEN_PAGE = "Administration → Access Control → GraphQL → API tokens"

LABELS = {
    "token": _("The API token is accepted"),
    "owner": _("The token belongs to Owner ID %(entered)s"),
    "token_entity": _("The token was created in the owner entity"),
    "suppliers": _("Read suppliers"),
    "currencies": _("Read currencies"),
    "dimensions": _("Read financial dimensions"),
    "vat_codes": _("Read VAT codes"),
    "accounts": _("Read the chart of accounts"),
    "fixed_assets": _("Read fixed assets"),
    "invoices": _("Send invoices (write GL import items)"),
    "posting_accounts": _("The default posting accounts are in the chart of accounts"),
}

# What a failed check says: what was expected and is not so. A check Xledger refused to answer
# (problem "refused", or an owner it did not name) says it could not be confirmed instead.
FAILED_LABELS = {
    "token": _("Xledger did not accept the API token"),
    "owner": _("The token does not belong to owner ID %(entered)s"),
    "token_entity": _("The token was not created in the owner entity"),
    "suppliers": _("The token cannot read suppliers"),
    "currencies": _("The token cannot read currencies"),
    "dimensions": _("The token cannot read financial dimensions"),
    "vat_codes": _("The token cannot read VAT codes"),
    "accounts": _("The token cannot read the chart of accounts"),
    "fixed_assets": _("The token cannot read fixed assets"),
    "invoices": _("The token cannot send invoices (write GL import items)"),
    "posting_accounts": _("A default posting account is missing from the chart of accounts"),
}
NOT_CONFIRMED = _("Could not be confirmed: %(check)s")

# Labels for checks stored without params (the value the label names is not known).
LABELS_WITHOUT_PARAMS = {
    "owner": _("The token belongs to the Owner ID you entered"),
}
FAILED_LABELS_WITHOUT_PARAMS = {
    "owner": _("The token does not belong to the owner ID you entered"),
}

ACCESS = {
    "read": _("read"),
    "write": _("write"),
    "read_write": _("read and write"),
}


def _named(db_id, name) -> str:
    """An entity as "10002 (K1 Fjordbåt Drift AS)", or its ID alone when its name is unknown."""
    return f"{db_id} ({name})" if name else str(db_id)


def _fix(key: str, params: dict) -> str:
    problem = params.get("problem", "")
    if problem == "scope":
        return gettext(
            "In Xledger, open %(page)s, edit the token and tick %(access)s access for %(scopes)s."
        ) % {
            "page": TOKEN_PAGE,
            "access": ACCESS.get(params.get("access"), ACCESS["read"]),
            "scopes": params.get("scopes", ""),
        }
    if problem == "refused":
        return gettext(
            "Xledger refused SEMINE's check for %(scopes)s. This is not something your "
            "administrator can fix: please tell SEMINE support."
        ) % {"scopes": params.get("scopes", "")}
    if problem == "missing_accounts":
        return gettext(
            "Xledger's chart of accounts has no account %(accounts)s. Correct the default "
            "posting accounts in the client information (or create the accounts in Xledger), "
            "then check the token again."
        ) % {"accounts": params.get("accounts", "")}
    if problem == "write_unknown":
        return gettext(
            "Xledger cannot tell whether the token may write GL import items without writing "
            "one. Make sure write access to GL import items is ticked in %(page)s; SEMINE's "
            "first invoice confirms it, and if Xledger refuses it you will be told."
        ) % {"page": TOKEN_PAGE}
    if key == "token":
        text = gettext(
            "Check that it was copied whole, that it was made in the right environment "
            "(production or demo), and that it has not been deleted in %(page)s; if in doubt, "
            "create a new one."
        ) % {"page": TOKEN_PAGE}
        lead = gettext("Xledger did not accept the token.")
        return f"{lead} {text}"
    if key == "owner" and problem == "unknown":
        return gettext(
            "Xledger did not say which entity the token belongs to; tell SEMINE support."
        )
    if key == "owner" and problem == "client_entity_id":
        return gettext(
            "%(entered)s is a client entity, not the owner entity. The owner ID to enter is "
            "the owner entity's: %(found)s. Find it in Xledger under Administration → Entity, "
            "in the owner entity."
        ) % {
            "entered": _named(params.get("entered"), params.get("entered_name")),
            "found": _named(params.get("found"), params.get("found_name")),
        }
    if key == "owner" and problem == "mismatch":
        return (
            gettext(
                "This token belongs to Owner ID %(found)s (%(found_name)s), not %(entered)s. Check "
                "the Owner ID in Xledger under Administration → Entity, or create the token in the "
                "owner entity %(entered)s."
            )
            % params
        )
    if key == "token_entity" and problem == "client_entity":
        return gettext(
            "The token was created in entity %(entity)s (%(entity_code)s), which only reaches "
            "that entity. Log in to the owner entity %(owner)s and create the token there "
            "(%(page)s)."
        ) % {**params, "page": TOKEN_PAGE}
    return ""


def _label(key: str, ok: bool, params: dict) -> str | None:
    if ok:
        return str(LABELS[key]) % params if key in LABELS else None
    problem = params.get("problem")
    if problem == "refused" or (key == "owner" and problem == "unknown"):
        return str(NOT_CONFIRMED) % {"check": str(LABELS[key]) % params} if key in LABELS else None
    return str(FAILED_LABELS[key]) % params if key in FAILED_LABELS else None


def describe(check: dict) -> tuple[str, str]:
    """(label, fix) of a stored check in the active language; fix is "" for a passed check."""
    key = check.get("key", "")
    params = check.get("params")
    ok = bool(check.get("ok"))
    stored_fix = "" if ok else check.get("fix") or ""
    if params is None:  # stored before checks carried params: keep the stored fix
        if ok:
            label = LABELS_WITHOUT_PARAMS.get(key) or LABELS.get(key)
        else:
            label = FAILED_LABELS_WITHOUT_PARAMS.get(key) or FAILED_LABELS.get(key)
        return (str(label) if label else check.get("label") or key), stored_fix
    try:
        label = _label(key, ok, params) or check.get("label") or key
        # A passed check has no fix, except a note where the answer is not known yet.
        noted = params.get("problem") == "write_unknown"
        fix = "" if check.get("ok") and not noted else _fix(key, params)
    except (KeyError, TypeError, ValueError):  # params of a shape this code does not know
        return check.get("label") or key, stored_fix
    return label, fix or stored_fix


def detail(check: dict) -> str:
    """Xledger's own words about a failed check (its error message, untranslated), or ""."""
    params = check.get("params") or {}
    if check.get("ok") or params.get("problem") not in ("rejected", "refused"):
        return ""
    return str(params.get("message") or "")


def english(key: str, ok: bool, params: dict) -> tuple[str, str]:
    """The label and fix verify() stores beside the params, for staff screens (in English), with
    Xledger's own words after the fix."""
    check = {"key": key, "ok": ok, "params": params}
    with override("en"):
        label, fix = describe(check)
    said = detail(check)
    return label, (f"{fix} Xledger said: {said}" if said else fix)
