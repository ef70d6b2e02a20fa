"""Login, and password reset by e-mail (5 requests an hour per IP address).

Failed logins are throttled by django-axes at the authentication-backend level (see
`portal.throttle` and the AXES_* settings), for this login form and the admin's alike;
`locked_out` is the page it answers a locked-out login with.
"""

from datetime import timedelta

from axes.helpers import get_cool_off
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse

from portal import throttle
from portal.forms import LoginForm


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        from signin import sso

        return super().get_context_data(**kwargs) | {"sso_enabled": sso.enabled()}


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: "too many failed attempts" (429), in the language of the request,
    with the way back to the login form the attempt came from (the portal's or the admin's)."""
    match = getattr(request, "resolver_match", None)
    back = "admin:login" if match is not None and match.app_name == "admin" else "login"
    cool_off = get_cool_off(request) or timedelta(0)
    return render(
        request,
        "portal/throttled.html",
        {
            "what": "login",
            "minutes": int(cool_off.total_seconds() // 60),
            "back_url": reverse(back),
        },
        status=429,
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by e-mail (no account enumeration), throttled per address so nobody can
    use the portal to flood someone's mailbox. Setting a new password does not lift a login
    lockout: the lockout ends with its cool-off, whatever the password is."""

    LIMIT, WINDOW = 5, timedelta(hours=1)

    def post(self, request, *args, **kwargs):
        ip = throttle.client_ip(request)
        if throttle.is_limited("password_reset", ip, self.LIMIT):
            return render(
                request,
                "portal/throttled.html",
                {"what": "password_reset", "minutes": int(self.WINDOW.total_seconds() // 60)},
                status=429,
            )
        throttle.hit("password_reset", ip, self.WINDOW)
        return super().post(request, *args, **kwargs)
