"""Asking for a new API token: staff never handle one, they send a replace-token link.

A project manager or support (with the connection change permission) sends one of the customer's
users or contacts, or any address typed in (the IT partner), a single-use, expiring link to the
token page of one live connection (`portal.token_links.TokenLink`); whoever holds it pastes the
new token there, where it is checked with Xledger before it replaces the working one
(`portal.services.connection_replace_token`). Staff see the links' states and may revoke one.
Both actions are in the audit log; the raw link exists only in the e-mail.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import emails
from portal.golive import require_permission
from portal.models import AuditEntry, Contact
from portal.token_links import TokenLink

SEND_PERMISSION = "integrations.change_connection"


def _target(connection, email) -> str:
    owner = connection.owner_entity_id if connection.owner_entity_id is not None else "?"
    return f"{email} · owner entity {owner}"


def token_link_recipients(connection) -> list[tuple[str, str]]:
    """The people of the connection's customer a link may be sent to, as (e-mail, label): its
    active users, then its contacts; each address once."""
    users = (
        get_user_model()
        .objects.filter(membership__customer=connection.customer, is_active=True)
        .exclude(email="")
        .order_by("email")
    )
    choices = {}
    for user in users:
        name = user.get_full_name()
        label = f"{name} <{user.email}>" if name else user.email
        choices.setdefault(user.email.lower(), (user.email, label))
    for contact in Contact.objects.filter(customer=connection.customer).order_by("role", "email"):
        if contact.email:
            label = f"{contact.name} <{contact.email}> ({contact.get_role_display()})"
            choices.setdefault(contact.email.lower(), (contact.email, label))
    return list(choices.values())


def token_link_send(*, connection, email: str, language: str, message: str, by) -> TokenLink:
    """Create a replace-token link to `connection` for `email` and e-mail it, in `language`.

    Only for a live connection in use: before go-live the customer enters the token on their own
    token page, and a removed connection has no token to replace."""
    require_permission(by, SEND_PERMISSION)
    if connection.is_removed:
        raise ValidationError(_("This connection was removed; its history is kept, nothing more."))
    if not connection.is_live:
        raise ValidationError(
            _(
                "This connection is not live: before go-live the customer enters the token on "
                "their own token page."
            )
        )
    with transaction.atomic():
        link = TokenLink(
            connection=connection,
            email=email,
            language=language,
            message=message,
            created_by=by,
        )
        raw = link.issue_token()
        link.save()
        AuditEntry.record(
            actor=by,
            action="token_link_send",
            customer=connection.customer,
            target=_target(connection, email),
            after={
                "connection": connection.pk,
                "email": email,
                "language": language,
                "expires_at": link.expires_at.isoformat(),
            },
            comment="A replace-token link; the link itself is never recorded.",
        )
    emails.send_token_link(link, raw)
    return link


def token_link_revoke(*, link: TokenLink, by) -> TokenLink:
    """The link stops working at once (a used link is left as it is: nothing to revoke)."""
    require_permission(by, SEND_PERMISSION)
    if link.used_at:
        raise ValidationError(_("This link was used already; there is nothing to revoke."))
    if not link.revoked_at:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        AuditEntry.record(
            actor=by,
            action="token_link_revoke",
            customer=link.connection.customer,
            target=_target(link.connection, link.email),
            after={"connection": link.connection_id, "email": link.email},
        )
    return link
