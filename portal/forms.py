"""The customer's forms. Plain Django forms; every error is attached to the field it is about,
and the page lists them in a summary that links to the fields.

`AccessibleForm` points `aria-describedby` at the help text and the error message (with the ids
templates/portal/_field.html gives them); Django itself adds `aria-invalid` to fields with errors.
"""

import re
import unicodedata

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.models import Connection
from integrations.models.connections import DEFAULT_TRANSACTION_SOURCE
from integrations.models.schedules import interval_from
from integrations.xledger import object_kinds
from integrations.xledger.client import clean_token
from portal.models import Contact, Customer
from portal.orgnumbers import EXAMPLES, clean_organisation_number

# The one rule for a pasted token (`clean_token`), in the customer's form and the staff admin.
MALFORMED_TOKEN = _(
    "This does not look like an Xledger API token: it must be one word of letters, digits, '-' "
    "and '_', with no spaces inside. Copy it again from Xledger and paste it here."
)


# Characters that change how text looks without being seen: bidi controls (U+202E makes
# "SA gnippihS" read "Shipping AS") and zero-width characters. Refused in every text field.
# Control characters (C0 other than tab and line breaks, and DEL) are invisible too, and some
# break what is made from the text (a spreadsheet cell, a PostgreSQL text value).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INVISIBLE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)


def refuse_invisible_characters(value):
    """A validator: a clear error naming the first invisible character and where it is."""
    found = INVISIBLE_CHARACTERS.search(value) if isinstance(value, str) else None
    if found:
        char = found.group()
        raise forms.ValidationError(
            _(
                "This contains an invisible character, %(code)s %(name)s, at position "
                "%(position)s. It can make the text look different from what is saved: delete "
                "it, or type the text again instead of pasting it."
            ),
            code="invisible_character",
            params={
                "code": f"U+{ord(char):04X}",
                "name": unicodedata.name(char, ""),
                "position": found.start() + 1,
            },
        )


def refuse_invisible_characters_in(fields):
    """Add the validator to every text field of a form (not to passwords: they are not shown)."""
    for field in fields.values():
        if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
            if refuse_invisible_characters not in field.validators:
                field.validators.append(refuse_invisible_characters)


