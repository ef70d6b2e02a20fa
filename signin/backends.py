"""The second step of a sign-in as an authentication backend, so that django-axes counts and locks
it like the password: a wrong code is a failed login of that account (`user_login_failed`), and
a locked-out account is refused before any code is checked (axes' backend comes first).

It only ever confirms the user already signed in on this request with a password (or single
sign-on): a code alone signs nobody in.
"""

from django.contrib.auth.backends import BaseBackend
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from signin.codes import normalise, recovery_digests


def _stored_form(device, code: str) -> str:
    """A recovery code as the database keeps it (its hash under one of the keys), so that
    django-otp checks, uses up and throttles it as usual."""
    digests = recovery_digests(code)
    stored = StaticToken.objects.filter(device=device, token__in=digests)
    return stored.values_list("token", flat=True).first() or digests[0]


class SecondFactorBackend(BaseBackend):
    def authenticate(self, request, username=None, otp_token=None, **kwargs):
        if request is None or otp_token is None or username is None:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.get_username() != username:
            return None
        code = normalise(otp_token)
        # A code from an app is six ASCII digits; anything else can only be a recovery code.
        # Trying only the devices it can belong to keeps a recovery code from counting as a
        # wrong code against the app (django-otp makes each try after one wait longer).
        app_code = code.isascii() and code.isdigit() and len(code) == 6
        devices = (TOTPDevice if app_code else StaticDevice).objects.filter(
            user=user, confirmed=True
        )
        for device in devices.order_by("pk"):
            if device.verify_token(code if app_code else _stored_form(device, code)):
                request.signin_device = device
                return user
        return None

    def get_user(self, user_id):
        return None  # sessions are restored by the backend that signed the user in
