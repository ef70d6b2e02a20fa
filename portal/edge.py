"""Input refused at the edge, before a view: what no page of ours can take and the framework
would turn into a 500 deeper down.

- A NUL character anywhere in the query string: PostgreSQL text cannot hold one, and the admin's
  list filters pass their values straight to a query. (Not under /api/: the JSON API refuses it
  itself, with a JSON 422 naming the parameter.)
- In the admin, an id that is no id: a query-string value of digits beyond what a database stores
  (SQLite overflows), and a selected row or a many-to-many choice (`_selected_action`,
  `permissions`, `groups`, `user_permissions`) that is not a plain id.

Each answers 400 with a short plain-text reason; nothing else changes.
"""

from django.apps import apps
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest

from portal.ids import MAX_ID, parse_id

ADMIN_ID_LISTS = ("permissions", "groups", "user_permissions")


def _beyond_any_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and (len(value) > 19 or int(value) > MAX_ID)


def _admin_model(path: str):
    """The model of an admin page /admin/<app>/<model>/..., or None."""
    parts = path.strip("/").split("/")
    if len(parts) < 3:
        return None
    try:
        return apps.get_model(parts[1], parts[2])
    except (LookupError, ValueError):
        return None


def _not_a_key(model, value: str) -> bool:
    try:
        key = model._meta.pk.to_python(value)
    except ValidationError:
        return True
    return isinstance(key, int) and parse_id(key) is None


class RefuseUnusableInput:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reason = self.reason(request)
        if reason:
            return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def reason(request) -> str:
        if request.path.startswith("/api/"):
            return ""  # the JSON API checks its own parameters and answers JSON (api/params.py)
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            return "The address contains a NUL character."
        if not request.path.startswith("/admin/"):
            return ""
        for _key, values in request.GET.lists():
            if any(_beyond_any_id(v) for v in values):
                return "A number in the address is beyond any id."
        if request.method == "POST":
            for name in ADMIN_ID_LISTS:
                if any(parse_id(v) is None for v in request.POST.getlist(name)):
                    return f"{name}: every value must be an id."
            selected = request.POST.getlist("_selected_action")
            model = _admin_model(request.path) if selected else None
            if model is not None and any(_not_a_key(model, v) for v in selected):
                return "_selected_action: every value must be a row of this list."
        return ""
