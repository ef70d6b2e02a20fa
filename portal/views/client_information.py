from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from portal import selectors, services
from portal.forms import ClientInformationForm, ContactForm
from portal.models import Contact
from portal.services import CLIENT_FIELDS
from portal.views.access import customer_required


def _contact_forms(customer, data, draft):
    existing = {c.role: c for c in Contact.objects.filter(customer=customer)}
    forms = []
    for role in Contact.Role:
        contact = existing.get(role)
        initial = (
            {"name": contact.name, "email": contact.email, "phone": contact.phone}
            if (contact)
            else {}
        )
        forms.append(
            ContactForm(
                data,
                initial=initial,
                role=role.value,
                required_role=role in Contact.REQUIRED_ROLES,
                draft=draft,
            )
        )
    return forms


@customer_required
def client_information(request):
    customer = request.customer
    live = selectors.is_live(customer)
    known = selectors.known_account_codes(customer)
    draft = "save_draft" in request.POST
    data = request.POST if request.method == "POST" and not live else None
    initial = {name: getattr(customer, name) for name in CLIENT_FIELDS}
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
    errors = form.error_summary() if form.is_bound else []
    for cf in contact_forms:
        if cf.is_bound:
            errors += [(fid, f"{cf.title}: {label}", msg) for fid, label, msg in cf.error_summary()]
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
        },
        status=400 if errors else 200,
    )
