"""E-mails that tell people what staff did: go-live approved, changes requested, interval changed.

Each function is called after the change is committed (`transaction.on_commit`), so nobody is told
about something that was rolled back. Messages are plain text and never carry a token.
Customers are written to in their own language (the one each user last read the portal in;
contacts without an account get the language of the customer's first user), project managers
in English.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from integrations.models.schedules import format_interval
from portal.emails import project_manager_addresses


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


def by_language(customer, addresses: list[str]) -> dict[str, list[str]]:
    """The customer's addresses grouped by the language to write to each in."""
    groups: dict[str, list[str]] = {}
    for address in addresses:
        groups.setdefault(customer.language_for(address), []).append(address)
    return groups


def _send(template, context, recipients, *, language="en"):
    if not recipients:
        return 0
    context = {"base_url": settings.PORTAL_BASE_URL.rstrip("/"), **context}
    with translation.override(language):
        subject = render_to_string(f"notifications/{template}_subject.txt", context).strip()
        body = render_to_string(f"notifications/{template}_body.txt", context)
    return send_mail(" ".join(subject.split()), body, None, recipients)


def _send_to_customer(template, customer, context) -> int:
    """One message per language the customer's people read."""
    groups = by_language(customer, customer_recipients(customer))
    return sum(
        _send(template, {"customer": customer, **context}, addresses, language=language)
        for language, addresses in groups.items()
    )


def notify_golive_approved(customer, *, by=None) -> int:
    return _send_to_customer("golive_approved", customer, {"by": by})


def notify_connection_golive_approved(connection, *, by=None) -> int:
    """To the customer: one owner entity added after go-live is live now."""
    return _send_to_customer(
        "connection_golive_approved", connection.customer, {"connection": connection, "by": by}
    )


def notify_changes_requested(customer, *, comment, by=None) -> int:
    return _send_to_customer("changes_requested", customer, {"comment": comment, "by": by})


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
        project_manager_addresses(customer),
    )


def notify_interval_requested(request, schedule) -> int:
    """To the project manager: a customer asks for another interval (answered on its page)."""
    customer = request.connection.customer
    return _send(
        "interval_requested",
        {"customer": customer, "request": request, "current": format_interval(schedule.interval)},
        project_manager_addresses(customer),
    )


def notify_interval_request_answered(request) -> int:
    """To the customer, in their language: the project manager accepted or declined."""
    return _send_to_customer(
        "interval_request_answered", request.connection.customer, {"request": request}
    )


def notify_scope_change_requested(change) -> int:
    """To the project manager: a customer asks to change a live connection's scope (answered on
    the connection's page), or changed it, where their scope changes apply at once."""
    connection = change.connection
    customer = connection.customer
    return _send(
        "scope_change_requested",
        {"customer": customer, "change": change, "connection": connection},
        project_manager_addresses(customer),
    )


def notify_scope_change_answered(change) -> int:
    """To the customer's user who asked, in their language: applied or declined (to the
    customer's people when that user is gone)."""
    customer = change.connection.customer
    context = {"change": change, "connection": change.connection}
    user = change.requested_by
    if user is None or not user.is_active or not user.email:
        return _send_to_customer("scope_change_answered", customer, context)
    return _send(
        "scope_change_answered",
        {"customer": customer, **context},
        [user.email],
        language=customer.language_for(user.email),
    )


def notify_offboarded(customer, *, connections, by=None, whole_customer=False, recipients=None):
    """To the customer's users and contacts, in their language, and to the project manager:
    the connections (or the whole customer) are offboarded, their tokens destroyed here, and how
    to revoke each token in Xledger too. `recipients` are read before the users are signed out."""
    context = {
        "customer": customer,
        "connections": connections,
        "by": by,
        "whole_customer": whole_customer,
    }
    addresses = recipients if recipients is not None else customer_recipients(customer)
    sent = sum(
        _send("offboarded", context, group, language=language)
        for language, group in by_language(customer, addresses).items()
    )
    return sent + _send("offboarded", context, project_manager_addresses(customer))
