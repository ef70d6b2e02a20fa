"""The scope of one connection: which client entities (fixed assets per entity) and which
dimensions are synced, and the transaction source invoices are filed under."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from integrations.models import ClientEntity
from portal import selectors, services
from portal.forms import ScopeForm
from portal.views.access import customer_required
from portal.views.xledger import _own_connection


def _fixed_assets_dimension(customer, verification) -> list[str]:
    """The object kind the customer named as their fixed-assets dimension, to tick at first:
    found by its name, or by the code typed when that is the kind's key (its dbId). Object
    kinds carry no code Xledger is known to answer with, so a code alone may find nothing."""
    code = (customer.fixed_assets_dimension_code or "").strip()
    name = (customer.fixed_assets_dimension_name or "").strip().casefold()
    return [
        kind["code"]
        for kind in verification.get("object_kinds", [])
        if kind.get("code") == code or (name and (kind.get("name") or "").casefold() == name)
    ][:1]


@customer_required
def scope(request, pk=None):
    customer = request.customer
    if pk is not None:
        connection = _own_connection(request, pk)
    else:
        connection = selectors.connection_of(customer)
    verification = (connection.verification or {}) if connection else {}
    if not verification.get("ok"):
        messages.info(request, _("Check the token first; then you can choose the scope."))
        if connection is not None:
            return redirect("xledger_connection_token", pk=connection.pk)
        return redirect("xledger_token")
    live = connection.is_live
    existing = {e.db_id: e for e in ClientEntity.objects.filter(connection=connection)}
    selected = list(connection.selected_dimensions or [])
    if not selected and not existing and customer.fixed_assets_as_dimension:
        selected = _fixed_assets_dimension(customer, verification)
    form = ScopeForm(
        request.POST if request.method == "POST" and not live else None,
        verification=verification,
        existing=existing,
        selected=selected,
        fa_default=customer.fixed_assets_apply,
        transaction_source=connection.transaction_source_code,
    )
    if form.is_bound and form.is_valid():
        services.connection_save_scope(
            customer=customer,
            connection=connection,
            by=request.user,
            entities=form.choices(),
            dimensions=form.cleaned_data["dimensions"],
            transaction_source=form.cleaned_data["transaction_source_code"],
        )
        messages.success(request, _("Saved the entities and dimensions to synchronise."))
        return redirect("home")
    return render(
        request,
        "portal/scope.html",
        {
            "customer": customer,
            "connection": connection,
            "several": len(selectors.connections_of(customer)) > 1,
            "form": form,
            "errors": form.error_summary() if form.is_bound else [],
            "live": live,
        },
        status=400 if form.is_bound else 200,
    )
