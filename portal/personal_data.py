"""One person's data on request (GDPR): what the portal holds about a person, as a file
(article 15), and erasing it without offboarding their customer (article 17).

A person is found by e-mail address, in any case: their account (a customer's user), the
contacts that name them, the invitations and replace-token links sent to them, the audit entries
about them, and suppliers in the mirror with that address (those come from the customer's
Xledger and are synced again: the customer erases them there).

Erasing anonymises the account (it cannot sign in; its history, such as who submitted a setup,
stays, without the person), deletes the contacts and invitations, blanks the links' address, and
redacts the person's address, name and phone in the audit log. It refuses, changing nothing,
when the person is the project or finance contact of a customer still served (name another one
first), or a staff account (removed by a superuser in the admin).
"""

import json
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import Supplier
from portal.golive import require_permission
from portal.invitations import Invitation
from portal.models import AuditEntry, Contact
from portal.token_links import TokenLink

PERMISSION = "portal.offboard_customer"
REDACTED = "[erased]"


def _normalise(email: str) -> str:
    email = (email or "").strip()
    if "@" not in email or len(email) > 254:
        raise ValidationError(_("Enter the person's e-mail address."))
    return email


def _accounts(email):
    return get_user_model().objects.filter(Q(email__iexact=email) | Q(username__iexact=email))


def person_data(*, email: str, by) -> dict:
    """Everything the portal holds about the person with this e-mail address."""
    require_permission(by, PERMISSION)
    email = _normalise(email)
    accounts = list(_accounts(email).select_related("membership__customer"))
    audit = AuditEntry.objects.filter(
        Q(actor__in=accounts)
        | Q(target__icontains=email)
        | Q(comment__icontains=email)
        | Q(before__icontains=email)
        | Q(after__icontains=email)
    )
    ids = {a.pk for a in accounts}
    audit = [
        entry
        for entry in audit.order_by("created_at")
        if entry.actor_id in ids
        or email.lower()
        in json.dumps([entry.target, entry.comment, entry.before, entry.after]).lower()
    ]
    return {
        "email": email,
        "made_at": timezone.now(),
        "accounts": [
            {
                "username": user.username,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "active": user.is_active,
                "staff": user.is_staff,
                "joined": user.date_joined,
                "last_login": user.last_login,
                "customer": getattr(getattr(user, "membership", None), "customer", None)
                and user.membership.customer.legal_name,
                "role": getattr(getattr(user, "membership", None), "role", None),
                "language": getattr(getattr(user, "membership", None), "language", None),
                "second_factors": _factors(user),
            }
            for user in accounts
        ],
        "contacts": [
            {
                "customer": c.customer.legal_name,
                "role": c.get_role_display(),
                "name": c.name,
                "email": c.email,
                "phone": c.phone,
            }
            for c in Contact.objects.filter(email__iexact=email).select_related("customer")
        ],
        "invitations": [
            {
                "customer": i.customer.legal_name,
                "sent_at": i.sent_at,
                "expires_at": i.expires_at,
                "accepted_at": i.accepted_at,
                "revoked_at": i.revoked_at,
            }
            for i in Invitation.objects.filter(email__iexact=email).select_related("customer")
        ],
        "replace_token_links": [
            {
                "customer": link.connection.customer.legal_name,
                "owner_entity_id": link.connection.owner_entity_id,
                "created_at": link.created_at,
                "expires_at": link.expires_at,
                "used_at": link.used_at,
            }
            for link in TokenLink.objects.filter(email__iexact=email).select_related(
                "connection__customer"
            )
        ],
        "audit_entries": [
            {
                "at": entry.created_at,
                "action": entry.action,
                "by_this_person": entry.actor_id in {a.pk for a in accounts},
                "target": entry.target,
                "comment": entry.comment,
            }
            for entry in audit
        ],
        "suppliers_in_xledger_mirrors": [
            {
                "customer_connection": s.connection_id,
                "code": s.code,
                "note": "From the customer's Xledger; synced again. The customer erases it there.",
            }
            for s in Supplier.objects.filter(email__iexact=email)
        ],
    }


