from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from portal.exports import XLSX_CONTENT_TYPE, customers_workbook, export_filename
from portal.models import Customer


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
