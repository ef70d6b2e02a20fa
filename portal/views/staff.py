from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from portal import personal_data as personal
from portal.exports import XLSX_CONTENT_TYPE, customers_workbook, export_filename
from portal.models import Customer


class PersonalDataEraseForm(forms.Form):
    reason = forms.CharField(
        label=_("The request (who asked, when, how)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
    )
    confirmation = forms.CharField(label=_("Type the e-mail address again to confirm"))


def export_customer(request, pk):
    """The customer's client information as the D01.01 spreadsheet (for partners who use it).

    Staff with portal.export_customer only. Anyone who is not staff gets 404, like every other
    URL that is not theirs; staff without the permission get 403."""
    if not (request.user.is_authenticated and request.user.is_staff):
        raise Http404
    if not request.user.has_perm("portal.export_customer"):
        raise PermissionDenied
    customer = get_object_or_404(Customer, pk=pk)
    response = HttpResponse(customers_workbook([customer]), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{export_filename([customer])}"'
    return response


def personal_data(request):
    """One person's data (GDPR): find it by e-mail address, download it as a file (art. 15),
    or erase it without offboarding the customer (art. 17). Staff who may offboard only."""
    if not (request.user.is_authenticated and request.user.is_staff):
        raise Http404
    if not request.user.has_perm(personal.PERMISSION):
        raise PermissionDenied
    email = (request.POST.get("email") or request.GET.get("email") or "").strip()
    form = PersonalDataEraseForm(request.POST or None, initial={"email": email})
    errors, result, found = [], None, None
    if request.method == "POST" and request.POST.get("action") == "export":
        try:
            data = personal.person_export(email=email, by=request.user)
        except ValidationError as e:
            errors = e.messages
        else:
            response = HttpResponse(data, content_type="application/json; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
            return response
    elif request.method == "POST" and request.POST.get("action") == "erase":
        if form.is_valid():
            try:
                result = personal.person_erase(
                    email=email,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    confirmation=form.cleaned_data["confirmation"],
                )
            except ValidationError as e:
                errors = e.messages
    if email and result is None:
        try:
            found = personal.person_data(email=email, by=request.user)
        except ValidationError as e:
            errors = errors or e.messages
    context = {
        **admin.site.each_context(request),
        "title": _("One person's data"),
        "email": email,
        "found": found,
        "form": form,
        "errors": errors,
        "result": result,
    }
    return TemplateResponse(
        request, "admin/portal/personal_data.html", context, status=400 if errors else 200
    )
