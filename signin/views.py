"""The pages of sign-in security: the second step of a sign-in, and the page where a user adds and
removes their second factors. Thin: the rules are in `signin.policy` and `signin.factors`."""

import segno
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from signin import factors, policy
from signin.forms import CodeForm, TOTPConfirmForm

PENDING_TOTP = "signin_pending_totp"


def _next(request, default="home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def _errors(form) -> list[tuple[str, str, str]]:
    """For the error summary at the top of a page (portal/_errors.html)."""
    return [
        (form[name].auto_id, form[name].label, message)
        for name, messages_ in form.errors.items()
        if name in form.fields
        for message in messages_
    ]


def _may_change_factors(request) -> bool:
    """Verified, or adding the very first factor."""
    return policy.is_verified(request) or not policy.has_factor(request.user)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    if policy.is_verified(request):
        return HttpResponseRedirect(_next(request))
    user = request.user
    if not policy.has_factor(user):
        return redirect(f"{reverse('signin_security')}?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = authenticate(
            request, username=user.get_username(), otp_token=form.cleaned_data["code"]
        )
        if confirmed is not None:
            device = request.signin_device
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                factors.recovery_code_used(user=user)
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; it will not work again. "
                        "%(left)d recovery codes are left."
                    )
                    % {"left": factors.recovery_codes_left(user)},
                )
            return HttpResponseRedirect(_next(request))
        form.add_error(
            "code",
            _(
                "That code is not right. Type the code your app shows now, or a recovery code "
                "you have not used. After a wrong code, each new try must wait a little longer."
            ),
        )
    return render(
        request,
        "signin/verify.html",
        {
            "form": form,
            "errors": _errors(form),
            "next": _next(request),
            "has_passkey": WebAuthnCredential.objects.filter(user=user, confirmed=True).exists(),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def security(request):
    user = request.user
    required = policy.is_staff_like(user) or policy.customer_requires(user)
    return render(
        request,
        "signin/security.html",
        {
            "apps": TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"),
            "passkeys": WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"),
            "codes_left": factors.recovery_codes_left(user),
            "has_factor": policy.has_factor(user),
            "required": required,
            "next": _next(request, default="signin_security"),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def add_totp(request):
    if not _may_change_factors(request):
        return redirect(f"{reverse('signin_verify')}?next={request.path}")
    user = request.user
    device = factors.pending_totp(user=user, device_id=request.session.get(PENDING_TOTP))
    request.session[PENDING_TOTP] = device.pk
    form = TOTPConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if factors.confirm_totp(user=user, device=device, code=form.cleaned_data["code"]):
            request.session.pop(PENDING_TOTP, None)
            if not policy.is_verified(request):
                otp_login(request, device)
            request.session[policy.REQUIRED] = True  # from now on, for every sign-in too
            messages.success(request, _("The authenticator app was added."))
            if factors.recovery_codes_left(user) == 0:
                return _show_codes(request, factors.new_recovery_codes(user=user))
            return HttpResponseRedirect(_next(request, default="signin_security"))
        form.add_error(
            "code",
            _("That code is not right. Check the app's clock, and type the code it shows now."),
        )
    secret = device.config_url.split("secret=")[1].split("&")[0]
    return render(
        request,
        "signin/add_totp.html",
        {
            "form": form,
            "errors": _errors(form),
            "qr": segno.make(device.config_url, error="m").svg_inline(
                scale=5, title=_("QR code for your authenticator app")
            ),
            "secret": secret,
            "secret_grouped": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": _next(request, default="signin_security"),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def add_passkey(request):
    if not _may_change_factors(request):
        return redirect(f"{reverse('signin_verify')}?next={request.path}")
    return render(
        request, "signin/add_passkey.html", {"next": _next(request, default="signin_security")}
    )


@never_cache
@login_required
@require_POST
def recovery_codes(request):
    if not policy.has_factor(request.user) or not policy.is_verified(request):
        return redirect("signin_security")
    return _show_codes(request, factors.new_recovery_codes(user=request.user))


def _show_codes(request, codes):
    return render(  # never cached: the views are never_cache (no-store)
        request,
        "signin/recovery_codes.html",
        {"codes": codes, "next": _next(request, default="signin_security")},
    )


@never_cache
@login_required
@require_POST
def remove(request, kind: str, pk: int):
    if not policy.is_verified(request):
        return redirect(f"{reverse('signin_verify')}?next={reverse('signin_security')}")
    model = {"totp": TOTPDevice, "passkey": WebAuthnCredential}.get(kind)
    device = model.objects.filter(pk=pk, user=request.user).first() if model else None
    if device is None:
        raise Http404
    try:
        factors.remove(user=request.user, device=device)
    except factors.FactorError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("The sign-in method was removed."))
        if not policy.has_factor(request.user) and not policy.is_staff_like(request.user):
            request.session[policy.REQUIRED] = policy.customer_requires(request.user)
    return redirect("signin_security")
