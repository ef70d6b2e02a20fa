from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from api import api
from api import index as api_index
from api import not_found as api_not_found
from api.health import health
from api.metrics import metrics
from portal.views import (
    auth,
    client_information,
    home,
    invitations,
    it_partners,
    scope,
    staff,
    token_links,
    xledger,
)
from portal.views.access import it_partner_allowed

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api_index, name="api_index"),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),  # Prometheus' default path, API key required
    # Customer onboarding. No customer ids in these URLs: the customer is the user's own.
    # `it_partner_allowed`: the pages the customer's IT partner may use too (the token step).
    path("", it_partner_allowed(home.home), name="home"),
    path("confirm/", home.confirm, name="confirm_setup"),
    path("intervals/request/", home.interval_request, name="interval_request"),
    path("client-information/", client_information.client_information, name="client_information"),
    path(
        "xledger/instructions/",
        it_partner_allowed(xledger.token_instructions),
        name="token_instructions",
    ),
    path("xledger/token/", it_partner_allowed(xledger.token), name="xledger_token"),
    path("xledger/scope/", it_partner_allowed(scope.scope), name="xledger_scope"),
    path("xledger/it-partner/", it_partners.invite, name="it_partner_invite"),
    # One owner entity each: the customer's own connections, by id (others answer 404).
    path(
        "xledger/connections/new/",
        it_partner_allowed(xledger.token),
        {"add": True},
        name="xledger_connection_add",
    ),
    path(
        "xledger/connections/<int:pk>/token/",
        it_partner_allowed(xledger.token),
        name="xledger_connection_token",
    ),
    path(
        "xledger/connections/<int:pk>/scope/",
        it_partner_allowed(scope.scope),
        name="xledger_connection_scope",
    ),
    path(
        "xledger/connections/<int:pk>/remove/",
        xledger.discard,
        name="xledger_connection_discard",
    ),
    path(
        "xledger/connections/<int:pk>/approval/",
        xledger.request_approval,
        name="xledger_connection_approval",
    ),
    path("invitation/<str:token>/", invitations.accept, name="invitation_accept"),
    # A replace-token link e-mailed by staff: the live token page of one connection, no login.
    path("xledger/replace/<str:raw>/", token_links.replace, name="token_link"),
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/", include("signin.urls")),
    path("webauthn/", include("signin.webauthn")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    # Staff: the D01.01 spreadsheet of one customer.
    path("staff/customers/<int:pk>/d01-01.xlsx", staff.export_customer, name="export_customer"),
    # Staff: one person's data (GDPR access and erasure requests).
    path("staff/personal-data/", staff.personal_data, name="personal_data"),
]
