"""Business actions on second factors: add an authenticator app, new recovery codes, remove a
factor, and a superuser's reset of another user's factors. Each is audited; none stores or logs
a code in plain text: recovery codes are kept as keyed hashes (`recovery_digests`); an
authenticator app's secret is what django-otp keeps to compute its codes."""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from portal.models import AuditEntry
from signin import policy
from signin.codes import normalise, recovery_digests

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class FactorError(Exception):
    """A change refused with a reason the person can act on."""


def _audit(*, actor, user, action, **after):
    customer = getattr(getattr(user, "membership", None), "customer", None)
    AuditEntry.record(
        actor=actor, action=action, customer=customer, target=user.get_username(), after=after
    )


def kind_of(device) -> str:
    if isinstance(device, TOTPDevice):
        return "totp"
    if isinstance(device, WebAuthnCredential):
        return "passkey"
    return "recovery_codes"


def pending_totp(*, user, device_id=None) -> TOTPDevice:
    """The authenticator app being added: the unconfirmed one this enrolment made, else a new one
    (with a fresh secret)."""
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if device is not None:
            return device
    name = _("Authenticator app") + f" {timezone.localdate():%Y-%m-%d}"
    return TOTPDevice.objects.create(user=user, confirmed=False, name=name)


@transaction.atomic
def confirm_totp(*, user, device: TOTPDevice, code: str) -> bool:
    """Confirm the app with a code it shows; False when the code is not right."""
    if device.user_id != user.pk or device.confirmed:
        return False
    if not device.verify_token(normalise(code)):
        return False
    device.confirmed = True
    device.save()
    TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
    _audit(actor=user, user=user, action="mfa_enrolled", kind="totp", name=device.name)
    return True


def passkey_added(*, user, device) -> None:
    _audit(actor=user, user=user, action="mfa_enrolled", kind="passkey", name=str(device.name))


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def new_recovery_codes(*, user) -> list[str]:
    """Replace the user's recovery codes with new ones, shown once (only their hashes are kept).
    Each works once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_("Recovery codes"), confirmed=True)
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(8)) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=recovery_digests(code)[0]) for code in codes]
    )
    _audit(actor=user, user=user, action="mfa_recovery_codes_made", count=len(codes))
    return [f"{code[:4]}-{code[4:]}" for code in codes]


def recovery_code_used(*, user) -> None:
    _audit(actor=user, user=user, action="mfa_recovery_code_used", left=recovery_codes_left(user))


@transaction.atomic
def remove(*, user, device) -> None:
    """Remove one of the user's own factors. Someone who must use a second factor keeps at least
    one authenticator app or passkey; removing the last one of someone who need not also removes
    the recovery codes (they stood in for it)."""
    if device.user_id != user.pk:
        raise FactorError(_("That is not one of your sign-in methods."))
    others = [d for d in policy.real_devices(user) if d != device]
    if not others and (policy.is_staff_like(user) or policy.customer_requires(user)):
        raise FactorError(
            _(
                "You need at least one authenticator app or passkey. "
                "Add another before you remove this one."
            )
        )
    kind = kind_of(device)
    name = str(device.name)
    device.delete()
    if not others:
        StaticDevice.objects.filter(user=user).delete()
    _audit(actor=user, user=user, action="mfa_removed", kind=kind, name=name)


@transaction.atomic
def reset(*, user, by, reason: str = "", break_glass: bool = False) -> int:
    """Remove every factor of `user` (a superuser's reset, or the break-glass command): at the
    next sign-in they add one again. Returns how many factors were removed."""
    removed = 0
    for model in (TOTPDevice, WebAuthnCredential, StaticDevice):
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    _audit(
        actor=by,
        user=user,
        action="mfa_break_glass" if break_glass else "mfa_reset",
        removed=removed,
        reason=reason,
    )
    return removed
