from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from integrations.models import Connection
from integrations.xledger.verify import DATASET_CHECKS, TOKEN_PAGE
from portal import selectors, services
from portal.forms import TokenForm
from portal.views.access import customer_required


@customer_required
def token_instructions(request):
    customer = request.customer
    connection = selectors.connection_of(customer)
    # None before an owner entity is stored: the page then names both environments.
    environment = connection.environment if connection else None
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


def _own_connection(request, pk):
    connection = selectors.customer_connection(request.customer, pk)
    if connection is None:
        raise Http404("No such connection.")
    return connection


@never_cache
@sensitive_post_parameters("token")
@customer_required
def token(request, pk=None, add=False):
    """The owner ID and API token of one owner entity: the customer's first (or a new one when
    there is none) at /xledger/token/, another by id, or a new one ("Add another owner
    entity"). Every owner entity the customer has is listed above the form."""
    customer = request.customer
    if add:
        connection = None
    elif pk is not None:
        connection = _own_connection(request, pk)
    else:
        connection = selectors.connection_of(customer)
    live = bool(connection and connection.is_live)
    if live:
        action = (
            reverse("xledger_token")
            if pk is None
            else reverse("xledger_connection_token", args=[connection.pk])
        )
        return replace_token(request, connection, by=request.user, action=action)
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
            try:
                result = services.connection_save_token(
                    customer=customer,
                    connection=connection,
                    by=request.user,
                    owner_entity_id=form.cleaned_data["owner_entity_id"],
                    environment=form.cleaned_data["environment"],
                    token=form.cleaned_data["token"] or None,
                )
            except services.OwnerEntityTaken as taken:
                form.add_error("owner_entity_id", _owner_taken_message(taken))
                status = 400
            except services.OnboardingError:
                messages.error(request, _("This owner entity cannot be changed now."))
                return redirect("home")
            else:
                outcome = result.outcome
                connection = result.connection
                if outcome == "verified":
                    messages.success(
                        request,
                        _(
                            "The token works. Now choose the entities and dimensions to "
                            "synchronise."
                        ),
                    )
                    # Back to this page (GET): the green checklist, and the next step's button.
                    if pk is None and not add:
                        return redirect("xledger_token")  # the first owner entity's page
                    return redirect("xledger_connection_token", pk=connection.pk)
                status = {"throttled": 429, "unreachable": 503, "busy": 503, "error": 502}.get(
                    outcome, 200
                )
                has_token = connection.has_token
                # A fresh form keeps what was entered (the token stays write-only: stored).
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
    # Further saves go to this connection: /xledger/token/ is the first one's page; a new owner
    # entity, once stored, has a page of its own (saving again must not add another).
    if pk is None and not add:
        action = reverse("xledger_token")
    elif connection is not None:
        action = reverse("xledger_connection_token", args=[connection.pk])
    else:
        action = reverse("xledger_connection_add")
    return render(
        request,
        "portal/token.html",
        {
            "customer": customer,
            "connection": connection,
            "connections": selectors.connection_rows(customer),
            "adding": connection is None and selectors.connection_of(customer) is not None,
            "action": action,
            "form": form,
            "errors": errors,
            "outcome": outcome,
            "checklist": selectors.checklist(connection.verification if connection else None),
            "token_rejected": _token_rejected(connection),
            "verification": (connection.verification or {}) if connection else {},
            "live": live,
            "throttle_minutes": int(window.total_seconds() // 60),
        },
        status=status,
    )


def _token_rejected(connection) -> bool:
    """Did Xledger refuse the token itself (the checklist's "token" check failed)?"""
    checks = ((connection.verification or {}) if connection else {}).get("checks", [])
    return any(c.get("key") == "token" and not c.get("ok") for c in checks)


def replace_token(request, connection, *, by, action, link=None):
    """The token page of a live connection: a new token, checked with Xledger before it
    replaces the working one. Shown to the customer's users (`by`) and to the holder of a
    replace-token `link` (`by` None). A replaced token goes back to this page (GET) with the new
    checklist; a refused one shows the new token's checklist and keeps the working token."""
    form = TokenForm(
        request.POST if request.method == "POST" else None,
        initial={
            "environment": connection.environment,
            "owner_entity_id": connection.owner_entity_id,
        },
        has_token=True,
        replacing=True,
    )
    outcome, verification, status = None, connection.verification or {}, 200
    if form.is_bound:
        if form.is_valid():
            try:
                result = services.connection_replace_token(
                    connection=connection, token=form.cleaned_data["token"], by=by, link=link
                )
            except services.OnboardingError:  # removed, or the link used, meanwhile
                messages.error(request, _("The token can no longer be replaced here."))
                return redirect(action if link is not None else "home")
            outcome = result.outcome
            if outcome == "replaced":
                messages.success(
                    request,
                    _(
                        "The new token works and has replaced the old one. Synchronisation "
                        "resumes within a few minutes."
                    ),
                )
                return redirect(action)  # a used link's page says it was used
            if result.verification is not None:
                verification = result.verification.to_dict()
            status = {"throttled": 429, "unreachable": 503, "busy": 503, "error": 502}.get(
                outcome, 200
            )
            form = TokenForm(initial=form.initial, has_token=True, replacing=True)
        else:
            status = 400
    return render(
        request,
        "portal/token_replace.html",
        {
            "customer": connection.customer,
            "connection": connection,
            "form": form,
            "errors": form.error_summary() if form.is_bound else [],
            "outcome": outcome,
            "checklist": selectors.checklist(verification),
            "verification": verification,
            "checked_now": outcome is not None,
            "action": action,
            "via_link": link is not None,
            "throttle_minutes": int(settings.THROTTLE_TOKEN_CHECKS[1].total_seconds() // 60),
        },
        status=status,
    )


def _owner_taken_message(taken) -> str:
    if taken.same_customer:
        return _(
            "You have connected this owner entity already (see the list above). Each owner "
            "entity is connected once; to change its token, open it from the list."
        )
    return _(
        "This owner entity is already connected to another SEMINE customer; contact your "
        "project manager."
    )


@require_POST
@customer_required
def discard(request, pk):
    """The customer takes back an owner entity that never went live."""
    connection = _own_connection(request, pk)
    try:
        services.connection_discard(connection=connection, by=request.user)
    except services.OnboardingError:
        messages.error(request, _("A live owner entity can be removed by SEMINE staff only."))
    else:
        messages.success(
            request,
            _("Owner entity %(id)s was removed; its token was deleted.")
            % {"id": connection.owner_entity_id},
        )
    return redirect("xledger_token")


@require_POST
@customer_required
def request_approval(request, pk):
    """After go-live: ask SEMINE to take one more owner entity live."""
    connection = _own_connection(request, pk)
    try:
        services.connection_request_approval(connection=connection, by=request.user)
    except services.OnboardingError:
        messages.error(
            request,
            _("Check the token and choose the scope of this owner entity first."),
        )
    else:
        messages.success(
            request,
            _(
                "SEMINE's project manager has been asked to take owner entity %(id)s live. "
                "Your other owner entities keep running meanwhile."
            )
            % {"id": connection.owner_entity_id},
        )
    return redirect("home")
