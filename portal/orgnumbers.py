"""Organisation numbers per country, checked with python-stdnum (check digits included).

One table: country code -> (stdnum module, how the number is stored). The United Kingdom has two
common identifiers and stdnum checks only the VAT number, so for GB we accept either a Companies
House registration number (8 characters: 8 digits, or 2 letters and 6 digits such as SC123456;
there is no check digit to verify) or a VAT registration number (checked by stdnum.gb.vat).
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.dk import cvr
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import ytunnus
from stdnum.gb import vat as gb_vat
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

VALIDATORS = {"NO": no_orgnr, "SE": se_orgnr, "DK": cvr, "FI": ytunnus}

EXAMPLES = {
    "NO": _("Norway: 9 digits, e.g. 923 609 016 (Brønnøysund register)."),
    "SE": _("Sweden: 10 digits, e.g. 556036-0793 (organisationsnummer)."),
    "DK": _("Denmark: 8 digits, e.g. 13585628 (CVR number)."),
    "FI": _("Finland: 7 digits, a dash and a check digit, e.g. 2077474-0 (Y-tunnus)."),
    "GB": _(
        "United Kingdom: the Companies House number (8 characters, e.g. 01234567 or SC123456) "
        "or the VAT number (e.g. GB 980 7806 84)."
    ),
}


def _country_name(code: str) -> str:
    from portal.models import Customer

    return str(dict(Customer.Country.choices).get(code, code))


_COMPANIES_HOUSE = re.compile(r"(\d{8}|[A-Z]{2}\d{6})")


def clean_organisation_number(country: str, value: str) -> str:
    """The number in its usual written form, or ValidationError saying what is wrong."""
    value = (value or "").strip()
    if not value:
        return ""
    if country == "GB":
        compact = re.sub(r"[\s.-]", "", value).upper()
        if _COMPANIES_HOUSE.fullmatch(compact):
            return compact
        if compact.isdigit() and len(compact) < 8:
            raise ValidationError(
                _("A Companies House number has 8 characters; add the leading zeros (e.g. %(v)s).")
                % {"v": compact.zfill(8)},
                code="invalid",
            )
        try:
            return "GB " + gb_vat.format(gb_vat.validate(compact))
        except StdnumError:
            raise ValidationError(
                _(
                    "This is neither a Companies House number (8 characters) nor a valid UK VAT "
                    "number. Check it against the company's registration."
                ),
                code="invalid",
            ) from None
    module = VALIDATORS.get(country)
    if module is None:
        return value
    try:
        compact = module.validate(value)
        return module.format(compact) if hasattr(module, "format") else compact
    except StdnumError:
        raise ValidationError(
            _(
                "This is not a valid organisation number for %(country)s: the digits or the check "
                "digit are wrong. %(example)s"
            )
            % {"country": _country_name(country), "example": EXAMPLES[country]},
            code="invalid",
        ) from None
