"""Single sign-on for staff with SEMINE's identity provider (OpenID Connect), through
mozilla-django-oidc, configured by settings (see the README, "Single sign-on for staff").

- The provider is found from its issuer URL (`SSO_OIDC_ISSUER` + `/.well-known/openid-
  configuration`, read when first needed and kept for an hour), not from endpoints typed in.
- The ID token is checked as the library does (signature from the provider's keys, nonce, expiry)
  and for its issuer and audience too; PKCE is on.
- A user is matched by verified e-mail address. New staff are created with the role the
  provider's role claim maps to (`SSO_ROLE_CLAIM`, `SSO_PROJECT_MANAGER_ROLES`,
  `SSO_SUPPORT_ROLES`); at every sign-in the roles are set to what the claim says now, so a user
  whose group was removed loses the role. Someone with no mapped role is refused, and so is a
  customer's user (single sign-on is for SEMINE's staff).
- When `SSO_IDP_MFA_COUNTS` is on, the provider's second factor counts: the session is verified
  unless the ID token's `amr` says only a password was used.
"""

import logging
import time

import httpx
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from portal.models import AuditEntry
from portal.roles import PROJECT_MANAGERS, SUPPORT
from signin import policy

log = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 3600
# `amr` values (RFC 8176) that mean more than a password was used.
MFA_AMR = {"mfa", "otp", "hwk", "swk", "sms", "tel", "fpt", "face", "iris", "retina", "vbm", "sc"}
_discovered: dict[str, tuple[float, dict]] = {}


def enabled() -> bool:
    return bool(settings.SSO_OIDC_ISSUER and settings.SSO_OIDC_CLIENT_ID)


def discovery() -> dict:
    issuer = settings.SSO_OIDC_ISSUER.rstrip("/")
    cached = _discovered.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    document = response.json()
    if document.get("issuer", "").rstrip("/") != issuer:
        raise SuspiciousOperation("The provider's discovery document names another issuer.")
    _discovered[issuer] = (time.monotonic(), document)
    return document


def roles_from(claims: dict) -> set[str]:
    """The staff groups the provider's role claim maps to."""
    values = claims.get(settings.SSO_ROLE_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    values = {str(v) for v in values}
    roles = set()
    if values & set(settings.SSO_PROJECT_MANAGER_ROLES):
        roles.add(PROJECT_MANAGERS)
    if values & set(settings.SSO_SUPPORT_ROLES):
        roles.add(SUPPORT)
    return roles


def idp_mfa_counts(id_token_claims: dict) -> bool:
    if not settings.SSO_IDP_MFA_COUNTS:
        return False
    amr = id_token_claims.get("amr")
    if amr is None:
        return True  # the provider is trusted to enforce its own second factor
    return bool(set(amr if isinstance(amr, list) else [amr]) & MFA_AMR)


class StaffSingleSignOn(OIDCAuthenticationBackend):
    """The authentication backend of the OpenID Connect callback."""

    def __init__(self, *args, **kwargs):  # the endpoints are read from discovery when needed
        self.OIDC_RP_CLIENT_ID = settings.SSO_OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.SSO_OIDC_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = get_user_model()

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self):
        return discovery()["token_endpoint"]

    @property
    def OIDC_OP_USER_ENDPOINT(self):
        return discovery()["userinfo_endpoint"]

    @property
    def OIDC_OP_JWKS_ENDPOINT(self):
        return discovery()["jwks_uri"]

    def authenticate(self, request, **kwargs):
        if not enabled() or request is None or "code" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if str(payload.get("iss", "")).rstrip("/") != settings.SSO_OIDC_ISSUER.rstrip("/"):
            raise SuspiciousOperation("The ID token was issued by another provider.")
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is meant for another client.")
        if kwargs.get("nonce") is not None:  # the ID token, not a signed userinfo response
            self.request.signin_id_token_claims = payload
        return payload

    def verify_claims(self, claims):
        return bool(claims.get("email")) and claims.get("email_verified") is True

    def filter_users_by_claims(self, claims):
        email = claims["email"].strip().lower()
        return self.UserModel.objects.filter(username__iexact=email) | (
            self.UserModel.objects.filter(email__iexact=email)
        )

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None:
            self.request.signin_sso_roles = sorted(roles_from(self._claims))
        return user

    def get_userinfo(self, access_token, id_token, payload):
        claims = dict(super().get_userinfo(access_token, id_token, payload))
        # The role claim may come in the ID token only.
        claims.setdefault(settings.SSO_ROLE_CLAIM, payload.get(settings.SSO_ROLE_CLAIM))
        self._claims = claims
        return claims

    @transaction.atomic
    def create_user(self, claims):
        roles = roles_from(claims)
        if not roles:
            log.info("Single sign-on refused: no staff role in the provider's claim.")
            return None
        email = claims["email"].strip().lower()
        user = self.UserModel.objects.create_user(email, email=email, is_staff=True)
        user.set_unusable_password()
        user.first_name = str(claims.get("given_name", ""))[:150]
        user.last_name = str(claims.get("family_name", ""))[:150]
        user.save()
        user.groups.add(*Group.objects.filter(name__in=roles))
        AuditEntry.record(
            actor=user, action="sso_staff_created", target=email, after={"roles": sorted(roles)}
        )
        return user

    @transaction.atomic
    def update_user(self, user, claims):
        if hasattr(user, "membership"):
            log.info("Single sign-on refused: the account is a customer's user.")
            return None
        roles = roles_from(claims)
        staff_groups = Group.objects.filter(name__in=[PROJECT_MANAGERS, SUPPORT])
        before = set(user.groups.filter(pk__in=staff_groups).values_list("name", flat=True))
        if roles != before:
            user.groups.remove(*[g for g in staff_groups if g.name not in roles])
            user.groups.add(*[g for g in staff_groups if g.name in roles])
            AuditEntry.record(
                actor=user,
                action="sso_roles_changed",
                target=user.get_username(),
                before={"roles": sorted(before)},
                after={"roles": sorted(roles)},
            )
        is_staff = bool(roles) or user.is_superuser
        if user.is_staff != is_staff:
            user.is_staff = is_staff
            user.save(update_fields=["is_staff"])
        if not roles and not user.is_superuser:
            log.info("Single sign-on refused: no staff role in the provider's claim.")
            return None
        return user


class SignIn(OIDCAuthenticationRequestView):
    """Where the login page's "Sign in with SEMINE" button goes: off to the provider."""

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.SSO_OIDC_CLIENT_ID

    @property
    def OIDC_OP_AUTH_ENDPOINT(self):
        return discovery()["authorization_endpoint"]

    def get(self, request):
        if not enabled():
            raise Http404
        return super().get(request)


class Callback(OIDCAuthenticationCallbackView):
    def get(self, request):
        if not enabled():
            raise Http404
        return super().get(request)

    def login_success(self):
        response = super().login_success()
        request = self.request
        claims = getattr(request, "signin_id_token_claims", {}) or {}
        counted = idp_mfa_counts(claims)
        if counted:
            request.session[policy.VERIFIED_BY_SSO] = True
        AuditEntry.record(
            actor=self.user,
            action="sso_sign_in",
            target=self.user.get_username(),
            after={
                "roles": getattr(request, "signin_sso_roles", []),
                "provider_mfa_counted": counted,
            },
        )
        return response

    def login_failure(self):
        messages.error(
            self.request,
            _(
                "Single sign-on did not sign you in. Your SEMINE account may have no role in "
                "Semine Connect; ask your administrator."
            ),
        )
        return HttpResponseRedirect(reverse("login"))
