"""Who may call the JSON API: SEMINE's machine client, with an API key
(see integrations/models/api_keys.py).

The key comes as `Authorization: Bearer <key>` or, for clients that cannot set that header,
`X-Api-Key: <key>`. A missing, unknown or revoked key is a 401; a key limited to another customer
sees that customer as not existing (404), so keys cannot probe which customers exist.
"""

from django.db.models import Q
from django.http import Http404
from ninja.security import APIKeyHeader, HttpBearer

from integrations.models import ApiKey, Connection
from portal.models import Customer


def key_from_request(plaintext: str | None) -> ApiKey | None:
    api_key = ApiKey.authenticate((plaintext or "").strip())
    if api_key is not None:
        api_key.touch()
    return api_key


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <key>`. Never logs the header (ninja's base class may, in DEBUG)."""

    def __call__(self, request):
        scheme, _, key = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, key)

    def authenticate(self, request, token):
        return key_from_request(token)


class ApiKeyInHeader(APIKeyHeader):
    """`X-Api-Key: <key>`."""

    param_name = "X-Api-Key"

    def authenticate(self, request, key):
        return key_from_request(key)


API_KEY_AUTH = [ApiKeyBearer(), ApiKeyInHeader()]


def live_connection_for(request, customer_id: int) -> Connection:
    """The connection of a live customer the calling key may read, or 404. One query."""
    api_key: ApiKey = request.auth
    if not api_key.may_read(customer_id):
        raise Http404
    connection = (
        Connection.objects.select_related("customer")
        .filter(customer_id=customer_id)
        .filter(Q(live_since__isnull=False) | Q(customer__onboarding_status=Customer.Status.LIVE))
        .first()
    )
    if connection is None:
        raise Http404
    return connection
