from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from integrations.models import ClientEntity, Connection
from integrations.xledger.verify import DATASET_CHECKS, TOKEN_PAGE
from portal import selectors, services
from portal.forms import ScopeForm, TokenForm
from portal.views.access import customer_required


@customer_required
def token_instructions(request):
    customer = request.customer
    connection = selectors.connection_of(customer)
    environment = connection.environment if connection else Connection.Environment.PRODUCTION
    scopes = [c for c in DATASET_CHECKS if c.required or (c.key == "fixed_assets")]
    return render(
        request,
        "portal/token_instructions.html",
        {
            "customer": customer,
            "environment": environment,
            "read_scopes": [c for c in scopes if not c.write],
            "write_scopes": [c for c in scopes if c.write],
            "token_page": TOKEN_PAGE,
            "urls": {
                Connection.Environment.PRODUCTION: "https://www.xledger.net",
                Connection.Environment.DEMO: "https://demo.xledger.net",
            },
        },
    )


@never_cache
@sensitive_post_parameters("token")
@customer_required
def token(request):
    customer = request.customer
    connection = selectors.connection_of(customer)
    live = selectors.is_live(customer)
    has_token = bool(connection and connection.has_token)
    initial = {
        "environment": connection.environment if connection else "production",
        "owner_entity_id": connection.owner_entity_id if connection else None,
    }
    form = TokenForm(
        request.POST if request.method == "POST" and not live else None,
        initial=initial,
        has_token=has_token,
    )
    outcome = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            result = services.connection_save_token(
                customer=customer,
                by=request.user,
                owner_entity_id=form.cleaned_data["owner_entity_id"],
                environment=form.cleaned_data["environment"],
                token=form.cleaned_data["token"] or None,
            )
            outcome = result.outcome
            if outcome == "verified":
                messages.success(
                    request,
                    _("The token works. Now choose the entities and dimensions to synchronise."),
                )
                return redirect("xledger_scope")
            status = {"throttled": 429, "unreachable": 503, "busy": 503, "error": 502}.get(
                outcome, 200
            )
            connection = selectors.connection_of(customer)
            has_token = connection.has_token
            # A fresh form keeps what was entered (the token stays write-only: it is stored).
            form = TokenForm(
                initial={
                    "environment": connection.environment,
                    "owner_entity_id": connection.owner_entity_id,
                },
                has_token=has_token,
            )
        else:
            status = 400
    errors = form.error_summary() if form.is_bound else []
    window = settings.THROTTLE_TOKEN_CHECKS[1]
    return render(
        request,
        "portal/token.html",
        {
            "customer": customer,
            "connection": connection,
            "form": form,
            "errors": errors,
            "outcome": outcome,
            "checklist": selectors.checklist(connection.verification if connection else None),
            "verification": (connection.verification or {}) if connection else {},
            "live": live,
            "throttle_minutes": int(window.total_seconds() // 60),
        },
        status=status,
    )


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
def scope(request):
    customer = request.customer
    connection = selectors.connection_of(customer)
    verification = (connection.verification or {}) if connection else {}
    if not verification.get("ok"):
        messages.info(request, _("Check the token first; then you can choose the scope."))
        return redirect("xledger_token")
    live = selectors.is_live(customer)
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
            "form": form,
            "errors": form.error_summary() if form.is_bound else [],
            "live": live,
        },
        status=400 if form.is_bound else 200,
    )
