"""Passkeys and security keys (WebAuthn) through django-otp-webauthn, as a second factor only
(`OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False`): its views, with an audit entry when one is
added, a check that a verified credential is the signed-in user's own, and its browser messages
in Norwegian too (locale/nb/LC_MESSAGES/djangojs.po: LOCALE_PATHS join every catalogue)."""

import json

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions
from django_otp_webauthn import views as library
from django_otp_webauthn.models import WebAuthnCredential

from signin import factors, policy


class CompleteRegistration(library.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        user = self.get_user()
        added = json.loads(response.content).get("id") if response.status_code == 200 else None
        device = WebAuthnCredential.objects.filter(pk=added, user=user).first() if added else None
        if device is not None:
            factors.passkey_added(user=user, device=device)
        if not policy.is_staff_like(user):
            self.request.session[policy.REQUIRED] = True
        return response


class CompleteAuthentication(library.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        if device.user_id != self.request.user.pk:
            raise exceptions.CredentialUserMismatch()
        return super().complete_auth(device)


app_name = "otp_webauthn"
urlpatterns = [
    path(
        "registration/begin/",
        library.BeginCredentialRegistrationView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        CompleteRegistration.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        library.BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        CompleteAuthentication.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
