"""The scope of one connection: which client entities (fixed assets per entity) and which
dimensions are synced, and the transaction source invoices are filed under.

Before go-live the customer saves it directly. On a live connection saving asks the project
manager for a scope change (`portal.scope_changes`), or applies it at once where the customer is
set so; the change waiting for an answer is shown, and client entities that appeared in Xledger
after go-live are marked for a decision."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from integrations.models import ClientEntity, ScopeChange
from integrations.xledger import object_kinds
from portal import scope_changes, selectors, services
from portal.forms import ScopeForm
from portal.views.access import customer_required
from portal.views.xledger import _own_connection


def _fixed_assets_dimension(customer, verification) -> list[str]:
    """The object kind the customer named as their fixed-assets dimension, to tick at first:
    found by the number they typed (the kind's dbId, or the number Xledger shows on it where the
    token check learnt it) or by its name; object_kinds.matches holds the rule."""
    return [
        kind["code"]
        for kind in object_kinds.financial_dimensions(verification.get("object_kinds"))
        if kind.get("code")
        and object_kinds.matches(
            kind,
            number=customer.fixed_assets_dimension_code or "",
            name=customer.fixed_assets_dimension_name or "",
        )
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
        request.POST if request.method == "POST" else None,
        verification=verification,
        existing=existing,
        selected=selected,
        fa_default=customer.fixed_assets_apply,
        transaction_source=connection.transaction_source_code,
    )
    if form.is_bound and form.is_valid() and live:
        try:
            change = scope_changes.scope_change_request(
                connection=connection,
                by=request.user,
                entities=form.choices(),
                dimensions=form.cleaned_data["dimensions"],
                transaction_source=form.cleaned_data["transaction_source_code"],
            )
        except ValidationError as e:
            for message in e.messages:
                form.add_error(None, message)
        else:
            if change.status == ScopeChange.Status.APPLIED:
                messages.success(
                    request,
                    _(
                        "The new scope applies now. The next synchronisation of the data it "
                        "touches reads everything again."
                    ),
                )
            else:
                messages.success(
                    request,
                    _(
                        "Sent to your project manager. Nothing changes until they apply it; "
                        "you get an e-mail with their answer."
                    ),
                )
            return redirect("home")
    elif form.is_bound and form.is_valid():
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
    news = scope_changes.scope_news(connection)  # nothing before go-live
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
            "at_once": customer.scope_changes_apply_at_once,
            "pending": news["pending"],
            "pending_changes": scope_changes.pending_described(news["pending"]),
            "new_entity_ids": [row["dbId"] for row in news["new_entities"]],
        },
        status=400 if form.is_bound else 200,
    )
