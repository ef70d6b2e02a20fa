from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import interval_requests, selectors, services
from portal.forms import IntervalRequestForm
from portal.ids import parse_id
from portal.models import Customer
from portal.views.access import customer_required
from portal.views.it_partners import invitation_form

TOKEN_STEP_TASKS = ("token", "owner_and_token")
REFRESH_SECONDS = 5


@customer_required
def home(request):
    if request.it_partner:
        return render(request, "portal/it_partner_home.html", _it_partner_context(request))
    context = _home_context(request)
    # Runs moving without a reload: while one is queued or running the page refreshes itself
    # (no JavaScript needed). Only here, never where a posted form is shown again.
    context["refresh_seconds"] = REFRESH_SECONDS if _runs_active(context) else None
    return render(request, "portal/home.html", context)


def _runs_active(context) -> bool:
    """Whether a run of a shown connection is queued or running (read with the health)."""
    return any(entity["health"] and entity["health"].active for entity in context["owner_entities"])


def _it_partner_context(request):
    """The IT partner's home: the token step's tasks and the owner entities, nothing else."""
    customer = request.customer
    return {
        "customer": customer,
        "tasks": [t for t in selectors.onboarding_tasks(customer) if t.key in TOKEN_STEP_TASKS],
        "connections": selectors.connection_rows(customer),
    }


def _home_context(request, interval_form=None, interval_connection=None):
    customer = request.customer
    connections = selectors.connections_of(customer)
    tasks = selectors.onboarding_tasks(customer)
    live = selectors.is_live(customer)
    context = {
        "customer": customer,
        "connections": selectors.connection_rows(customer),
        "several": len(connections) > 1,
        "all_live": all(connection.is_live for connection in connections),
        "tasks": tasks,
        "all_done": all(t.done for t in tasks),
        "submitted": customer.onboarding_status == Customer.Status.SUBMITTED,
        "changes_requested": customer.onboarding_status == Customer.Status.CHANGES_REQUESTED,
        "live": live,
        "it_partner_form": invitation_form(),
    }
    if context["changes_requested"]:
        context["change_request"] = selectors.change_request_comment(customer)
    # Per owner entity: how it is doing (once live) and the intervals in force.
    health = selectors.connections_health([c for c in connections if c.is_live])
    context["owner_entities"] = [
        {
            "connection": connection,
            "health": health.get(connection.pk),
            "intervals": selectors.intervals_in_force(connection),
        }
        for connection in connections
    ]
    if connections:
        context["interval_form"] = interval_form or _interval_form(
            connections, intervals=[entity["intervals"] for entity in context["owner_entities"]]
        )
        context["interval_connection"] = interval_connection or connections[0]
    return context


def _interval_form(connections, data=None, intervals=None):
    """One form for every owner entity: the datasets any of them syncs (the request names the
    connection, which the service checks the dataset against). `intervals`: each connection's
    `intervals_in_force`, when the caller has read them already."""
    if intervals is None:
        intervals = [selectors.intervals_in_force(connection) for connection in connections]
    datasets = {}
    for rows in intervals:
        for row in rows:
            datasets.setdefault(row["dataset"], row["label"])
    return IntervalRequestForm(data, datasets=list(datasets.items()))


@require_POST
@customer_required
def interval_request(request):
    """Ask the project manager for another interval for one dataset of one of the customer's
    connections (the connection is named in the form, and must be the customer's own)."""
    connection_id = request.POST.get("connection", "")
    if parse_id(connection_id) is None:
        return HttpResponseBadRequest("Which connection?")
    connection = selectors.customer_connection(request.customer, connection_id)
    if connection is None:
        raise Http404("No such connection.")
    form = _interval_form([connection], request.POST)
    if form.is_valid():
        try:
            interval_requests.interval_request_create(
                connection=connection,
                dataset=form.cleaned_data["dataset"],
                interval=form.cleaned_data["interval"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as e:
            for message in e.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("Your request has been sent. SEMINE's project manager will answer it here."),
            )
            return redirect(reverse("home") + "#intervals-title")
    return render(request, "portal/home.html", _home_context(request, form, connection))


@require_POST
@customer_required
def confirm(request):
    try:
        services.customer_confirm_setup(customer=request.customer, by=request.user)
    except services.OnboardingError:
        messages.error(request, _("Finish every task before confirming that the setup is done."))
    else:
        messages.success(
            request, _("Thank you. SEMINE's project manager has been told that the setup is done.")
        )
    return redirect("home")
