"""Login with a throttle (10 failed attempts per 15 minutes per username and per IP address)
and password reset by e-mail (5 requests an hour per IP address)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render

from portal import throttle
from portal.forms import LoginForm


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def _subjects(self):
        username = (self.request.POST.get("username") or "").strip().lower()[:150]
        return [("login_ip", throttle.client_ip(self.request)), ("login_user", username)]

    def post(self, request, *args, **kwargs):
        limit, window = settings.THROTTLE_LOGIN_FAILURES
        if any(throttle.is_limited(scope, who, limit) for scope, who in self._subjects() if who):
            return render(
                request,
                "portal/throttled.html",
                {"what": "login", "minutes": int(window.total_seconds() // 60)},
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        _, window = settings.THROTTLE_LOGIN_FAILURES
        for scope, who in self._subjects():
            if who:
                throttle.hit(scope, who, window)
        return super().form_invalid(form)

    def form_valid(self, form):
        throttle.reset("login_user", self._subjects()[1][1])
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by e-mail (no account enumeration), throttled per address so nobody can
    use the portal to flood someone's mailbox."""

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
