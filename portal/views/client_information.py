"""The client information page (D01.01): one form in sections, saved as a draft or complete.

A third button, "Fetch from Brønnøysundregistrene", posts the same form: the page comes back with
the legal name and business address filled in where they were empty, everything typed kept, and
nothing saved (portal/brreg.py asks the register and never raises)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portal import brreg, selectors, services
from portal.forms import ClientInformationForm, ContactForm
from portal.models import Contact
from portal.orgnumbers import clean_organisation_number
from portal.services import CLIENT_FIELDS
from portal.views.access import customer_required

LOOKUP_BUTTON = "brreg_lookup"
# What the register fills in, where the customer left the field empty.
REGISTER_FIELDS = ("legal_name", "street_address", "postal_code", "city")


def _contact_forms(customer, data, draft, typed=None):
    """One form per contact role; `typed` (a POST) shows what was typed without checking it."""
    existing = {c.role: c for c in Contact.objects.filter(customer=customer)}
    forms = []
    for role in Contact.Role:
        contact = existing.get(role)
        initial = (
            {"name": contact.name, "email": contact.email, "phone": contact.phone}
            if (contact)
            else {}
        )
        options = {"role": role.value, "required_role": role in Contact.REQUIRED_ROLES}
        if typed is not None:
            posted = ContactForm(typed, **options)
            initial = {name: posted[name].data for name in posted.fields}
        forms.append(ContactForm(data, initial=initial, draft=draft, **options))
    return forms


def _errors_in_page_order(form, contact_forms):
    """The error summary as the customer meets the fields: section by section, contacts where
    the contacts section is (not after the whole company form)."""
    rows = [row for row in form.error_summary() if row[0] is None]
    by_id = {}
    for row in form.error_summary():
        if row[0] is not None:
            by_id.setdefault(row[0], []).append(row)
    contacts = {f"contact_{cf.role}": cf for cf in contact_forms}
    for _key, _title, names in selectors.CLIENT_INFORMATION_SECTIONS:
        for name in names:
            if name in contacts:
                cf = contacts[name]
                if cf.is_bound:
                    rows += [
                        (fid, f"{cf.title}: {label}", msg) for fid, label, msg in cf.error_summary()
                    ]
            elif name in form.fields:
                rows += by_id.pop(form[name].auto_id, [])
    for leftover in by_id.values():  # a field no section names: still listed, last
        rows += leftover
    return rows


def _register_warnings(company, number):
    name = company.name or number
    warnings = []
    if company.deleted:
        if company.deleted_on:
            warnings.append(
                _("Brønnøysundregistrene says %(name)s was deleted from the register on %(date)s.")
                % {"name": name, "date": date_format(company.deleted_on)}
            )
        else:
            warnings.append(
                _("Brønnøysundregistrene says %(name)s was deleted from the register.")
                % {"name": name}
            )
    if company.bankrupt:
        warnings.append(
            _("Brønnøysundregistrene says %(name)s is bankrupt (konkurs).") % {"name": name}
        )
    if company.being_wound_up:
        warnings.append(
            _("Brønnøysundregistrene says %(name)s is being wound up (under avvikling).")
            % {"name": name}
        )
    if company.being_compulsorily_dissolved:
        warnings.append(
            _(
                "Brønnøysundregistrene says %(name)s is being compulsorily wound up or dissolved "
                "(under tvangsavvikling eller tvangsoppløsning)."
            )
            % {"name": name}
        )
    return warnings


def _same(typed, registered):
    """The register writes names and places in capitals: "BERGEN" is what the customer typed as
    "Bergen"."""
    return " ".join(typed.split()).casefold() == " ".join(registered.split()).casefold()


def _fill_from_register(values, form):
    """Ask the register about the typed organisation number and fill `values` (what is typed,
    by field name) where empty. Returns what to tell the customer: {"notices", "warnings"}."""
    outcome = {"notices": [], "warnings": []}
    notices, warnings = outcome["notices"], outcome["warnings"]
    if not brreg.enabled():
        notices.append(
            _("Looking up organisation numbers is switched off. Fill in the fields by hand.")
        )
        return outcome
    if values.get("country") != "NO":
        notices.append(
            _("Brønnøysundregistrene has Norwegian organisation numbers only. Fill in by hand.")
        )
        return outcome
    typed = (values.get("organisation_number") or "").strip()
    if not typed:
        notices.append(_("Enter the organisation number first, then fetch."))
        return outcome
    try:
        number = clean_organisation_number("NO", typed)
    except ValidationError as error:
        notices.extend(error.messages)
        return outcome
    company = brreg.lookup(number)
    if company is None:
        notices.append(
            _(
                "Brønnøysundregistrene could not be reached just now. Fill in the fields by hand; "
                "you can save as usual."
            )
        )
        return outcome
    if not company.found:
        notices.append(
            _(
                "Brønnøysundregistrene has no company with organisation number %(number)s. Check "
                "the number, or fill in the fields by hand."
            )
            % {"number": number}
        )
        return outcome
    warnings.extend(_register_warnings(company, number))
    found = {
        "legal_name": company.name,
        "street_address": company.street_address,
        "postal_code": company.postal_code,
        "city": company.city,
    }
    filled, kept = [], []
    for name in REGISTER_FIELDS:
        if not found[name]:
            continue
        if (values.get(name) or "").strip():
            if not _same(values[name], found[name]):
                kept.append(f"{form.fields[name].label} ({found[name]})")
        else:
            values[name] = found[name]
            filled.append(str(form.fields[name].label))
    if filled:
        notices.append(
            _("Filled in from Brønnøysundregistrene: %(fields)s. Check them, then save.")
            % {"fields": ", ".join(filled)}
        )
    if kept:
        notices.append(
            _("Kept as you typed them (the register says otherwise): %(fields)s.")
            % {"fields": "; ".join(kept)}
        )
    if not filled and not kept and not warnings:
        notices.append(_("Brønnøysundregistrene agrees with what is filled in."))
    return outcome


@customer_required
def client_information(request):
    customer = request.customer
    live = selectors.is_live(customer)
    known = selectors.known_account_codes(customer)
    draft = "save_draft" in request.POST
    data = request.POST if request.method == "POST" and not live else None
    initial = {name: getattr(customer, name) for name in CLIENT_FIELDS}
    lookup = None
    if data is not None and LOOKUP_BUTTON in data:
        # Show what was typed (unchecked, unsaved), with the register's answer filled in.
        typed = ClientInformationForm(data, known_accounts=known)
        initial = {name: typed[name].data for name in typed.fields}
        lookup = _fill_from_register(initial, typed)
        form = ClientInformationForm(initial=initial, known_accounts=known)
        contact_forms = _contact_forms(customer, None, False, typed=data)
        data = None
    else:
        form = ClientInformationForm(data, initial=initial, draft=draft, known_accounts=known)
        contact_forms = _contact_forms(customer, data, draft)
    if data is not None:
        valid = form.is_valid()
        valid = all([cf.is_valid() for cf in contact_forms]) and valid
        if valid:
            services.customer_save_client_information(
                customer=customer,
                data={k: v for k, v in form.cleaned_data.items() if k in CLIENT_FIELDS},
                contacts={cf.role: cf.cleaned_data for cf in contact_forms},
                by=request.user,
                draft=draft,
            )
            if draft:
                messages.success(request, _("Draft saved. You can come back and finish it later."))
                return redirect("client_information")
            missing = selectors.client_information_missing(customer)
            if missing:
                messages.warning(request, _("Saved, but some required information is missing."))
                return redirect("client_information")
            messages.success(request, _("The client information is saved and complete."))
            return redirect("home")
    errors = _errors_in_page_order(form, contact_forms) if form.is_bound else []
    sections = selectors.client_information_sections(customer)
    country = form["country"].value()
    return render(
        request,
        "portal/client_information.html",
        {
            "customer": customer,
            "form": form,
            "contact_forms": contact_forms,
            "errors": errors,
            "live": live,
            "accounts_synced": known is not None,
            "sections": sections,
            "sections_complete": sum(section.complete for section in sections),
            "lookup": lookup,
            "lookup_button": LOOKUP_BUTTON,
            "offer_lookup": brreg.enabled() and not live and country == "NO",
        },
        status=400 if errors else 200,
    )
