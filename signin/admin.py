"""In the admin: a superuser resets another user's second factors (audited, the user e-mailed,
their sessions ended), and sees whether each user has one. The factors themselves stay out of
the admin: django-otp's own device admins would show TOTP secrets and recovery codes."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnAttestation, WebAuthnCredential

from signin import emails, factors
from signin.sessions import end_other_sessions

User = get_user_model()


@admin.action(description=_("Reset second factors of the selected users"))
def reset_second_factors(modeladmin, request, queryset):
    if not request.user.is_superuser:
        messages.error(request, _("Only a superuser can reset second factors."))
        return
    done = 0
    for user in queryset.exclude(pk=request.user.pk):
        factors.reset(user=user, by=request.user, reason="reset by a superuser in the admin")
        end_other_sessions(user.pk, keep="")
        emails.factors_reset(
            user=user, by_name=request.user.get_full_name() or request.user.get_username()
        )
        done += 1
    if queryset.filter(pk=request.user.pk).exists():
        messages.warning(
            request, _("Your own factors are changed on your Sign-in security page, not here.")
        )
    if done:
        messages.success(
            request,
            _("Reset the second factors of %(n)d users; they were e-mailed and signed out.")
            % {"n": done},
        )


class SigninUserAdmin(UserAdmin):
    actions = [reset_second_factors]
    list_display = [*UserAdmin.list_display, "second_factor"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                has_app=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                has_passkey=Exists(
                    WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True)
                ),
            )
        )

    @admin.display(description=_("second factor"), boolean=True)
    def second_factor(self, obj):
        return bool(obj.has_app or obj.has_passkey)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("reset_second_factors", None)
        return actions


for model in (TOTPDevice, StaticDevice, WebAuthnCredential, WebAuthnAttestation):
    if admin.site.is_registered(model):
        admin.site.unregister(model)

admin.site.unregister(User)
admin.site.register(User, SigninUserAdmin)
