"""E-mails that tell people what staff did: go-live approved, changes requested, interval changed.

Each function is called after the change is committed (`transaction.on_commit`), so nobody is told
about something that was rolled back. Messages are plain text and never carry a token.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string

from portal.roles import PROJECT_MANAGERS


def customer_recipients(customer) -> list[str]:
    """The customer's own users and contacts, each address once, in a stable order."""
    addresses = list(
        get_user_model()
        .objects.filter(membership__customer=customer, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    addresses += list(customer.contacts.order_by("role").values_list("email", flat=True))
    seen, result = set(), []
    for address in addresses:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


def project_manager_recipients(customer) -> list[str]:
    """The customer's project manager; every project manager when none is assigned yet."""
    pm = customer.project_manager
    if pm is not None and pm.email:
        return [pm.email]
    return list(
        get_user_model()
        .objects.filter(groups__name=PROJECT_MANAGERS, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )


def _send(template, context, recipients):
    if not recipients:
        return 0
    context = {"base_url": settings.PORTAL_BASE_URL.rstrip("/"), **context}
    subject = render_to_string(f"notifications/{template}_subject.txt", context).strip()
    body = render_to_string(f"notifications/{template}_body.txt", context)
    return send_mail(subject, body, None, recipients)


def notify_golive_approved(customer, *, by=None) -> int:
    return _send("golive_approved", {"customer": customer, "by": by}, customer_recipients(customer))


def notify_changes_requested(customer, *, comment, by=None) -> int:
    return _send(
        "changes_requested",
        {"customer": customer, "comment": comment, "by": by},
        customer_recipients(customer),
    )


def notify_interval_changed(schedule, *, before, after, reason, by=None) -> int:
    customer = schedule.connection.customer
    return _send(
        "interval_changed",
        {
            "customer": customer,
            "schedule": schedule,
            "before": before,
            "after": after,
            "reason": reason,
            "by": by,
        },
        project_manager_recipients(customer),
    )
