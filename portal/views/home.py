from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import selectors, services
from portal.models import Customer
from portal.views.access import customer_required


@customer_required
def home(request):
    customer = request.customer
    connection = selectors.connection_of(customer)
    tasks = selectors.onboarding_tasks(customer)
    live = selectors.is_live(customer)
    context = {
        "customer": customer,
        "connection": connection,
        "tasks": tasks,
        "all_done": all(t.done for t in tasks),
        "submitted": customer.onboarding_status == Customer.Status.SUBMITTED,
        "changes_requested": customer.onboarding_status == Customer.Status.CHANGES_REQUESTED,
        "live": live,
    }
    if context["changes_requested"]:
        context["change_request"] = selectors.change_request_comment(customer)
    if live and connection is not None:
        context["health"] = selectors.last_success_by_dataset(connection)
        context["issues"] = selectors.customer_issues(connection)
    return render(request, "portal/home.html", context)


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
