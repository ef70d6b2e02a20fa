"""E-mails of the onboarding: the invitation, the replace-token link, and the messages to the
project manager.

Plain text, rendered from templates/emails/. None of them ever carries an API token: the
templates are given the customer and the people involved, never the connection's secret.
An invitation goes out in the language the project manager (or, inviting their IT partner, the
customer) chose for it, or in English and Norwegian when none was chosen; a replace-token link
in the language staff chose for it; the project manager's e-mails are in English.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from portal.roles import PROJECT_MANAGERS, CustomerRole


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def admin_customer_url(customer) -> str:
    return absolute(reverse("admin:portal_customer_change", args=[customer.pk]))


def project_manager_addresses(customer) -> list[str]:
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


def _render(name: str, context: dict) -> tuple[str, str]:
    subject = render_to_string(f"emails/{name}_subject.txt", context).strip()
    body = render_to_string(f"emails/{name}_body.txt", context)
    return " ".join(subject.split()), body


def _sender(user) -> str:
    return (user.get_full_name() or user.email or user.get_username()) if user else "SEMINE"


def send_invitation(invitation, raw_token: str) -> int:
    """The link to accept `invitation`; an IT partner's says who at the customer sent it and
    that the account reaches the token step only."""
    context = {
        "invitation": invitation,
        "customer": invitation.customer,
        "link": absolute(reverse("invitation_accept", args=[raw_token])),
        "expires_at": invitation.expires_at,
        "sender": _sender(invitation.created_by),
    }
    name = "it_partner_invitation" if invitation.role == CustomerRole.IT_PARTNER else "invitation"
    if invitation.language:
        with translation.override(invitation.language):
            subject, body = _render(name, context)
        return send_mail(subject, body, None, [invitation.email])
    parts, subjects = [], []
    for language in ("en", "nb"):
        with translation.override(language):
            subject, body = _render(name, context)
        subjects.append(subject)
        parts.append(body.strip())
    return send_mail(
        subjects[0] + " / " + subjects[1],
        "\n\n————————————————\n\n".join(parts) + "\n",
        None,
        [invitation.email],
    )


def _to_project_manager(name: str, customer, context: dict) -> int:
    recipients = project_manager_addresses(customer)
    if not recipients:
        return 0
    context = {"customer": customer, "admin_url": admin_customer_url(customer), **context}
    with translation.override("en"):
        subject, body = _render(name, context)
    return send_mail(subject, body, None, recipients)


def send_it_partner_invited(invitation) -> int:
    """The customer invited their IT partner to the token step: the project manager sees who."""
    return _to_project_manager(
        "it_partner_invited",
        invitation.customer,
        {"invitation": invitation, "by": invitation.created_by},
    )


def send_setup_submitted(customer, *, by) -> int:
    return _to_project_manager("setup_submitted", customer, {"by": by})


def send_connection_submitted(connection, *, by) -> int:
    """A live customer asks for one more owner entity to go live: the link is to its page."""
    return _to_project_manager(
        "connection_submitted",
        connection.customer,
        {
            "connection": connection,
            "by": by,
            "admin_url": absolute(
                reverse("admin:integrations_connection_change", args=[connection.pk])
            ),
        },
    )


def send_setup_changed(customer, *, by, section: str, still_complete: bool) -> int:
    sections = {
        "client_information": "the client information",
        "token": "the owner ID / API token",
        "scope": "the entities and dimensions in scope",
    }
    return _to_project_manager(
        "setup_changed",
        customer,
        {"by": by, "section": sections.get(section, section), "still_complete": still_complete},
    )


def send_token_replaced(connection, *, who: str, resumed: bool) -> int:
    """A customer (or the holder of a replace-token link) replaced a live connection's token."""
    return _to_project_manager(
        "token_replaced",
        connection.customer,
        {
            "connection": connection,
            "who": who,
            "resumed": resumed,
            "paused": connection.status == connection.Status.PAUSED,
            "admin_url": absolute(
                reverse("admin:integrations_connection_change", args=[connection.pk])
            ),
        },
    )


def send_token_link(link, raw_token: str) -> int:
    """A replace-token link, in the language staff chose for it (English when none was)."""
    context = {
        "connection": link.connection,
        "customer": link.connection.customer,
        "link": absolute(reverse("token_link", args=[raw_token])),
        "expires_at": link.expires_at,
        "message": link.message.strip(),
        "sender": _sender(link.created_by),
    }
    with translation.override(link.language or settings.LANGUAGE_CODE):
        subject, body = _render("token_link", context)
    return send_mail(subject, body, None, [link.email])
