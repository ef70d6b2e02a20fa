"""Who must show a second factor, and whether this session has shown one.

Every staff and superuser account must; a customer's user must when their customer requires it
(`Customer.require_mfa`, set by the project manager) or once they have turned it on themselves
(a confirmed authenticator app or passkey). A session counts as verified when django-otp's
`otp_login` recorded the device it was verified with, or when it was opened by single sign-on
and the identity provider's own second factor counts (`signin.sso`).

What is required is decided at sign-in and kept in the session, so no page pays a query for it;
a change that would change the answer (a role, a factor, the customer's requirement) ends the
user's other sessions (`signin.sessions`).
"""

from django_otp import DEVICE_ID_SESSION_KEY

REQUIRED = "signin_mfa_required"  # a customer user's requirement, decided at sign-in
VERIFIED_BY_SSO = "signin_verified_by_sso"  # the identity provider's MFA counted


def is_staff_like(user) -> bool:
    return bool(user.is_staff or user.is_superuser)


def customer_requires(user) -> bool:
    membership = getattr(user, "membership", None)
    return bool(membership is not None and membership.customer.require_mfa)


def real_devices(user):
    """The confirmed factors that prove who someone is: authenticator apps and passkeys
    (recovery codes only stand in for them)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    return [
        *TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"),
        *WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"),
    ]


def has_factor(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def required_at_sign_in(user) -> bool:
    """Kept in the session at sign-in for users who are not staff."""
    return is_staff_like(user) or customer_requires(user) or has_factor(user)


def must_verify(request) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    return is_staff_like(user) or bool(request.session.get(REQUIRED))


def is_verified(request) -> bool:
    session = request.session
    return bool(session.get(DEVICE_ID_SESSION_KEY) or session.get(VERIFIED_BY_SSO))
