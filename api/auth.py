"""Who may call the JSON API: SEMINE's machine client, with an API key
(see integrations/models/api_keys.py).

The key comes as `Authorization: Bearer <key>` or, for clients that cannot set that header,
`X-Api-Key: <key>`. A missing, unknown or revoked key is a 401; a key limited to another customer
sees that customer, and its connections, as not existing (404), so keys cannot probe which
customers exist.

`connection_for` is where every read and the invoice intake find the connection a call addresses.
"""

from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from ninja.errors import HttpError, ValidationError
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


def api_key_of(request) -> ApiKey | None:
    """The active key a request carries in either header, or None: the API's own check, for
    plain Django views outside ninja (/metrics)."""
    for auth in API_KEY_AUTH:
        api_key = auth(request)
        if api_key is not None:
            return api_key
    return None


def served_connections():
    """The connections the API serves: in use (not removed by staff) and live.

    Live is `live_since` set by go-live. A customer marked live by hand (seeded, or set live in
    the admin) never went through go-live: its first connection counts as live too, but not a
    connection added later, which goes live on its own approval.
    """
    earlier = Connection.objects.filter(customer_id=OuterRef("customer_id"), pk__lt=OuterRef("pk"))
    marked_live = Q(customer__onboarding_status=Customer.Status.LIVE) & ~Exists(earlier)
    return Connection.objects.current().filter(Q(live_since__isnull=False) | marked_live)


def connections_visible_to(request):
    """The served connections the calling key may read (a key may be limited to one customer)."""
    connections = served_connections()
    if request.auth.customer_id is not None:
        connections = connections.filter(customer_id=request.auth.customer_id)
    return connections


def several_connections_error(connections: list[Connection]) -> ValidationError:
    which = ", ".join(
        f"connection {c.pk} is owner entity {c.owner_entity_id} ({c.environment})"
        for c in connections
    )
    message = (
        f"This customer has {len(connections)} Xledger connections: name one with "
        f"/api/connections/{{connection_id}}/… instead of /api/customers/{{customer_id}}/…; "
        f"{which}."
    )
    return ValidationError(
        [{"loc": ["path", "customer_id"], "msg": message, "type": "several_connections"}]
    )


def offboarded_connections_visible_to(request):
    """Connections SEMINE offboarded (until their data is erased) that the key may read."""
    gone = Connection.objects.filter(removed_at__isnull=False)
    if request.auth.customer_id is not None:
        gone = gone.filter(customer_id=request.auth.customer_id)
    return gone


def _gone(connection=None, customer_id=None) -> HttpError:
    """410 Gone, saying so: an offboarded connection or customer refuses for good, unlike a
    connection not live yet (404)."""
    if connection is not None:
        return HttpError(
            410,
            f"Connection {connection.pk} (owner entity {connection.owner_entity_id}) was "
            f"offboarded on {connection.removed_at:%Y-%m-%d}: it accepts no invoices and serves "
            "no data; its invoices' statuses stay readable until its data is erased.",
        )
    return HttpError(
        410,
        f"Customer {customer_id} was offboarded: it accepts no invoices and serves no data; its "
        "invoices' statuses stay readable until its data is erased.",
    )


def connection_for(
    request,
    *,
    customer_id: int | None = None,
    connection_id: int | None = None,
    offboarded: bool = False,
):
    """The live connection a call addresses, by its id or by its customer's id. One query.

    A connection the key may not read, or that is not live (not yet approved), is a 404, as is a
    customer without a live connection. One SEMINE offboarded is a 410 saying so, except for the
    calls that read its invoices' statuses (`offboarded=True`), which still answer until its
    data is erased. A customer with several live connections is a 422 naming them: which one is
    meant must be said with its connection id.
    """
    connections = connections_visible_to(request).select_related("customer")
    gone = offboarded_connections_visible_to(request).select_related("customer")
    if connection_id is not None:
        connection = connections.filter(pk=connection_id).first()
        if connection is None:
            connection = gone.filter(pk=connection_id).first()
            if connection is None:
                raise Http404
            if not offboarded:
                raise _gone(connection)
        return connection
    found = list(connections.filter(customer_id=customer_id).order_by("pk"))
    if not found:
        found = list(gone.filter(customer_id=customer_id, customer__offboarded_at__isnull=False))
        if not found:
            raise Http404
        if not offboarded:
            raise _gone(customer_id=customer_id)
    if len(found) > 1:
        raise several_connections_error(found)
    return found[0]
