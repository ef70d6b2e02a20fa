"""The JSON API for SEMINE: one django-ninja `NinjaAPI`, mounted at /api/ by portal/urls.py.

Each area is a router in its own module (customers.py, mirror.py, ...), added at the end of this
file; the mirror lists and the invoice intake are served per connection and per customer
(connections.py). Error shapes for the OpenAPI description are in errors.py, API-key auth in
auth.py.
OpenAPI: /api/openapi.json, docs: /api/docs. DESCRIPTION below is what API users read.
"""

import json
import re

from django.http import Http404, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from api.auth import API_KEY_AUTH

DESCRIPTION = """
Authenticate with an API key from Semine Connect's admin: `Authorization: Bearer <key>`
(or `X-Api-Key: <key>`). Errors are JSON: 401 without a valid key, 404 for what does not exist
or the key may not see, 410 for a connection or customer SEMINE offboarded (it accepts no
invoices and serves no data, for good), 422 with field errors for bad parameters
(`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`). A body is JSON, sent as
`Content-Type: application/json` (415 otherwise); one that is not valid JSON, or is nested more than
32 levels deep, is a 422 with `loc: ["body"]`.

A customer has one Xledger connection per owner entity; `/api/customers` lists each customer
with its live `connections`. Name the connection a call is about with its id:
`/api/connections/{connection_id}/suppliers`, `.../invoices` and so on. The same paths under
`/api/customers/{customer_id}/` address a customer's only connection, and answer 422 (naming the
connection ids) when the customer has several.

Mirror lists (`/api/connections/{id}/suppliers` etc.) answer `{"items": [...], "next_cursor": ...}`,
oldest change first. To stay in step: follow `next_cursor` until it is null, remember the newest
`updatedAt` you saw, and next time ask with `updated_since` a few minutes before it. Items are keyed
by `dbId`, so seeing one twice is harmless; deleted records come as tombstones (`deleted: true`).
"""


JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9.!#$&^_-]+\+)?json")
MAX_JSON_DEPTH = 32  # an invoice is 4 deep (body > lines > [i] > dimensions)


class UnsupportedMediaType(Exception):
    """A body sent as something other than JSON (text/plain, a form): a 415."""


class MalformedBody(ValueError):
    """A request body that is not JSON, or is nested too deep: a 422 (ninja would turn any
    parser error into a bare 400)."""

    def __init__(self, msg="Not valid JSON.", type="json_invalid"):
        super().__init__(msg)
        self.msg, self.type = msg, type


def json_depth(data) -> int:
    """How deep lists and objects nest in `data` (a scalar is 0), without recursion."""
    deepest, pending = 0, [(data, 1)] if isinstance(data, dict | list) else []
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class JsonParser(Parser):
    def parse_body(self, request):
        if not JSON_MEDIA_TYPE.fullmatch((request.content_type or "").lower()):
            raise UnsupportedMediaType(request.content_type)
        too_deep = MalformedBody(f"Nested more than {MAX_JSON_DEPTH} levels deep.", "json_too_deep")
        try:
            data = json.loads(request.body)
        except RecursionError:
            raise too_deep from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise MalformedBody() from exc
        if json_depth(data) > MAX_JSON_DEPTH:
            raise too_deep
        return data


api = NinjaAPI(
    title="Semine Connect API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=API_KEY_AUTH,
    parser=JsonParser(),
)


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    # Only loc/msg/type: pydantic's `ctx` and `input` may hold objects JSON cannot encode, and
    # echoing input back is not useful to a machine client.
    detail = [
        {"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    response = api.create_response(request, {"detail": "Unauthorized"}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(Http404)
def not_found_error(request, exc):
    return api.create_response(request, {"detail": "Not Found"}, status=404)


@api.exception_handler(HttpError)
def http_error(request, exc):
    if isinstance(exc.__cause__, UnsupportedMediaType):
        detail = "Send the body as application/json."
        return api.create_response(request, {"detail": detail}, status=415)
    if isinstance(exc.__cause__, MalformedBody):
        detail = [{"loc": ["body"], "msg": exc.__cause__.msg, "type": exc.__cause__.type}]
        return api.create_response(request, {"detail": detail}, status=422)
    return api.create_response(request, {"detail": exc.message}, status=exc.status_code)


def index(request):
    """/api/ itself: where the description is (ninja's own root view is an HTML 404)."""
    return JsonResponse(
        {
            "title": api.title,
            "version": api.version,
            "openapi": "/api/openapi.json",
            "docs": "/api/docs",
        }
    )


def not_found(request, *args, **kwargs):
    """Any other URL under /api/: a JSON 404 rather than the site's HTML page."""
    return JsonResponse({"detail": "Not Found"}, status=404)


# Imported here, once `api` exists: each area's module registers its operations on import.
from api import connections, customers, invoices, mirror  # noqa: E402

api.add_router("/customers", customers.router)
api.add_router("/customers", mirror.routes.by_customer)
api.add_router("/customers", invoices.routes.by_customer)
api.add_router("/connections", connections.router)
api.add_router("/connections", mirror.routes.by_connection)
api.add_router("/connections", invoices.routes.by_connection)
