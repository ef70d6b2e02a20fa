"""Every request of a signed-in user passes here, after Django's authentication middleware.

- `user.is_verified()` and `user.otp_device` as django-otp's own middleware provides them, but
  read from the session: no query per request (a removed factor ends the user's other sessions).
- A user who must show a second factor and has not is sent to show it (or, with none yet, to
  add one) from every page but the few that lead there: no staff page, admin page or API answers
  until then. There is no side door: `/admin/login/` signs in with the password only, and the
  admin pages behind it are held here like every other.
- A staff session ends after a working day, and after idle time (settings).
"""

from functools import partial
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from signin import policy, sessions

# Reachable before the second factor, by everyone who signed in with a password.
ALWAYS_OPEN = (
    "/accounts/logout/",
    "/accounts/verify/",
    "/i18n/",
    "/static/",
    "/health/",
    "/webauthn/authentication/",
    "/webauthn/jsi18n/",
)
# Reachable before the second factor only by someone who has none yet: adding the first one.
ENROLMENT = ("/accounts/security/", "/webauthn/registration/")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = sessions.current_request.set(request)
        try:
            user = request.user
            if not user.is_authenticated:
                return self.get_response(request)
            user.is_verified = partial(policy.is_verified, request)
            if not hasattr(user, "otp_device"):
                user.otp_device = None
            if policy.is_staff_like(user) and sessions.expired(request):
                return self._ended(request)
            if policy.must_verify(request) and not policy.is_verified(request):
                held = self._held(request)
                if held is not None:
                    return held
            return self.get_response(request)
        finally:
            sessions.current_request.reset(token)

    def _held(self, request):
        path = request.path
        if path.startswith(ALWAYS_OPEN):
            return None
        enrolled = policy.has_factor(request.user)
        if not enrolled and path.startswith(ENROLMENT):
            return None
        if path.startswith("/api/") or path == "/metrics":
            return JsonResponse(
                {"detail": "A second factor is required for this session."}, status=403
            )
        target = reverse("signin_verify" if enrolled else "signin_security")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")

    def _ended(self, request):
        next_path = request.get_full_path()
        logout(request)
        messages.info(request, _("Your session has ended. Please sign in again."))
        return redirect(f"{reverse('login')}?{urlencode({'next': next_path})}")
