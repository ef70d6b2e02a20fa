from django.urls import path

from signin import sso, views

urlpatterns = [
    path("verify/", views.verify, name="signin_verify"),
    path("security/", views.security, name="signin_security"),
    path("security/authenticator/", views.add_totp, name="signin_add_totp"),
    path("security/passkey/", views.add_passkey, name="signin_add_passkey"),
    path("security/recovery-codes/", views.recovery_codes, name="signin_recovery_codes"),
    path("security/<str:kind>/<int:pk>/remove/", views.remove, name="signin_remove"),
    path("sso/", sso.SignIn.as_view(), name="sso_sign_in"),
    path("sso/callback/", sso.Callback.as_view(), name="sso_callback"),
]
