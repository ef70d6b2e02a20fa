"""The words of the token checklist, in the reader's language.

`verify()` stores each check as a stable `key` with its `params` (the Owner ID typed and the one
found, the scopes and access a dataset needs, whether Xledger refused the query itself, ...) and,
for staff screens and older code, an English `label` and `fix`. Customer pages render the label
and fix from here at display time (`describe(check)`), so one stored result reads in Norwegian for
a Norwegian customer and in English for the admin. A check stored before `params` existed keeps
its stored English fix, and its label where the label depended on a value we no longer have.

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

# Labels for checks stored without params (the value the label names is not known).
LABELS_WITHOUT_PARAMS = {
    "owner": _("The token belongs to the Owner ID you entered"),
}

ACCESS = {
    "read": _("read"),
    "write": _("write"),
    "read_write": _("read and write"),
}


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
            "Xledger refused SEMINE's check for %(scopes)s (%(message)s). This is not something "
            "your administrator can fix: please tell SEMINE support."
        ) % {"scopes": params.get("scopes", ""), "message": params.get("message", "")}
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
        if params.get("message"):
            lead = gettext("Xledger did not accept the token (%(message)s).") % {
                "message": params["message"]
            }
        else:
            lead = gettext("Xledger did not accept the token.")
        return f"{lead} {text}"
    if key == "owner" and problem == "unknown":
        return gettext(
            "Xledger did not say which entity the token belongs to; tell SEMINE support."
        )
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


def describe(check: dict) -> tuple[str, str]:
    """(label, fix) of a stored check in the active language; fix is "" for a passed check."""
    key = check.get("key", "")
    params = check.get("params")
    stored_fix = "" if check.get("ok") else check.get("fix") or ""
    if params is None:  # stored before checks carried params: keep the stored fix
        label = LABELS_WITHOUT_PARAMS.get(key) or LABELS.get(key)
        return (str(label) if label else check.get("label") or key), stored_fix
    try:
        label = str(LABELS[key]) % params if key in LABELS else check.get("label") or key
        # A passed check has no fix, except a note where the answer is not known yet.
        noted = params.get("problem") == "write_unknown"
        fix = "" if check.get("ok") and not noted else _fix(key, params)
    except (KeyError, TypeError, ValueError):  # params of a shape this code does not know
        return check.get("label") or key, stored_fix
    return label, fix or stored_fix


def english(key: str, ok: bool, params: dict) -> tuple[str, str]:
    """The label and fix verify() stores beside the params, for staff screens (in English)."""
    with override("en"):
        return describe({"key": key, "ok": ok, "params": params})
