"""The provider's users: a JSON file the harness rewrites while the provider runs.

It is read again at every login and every claim, so a test changes a user's groups and the next
sign-in sees it. The Django user row exists only because DOT attaches grants and tokens to one.
"""

import hmac
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from oauth2_provider.oauth2_validators import OAuth2Validator


def directory() -> dict[str, dict]:
    try:
        return json.loads(settings.USERS_FILE.read_text())["users"]
    except FileNotFoundError:
        return {}


class UsersFileBackend:
    def authenticate(self, request, username=None, password=None, **kwargs):
        entry = directory().get(username)
        if entry is None or password is None:
            return None
        if not hmac.compare_digest(entry["password"].encode(), password.encode()):
            return None
        user, _ = get_user_model().objects.update_or_create(
            username=username, defaults={"email": username}
        )
        return user

    def get_user(self, user_id):
        # A user taken out of the file loses their provider session too.
        user = get_user_model().objects.filter(pk=user_id).first()
        return user if user and user.username in directory() else None


class ClaimsValidator(OAuth2Validator):
    # DOT drops every claim whose scope (looked up here) was not granted; unknown claims have
    # none and would never be sent. `groups` travels with `profile`, `amr` with `openid`.
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "profile", "amr": "openid"}

    def get_additional_claims(self, request):
        email = request.user.username
        entry = directory().get(email, {})
        claims = {
            "email": email,
            "email_verified": bool(entry.get("email_verified", False)),
            "groups": list(entry.get("groups", [])),
        }
        if entry.get("amr") is not None:
            claims["amr"] = list(entry["amr"])
        return claims

    def get_discovery_claims(self, request):
        # With a per-request get_additional_claims DOT can only advertise `sub`.
        return ["sub", "email", "email_verified", "groups", "amr"]