def _factors(user) -> list[dict]:
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    return [
        {"kind": "authenticator app", "name": d.name, "created": getattr(d, "created_at", None)}
        for d in TOTPDevice.objects.filter(user=user, confirmed=True)
    ] + [
        {"kind": "passkey", "name": str(d.name), "created": d.created_at}
        for d in WebAuthnCredential.objects.filter(user=user, confirmed=True)
    ]


def person_export(*, email: str, by) -> bytes:
    """The file for an access request: JSON, audited (without the address)."""
    data = person_data(email=email, by=by)
    AuditEntry.record(
        actor=by,
        action="personal_data_exported",
        target=f"{len(data['accounts'])} accounts, {len(data['contacts'])} contacts",
    )
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def _redact(value, secrets: list[str]):
    text = json.dumps(value, ensure_ascii=False)
    for secret in secrets:
        text = re.sub(re.escape(secret), REDACTED, text, flags=re.IGNORECASE)
    return json.loads(text)


@transaction.atomic
def person_erase(*, email: str, by, reason: str, confirmation: str) -> dict:
    require_permission(by, PERMISSION)
    email = _normalise(email)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the person's data is erased (the request, its date)."))
    if (confirmation or "").strip().lower() != email.lower():
        raise ValidationError(_("Type the person's e-mail address again to confirm."))
    accounts = list(_accounts(email).select_for_update())
    if any(user.is_staff or user.is_superuser for user in accounts):
        raise ValidationError(
            _("This is a staff account: a superuser removes it in the admin (Users).")
        )
    contacts = list(Contact.objects.filter(email__iexact=email).select_related("customer"))
    for contact in contacts:
        if contact.role in Contact.REQUIRED_ROLES and not contact.customer.is_offboarded:
            raise ValidationError(
                _(
                    "%(name)s is the %(role)s of %(customer)s, which SEMINE needs. Name another "
                    "one in the customer's client information first; nothing was erased."
                )
                % {
                    "name": contact.name,
                    "role": contact.get_role_display().lower(),
                    "customer": contact.customer.legal_name,
                }
            )
    secrets = (
        [email]
        + [s for c in contacts for s in (c.name, c.phone) if s and len(s) >= 4]
        + [
            s
            for user in accounts
            for s in (user.get_full_name(), user.username)
            if s and len(s) >= 4
        ]
    )
    about = AuditEntry.objects.filter(
        Q(actor__in=accounts)
        | Q(target__icontains=email)
        | Q(comment__icontains=email)
        | Q(before__icontains=email)
        | Q(after__icontains=email)
        | Q(customer__in={c.customer_id for c in contacts})
        | Q(customer__memberships__user__in=accounts)
    ).distinct()
    fields = ["target", "comment", "before", "after"]
    changed = []
    for entry in about.iterator():
        cleaned = {name: _redact(getattr(entry, name), secrets) for name in fields}
        cleaned["target"] = cleaned["target"][:200]
        if any(getattr(entry, name) != value for name, value in cleaned.items()):
            for name, value in cleaned.items():
                setattr(entry, name, value)
            changed.append(entry)
    redacted = AuditEntry.objects.bulk_update(changed, fields, batch_size=500)
    for user in accounts:
        user.username = f"erased-{user.pk}"
        user.email = ""
        user.first_name = user.last_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        _delete_factors(user)
    deleted_contacts = Contact.objects.filter(pk__in=[c.pk for c in contacts]).delete()[0]
    invitations = Invitation.objects.filter(email__iexact=email).delete()[0]
    links = TokenLink.objects.filter(email__iexact=email).update(email=REDACTED)
    result = {
        "accounts_anonymised": len(accounts),
        "contacts_deleted": deleted_contacts,
        "invitations_deleted": invitations,
        "links_blanked": links,
        "audit_entries_redacted": redacted,
    }
    AuditEntry.record(actor=by, action="personal_data_erased", after=result, comment=reason)
    return result


def _delete_factors(user) -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    for model in (TOTPDevice, StaticDevice, WebAuthnCredential):
        model.objects.filter(user=user).delete()