class PlainTextModelForm(forms.ModelForm):
    """A model form (the admin's customer, contact and invitation forms) whose text fields
    refuse invisible characters, as the customer's own forms do."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        refuse_invisible_characters_in(self.fields)


class AccessibleForm(forms.Form):
    def _field_id(self, name) -> str:
        """The id Django will give the field (without creating the cached BoundField yet)."""
        html_name = self.add_prefix(name)
        if self.auto_id and "%s" in str(self.auto_id):
            return self.auto_id % html_name
        return html_name if self.auto_id else ""

    def _describe(self):
        for name, field in self.fields.items():
            field_id = self._field_id(name)
            ids = []
            if field.help_text:
                ids.append(f"{field_id}_help")
            if name in (self._errors or {}):  # never trigger validation from here
                ids.append(f"{field_id}_error")
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        refuse_invisible_characters_in(self.fields)
        self._describe()

    def full_clean(self):
        super().full_clean()
        self._describe()

    def error_summary(self):
        """(field id or None, label, message) for every error, in field order."""
        rows = []
        for message in self.non_field_errors():
            rows.append((None, "", message))
        for name in self.fields:
            if name in self.errors:
                bound = self[name]
                for message in self.errors[name]:
                    rows.append((bound.auto_id, bound.label, message))
        return rows


# --- Invitation and login ------------------------------------------------------------------------


class AcceptInvitationForm(AccessibleForm):
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not only digits, and not a common password."),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean_password2(self):
        p1, p2 = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if p1 and p2 and p1 != p2:
            raise forms.ValidationError(_("The two passwords are not the same."))
        return p2

    def _post_clean(self):
        super()._post_clean()
        password = self.cleaned_data.get("password1")
        if password and "password1" not in self.errors:
            user = get_user_model()(username=self.email.lower(), email=self.email)
            try:
                password_validation.validate_password(password, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "That e-mail address and password do not match an account. Passwords are "
            "case-sensitive."
        ),
        "inactive": _("This account is inactive."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].label = _("Password")


# --- Client information (D01.01) -----------------------------------------------------------------


class ClientInformationForm(AccessibleForm):
    """The company part. `draft=True` drops "required" but keeps every format check.

    Fields are declared in page order (portal.selectors.CLIENT_INFORMATION_SECTIONS), so the error
    summary lists them as the customer meets them."""

    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    country = forms.ChoiceField(label=_("Country"), choices=Customer.Country.choices)
    organisation_number = forms.CharField(
        label=_("Organisation number"),
        max_length=30,
        help_text=_("Checked for the country above, including the check digit."),
    )
    street_address = forms.CharField(label=_("Street address"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    expected_invoice_volume = forms.IntegerField(
        label=_("Expected supplier invoices per month"),
        min_value=1,
        max_value=10_000_000,
        help_text=_("A rough number is fine, e.g. 400."),
    )
    supplier_posting_account = forms.CharField(
        label=_("Default posting account for suppliers"),
        max_length=20,
        help_text=_("Usually 2400 (accounts payable)."),
    )
    customer_posting_account = forms.CharField(
        label=_("Default posting account for customers"),
        max_length=20,
        help_text=_("Usually 1500 (accounts receivable)."),
    )
    fixed_assets_apply = forms.BooleanField(
        label=_("Fixed assets apply (SEMINE should synchronise your fixed assets)"), required=False
    )
    fixed_assets_as_dimension = forms.BooleanField(
        label=_("Fixed assets are synchronised as the values of a dimension"),
        required=False,
        help_text=_("SEMINE's convention is dimension code 35, with a display name you choose."),
    )
    fixed_assets_dimension_code = forms.CharField(
        label=_("Dimension code for fixed assets"), max_length=20, required=False, initial="35"
    )
    fixed_assets_dimension_name = forms.CharField(
        label=_("Display name of that dimension"),
        max_length=100,
        required=False,
        help_text=_('As it should appear in SEMINE, e.g. "Fixed asset".'),
    )
    desired_go_live = forms.DateField(
        label=_("Desired go-live date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        # No format here: the browser's date picker shows the date in the browser's own format.
        help_text=_("Choose today or a later date."),
    )
    notes = forms.CharField(
        label=_("Notes for SEMINE"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    ACCOUNT_FIELDS = ("supplier_posting_account", "customer_posting_account")

    def __init__(self, *args, draft=False, known_accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.draft = draft
        self.known_accounts = known_accounts
        if draft:
            for name, field in self.fields.items():
                if name != "legal_name":
                    field.required = False
        if known_accounts is None:
            note = _("It will be checked against your chart of accounts once that is synchronised.")
        else:
            note = _("Checked against your chart of accounts in Xledger.")
        for name in self.ACCOUNT_FIELDS:
            self.fields[name].help_text = f"{self.fields[name].help_text} {note}"
        self._describe()

    def clean_desired_go_live(self):
        value = self.cleaned_data.get("desired_go_live")
        if value and value < timezone.localdate():
            raise forms.ValidationError(
                _("The go-live date cannot be in the past. Choose today or a later date.")
            )
        return value

    def _clean_account(self, name):
        value = (self.cleaned_data.get(name) or "").strip()
        if value and not value.replace("-", "").isalnum():
            raise forms.ValidationError(_("Use the account's code only, e.g. 2400."))
        if value and self.known_accounts is not None and value not in self.known_accounts:
            raise forms.ValidationError(
                _("Account %(code)s is not in your chart of accounts in Xledger.") % {"code": value}
            )
        return value

    def clean_supplier_posting_account(self):
        return self._clean_account("supplier_posting_account")

    def clean_customer_posting_account(self):
        return self._clean_account("customer_posting_account")

    def clean(self):
        data = super().clean()
        country = data.get("country")
        number = data.get("organisation_number")
        if country and number:
            try:
                data["organisation_number"] = clean_organisation_number(country, number)
            except forms.ValidationError as error:
                self.add_error("organisation_number", error)
        if not data.get("fixed_assets_apply"):
            data["fixed_assets_as_dimension"] = False
        if data.get("fixed_assets_as_dimension") and not self.draft:
            for name in ("fixed_assets_dimension_code", "fixed_assets_dimension_name"):
                if not data.get(name):
                    self.add_error(
                        name,
                        _("Required when fixed assets are synchronised as a dimension."),
                    )
        return data

    @staticmethod
    def country_examples():
        return EXAMPLES


class ContactForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"))
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("With country code, e.g. +47 22 33 44 55."),
    )

    def __init__(self, *args, role: str, required_role: bool, draft=False, **kwargs):
        super().__init__(*args, prefix=f"contact_{role}", **kwargs)
        self.role = role
        self.required_role = required_role
        self.title = Contact.Role(role).label
        self.optional = not required_role
        # Optional roles, and drafts: nothing is required unless something was entered.
        if draft or not required_role:
            for field in self.fields.values():
                field.required = False
        self.draft = draft
        self._describe()

    def clean(self):
        data = super().clean()
        entered = any((data.get(k) or "").strip() for k in ("name", "email", "phone"))
        if entered and not self.draft:
            for name in ("name", "email"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(
                        name, _("Required when any detail of this contact is filled in.")
                    )
        return data


# --- Owner ID and token --------------------------------------------------------------------------


# Xledger's dbIds are 64-bit; the column is a bigint, so a larger number never reaches it.
MAX_OWNER_ENTITY_ID = 2**63 - 1
OWNER_ID_RANGE = _("The Owner ID is a number between 1 and 9223372036854775807.")


class TokenForm(AccessibleForm):
    environment = forms.ChoiceField(
        label=_("Xledger environment"),
        choices=Connection.Environment.choices,
        widget=forms.RadioSelect,
        help_text=_("A token made in Xledger's demo environment works only there."),
    )
    owner_entity_id = forms.IntegerField(
        label=_("Owner ID"),
        min_value=1,
        max_value=MAX_OWNER_ENTITY_ID,
        error_messages={"min_value": OWNER_ID_RANGE, "max_value": OWNER_ID_RANGE},
        help_text=_('In Xledger: Administration → Entity → the owner entity\'s "Owner ID".'),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    token = forms.CharField(
        label=_("API token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"autocomplete": "new-password", "spellcheck": "false", "autocapitalize": "off"},
        ),
        help_text=_(
            "Paste the token exactly as Xledger shows it. It is stored encrypted and never shown "
            "again."
        ),
    )

    def __init__(self, *args, has_token=False, replacing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_token = has_token
        if replacing:
            # A live connection: the owner entity is fixed (shown, never taken from the POST),
            # and a new token is what the form is for.
            self.fields["environment"].disabled = True
            self.fields["owner_entity_id"].disabled = True
            self.fields["token"].required = True
            self.fields["token"].label = _("New API token")
            self.fields["token"].help_text = _(
                "Paste the new token exactly as Xledger shows it. It is checked with Xledger "
                "before it replaces the working token; if the check fails, the working token "
                "stays. It is stored encrypted and never shown again."
            )
        elif has_token:
            self.fields["token"].help_text = _(
                "A token is stored. Leave this empty to check the stored token again, or paste a "
                "new one to replace it (the old one is deleted)."
            )
        else:
            self.fields["token"].required = True
        self._describe()

    def clean_token(self):
        value = self.cleaned_data.get("token") or ""
        if not value:
            return ""
        cleaned = clean_token(value)  # the client's one rule: None if it cannot be a token
        if cleaned is None:
            raise forms.ValidationError(MALFORMED_TOKEN, code="malformed")
        return cleaned


class ScopeForm(AccessibleForm):
    """Entities in scope (with fixed assets per entity) and the dimensions to synchronise,
    built from the last successful check."""

    dimensions = forms.MultipleChoiceField(
        label=_("Financial dimensions to synchronise"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The dimensions (object kinds) your Xledger reports."),
    )

    transaction_source_code = forms.CharField(
        label=_("Transaction source in Xledger"),
        max_length=20,
        required=False,
        help_text=_(
            "The code of the transaction source Xledger files SEMINE's invoices under; it must "
            "exist in your Xledger (ask your Xledger administrator if unsure). Leave it empty "
            "for SEMINE's default, SEMINE."
        ),
    )

    def __init__(
        self,
        *args,
        verification: dict,
        existing: dict,
        selected: list,
        fa_default=False,
        transaction_source="",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["transaction_source_code"].initial = (
            transaction_source or DEFAULT_TRANSACTION_SOURCE
        )
        self.entities = verification.get("entities", [])
        # System kinds (the tax rules) are no dimension: object_kinds.py says which they are.
        self.fields["dimensions"].choices = [
            (k["code"], f"{k.get('name') or k['code']} ({k.get('number') or k['code']})")
            for k in object_kinds.financial_dimensions(verification.get("object_kinds"))
            if k.get("code")
        ]
        self.fields["dimensions"].initial = selected

        self.entity_rows = []
        for entity in self.entities:
            db_id = entity["dbId"]
            previous = existing.get(db_id)
            scope_name, fa_name = f"entity_{db_id}_in_scope", f"entity_{db_id}_fixed_assets"
            self.fields[scope_name] = forms.BooleanField(
                label=_("In scope"),
                required=False,
                initial=previous.in_scope if previous else True,
            )
            self.fields[fa_name] = forms.BooleanField(
                label=_("Fixed assets apply"),
                required=False,
                initial=previous.fixed_assets if previous else fa_default,
            )
            self.entity_rows.append(
                {"entity": entity, "in_scope": self[scope_name], "fixed_assets": self[fa_name]}
            )
        self._describe()

    def clean(self):
        data = super().clean()
        if self.entities and not any(
            data.get(f"entity_{e['dbId']}_in_scope") for e in self.entities
        ):
            raise forms.ValidationError(_("Choose at least one entity to synchronise."))
        return data

    def clean_transaction_source_code(self):
        value = (self.cleaned_data.get("transaction_source_code") or "").strip()
        if not value:
            return DEFAULT_TRANSACTION_SOURCE
        if not value.replace("-", "").replace("_", "").isalnum():
            raise forms.ValidationError(
                _("Use the transaction source's code only: letters, digits, '-' and '_'.")
            )
        return value

    def choices(self) -> dict[int, dict]:
        return {
            e["dbId"]: {
                "in_scope": self.cleaned_data.get(f"entity_{e['dbId']}_in_scope", False),
                "fixed_assets": self.cleaned_data.get(f"entity_{e['dbId']}_fixed_assets", False),
            }
            for e in self.entities
        }


# --- Intervals -----------------------------------------------------------------------------------

INTERVAL_UNITS = [("minutes", _("minutes")), ("hours", _("hours")), ("days", _("days"))]


class IntervalRequestForm(AccessibleForm):
    """Ask the project manager for another interval for one kind of data, with a reason."""

    dataset = forms.ChoiceField(label=_("Data"))
    amount = forms.IntegerField(
        label=_("Every"),
        min_value=1,
        help_text=_("Between 5 minutes and 7 days."),
        widget=forms.NumberInput(attrs={"size": 5}),
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=INTERVAL_UNITS, initial="hours")
    reason = forms.CharField(
        label=_("Why do you need it?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The project manager reads this before deciding."),
    )

    def __init__(self, *args, datasets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = list(datasets)

    def clean(self):
        data = super().clean()
        amount, unit = data.get("amount"), data.get("unit")
        if amount and unit:
            try:
                data["interval"] = interval_from(amount, unit)
            except forms.ValidationError as e:
                self.add_error("amount", e)
        return data


class ItPartnerInvitationForm(AccessibleForm):
    """The customer invites their IT partner to the token step: an address and the language of
    the e-mail (`languages`: the site's, given by the view)."""

    email = forms.EmailField(
        label=_("Your IT partner's e-mail address"),
        max_length=254,
        help_text=_(
            "They get a link, which works once, to an account that can only enter the owner ID "
            "and token and choose the entities and dimensions."
        ),
    )
    language = forms.ChoiceField(label=_("Language of the e-mail"))

    def __init__(self, *args, languages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = list(languages)
