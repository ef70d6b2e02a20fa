"""The JSON API for SEMINE: one django-ninja `NinjaAPI`, mounted at /api/ by portal/urls.py.

Each area is a router in its own module (customers, the mirror read API, ...), added below.
Every operation needs an API key (see auth.py). Errors are JSON: 401 without a valid key, 404 for
what does not exist or the key may not see, 422 with field errors for bad parameters
(`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`).
OpenAPI: /api/openapi.json, docs: /api/docs.
"""

from django.http import Http404, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from integrations.api.auth import API_KEY_AUTH

api = NinjaAPI(
    title="Semine Connect API",
    version="1",
    description=__doc__,
    urls_namespace="api",
    auth=API_KEY_AUTH,
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
    return api.create_response(request, {"detail": exc.message}, status=exc.status_code)


def not_found(request, *args, **kwargs):
    """Any other URL under /api/: a JSON 404 rather than the site's HTML page."""
    return JsonResponse({"detail": "Not Found"}, status=404)


api.add_router("/customers", "integrations.api.customers.router")
api.add_router("/customers", "integrations.api.mirror.router")
