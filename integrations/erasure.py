"""Erasing connections' data once their retention has run out (issue #19; `portal.erasure` says
when and leaves the record).

Everything of this app that belongs to a connection goes: the mirror, the runs and their daily
roll-ups, the request counts, the Issues, the schedules, the client entities, the invoices with
their lines and PDFs, the scope changes and the interval requests. Which tables that is, is not
a list kept by hand: `erasure_plan` walks the app's models and takes every one with a foreign key
to `Connection`, or to a model that has one (an invoice's lines), so a table added later is erased
too. The `Connection` row itself stays, anonymised (`connections_anonymise`): its owner entity ID,
environment, status and dates are not about a person, and the staff pages and the record refer to
it. The rows of this app that belong to a customer rather than to a connection (its API keys)
go with `customer_rows_erase`.

Bulk and resumable: each table is emptied, children before parents, in chunks of `chunk` rows:
one SELECT of ids and one DELETE per chunk, each in its own transaction. A crash leaves every
chunk deleted or untouched; calling again deletes the rest, and calling once more deletes nothing.
Rows are deleted with `_raw_delete` (no per-row collection nor signals): the plan's order means
no row is left pointing at a deleted one, and `erasure_plan` refuses a model of another app that
points into the plan (it would be left dangling).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Q, Sum

from integrations.models import Connection, Invoice, RequestUsage, Run, RunDay

CHUNK = 5000
# Connections per statement: well under every database's limit on parameters.
IDS_PER_QUERY = 500

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Step:
    """One table to empty: `model`'s rows whose `path` (a lookup ending at a connection) is one of
    the connections erased."""

    model: type[models.Model]
    path: str

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows(self, connection_ids):
        return self.model._base_manager.filter(**{f"{self.path}__in": connection_ids})


def _foreign_keys(model):
    return [f for f in model._meta.concrete_fields if f.many_to_one or f.one_to_one]


def _paths_to_connections(candidates) -> dict:
    """model -> lookup path to its connection, breadth first (a direct key wins over a longer
    path: an invoice is found by its `connection`, not through its client entity)."""
    paths: dict = {Connection: ""}
    frontier = [Connection]
    while frontier:
        found = {}
        for model in candidates:
            if model in paths:
                continue
            for field in _foreign_keys(model):
                if field.related_model in frontier:
                    parent = paths[field.related_model]
                    found[model] = f"{field.name}__{parent}" if parent else field.name
                    break
        paths.update(found)
        frontier = list(found)
    del paths[Connection]
    return paths


def _children_first(planned) -> list:
    """The planned models ordered so that a model comes before every planned model it points at
    (runs before schedules, invoice lines before invoices before client entities)."""
    referrers = defaultdict(set)
    for model in planned:
        for field in _foreign_keys(model):
            if field.related_model in planned and field.related_model is not model:
                referrers[field.related_model].add(model)
    ordered, left = [], set(planned)
    while left:
        ready = sorted((m for m in left if not referrers[m] & left), key=lambda m: m._meta.label)
        if not ready:
            names = ", ".join(sorted(m._meta.label for m in left))
            raise ImproperlyConfigured(f"Erasure: the foreign keys of {names} form a cycle.")
        ordered += ready
        left -= set(ready)
    return ordered


def erasure_plan() -> list[Step]:
    """Every table of this app that holds rows of a connection, children first (see above)."""
    own = [m for m in apps.get_app_config("integrations").get_models() if m is not Connection]
    paths = _paths_to_connections(own)
    planned = set(paths)
    for model in apps.get_models():
        if model in planned or model is Connection:
            continue
        for field in _foreign_keys(model):
            if field.related_model in planned:
                raise ImproperlyConfigured(
                    f"Erasure: {model._meta.label}.{field.name} points at "
                    f"{field.related_model._meta.label}, whose rows are erased; erase it first."
                )
    return [Step(model, paths[model]) for model in _children_first(planned)]


def _groups(ids) -> Iterable[list[int]]:
    ids = sorted(set(ids))
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield ids[start : start + IDS_PER_QUERY]


def _delete_in_chunks(label, queryset, *, chunk, progress) -> int:
    """Delete `queryset`'s rows `chunk` at a time, each chunk (and its `progress` report) in one
    transaction."""
    model = queryset.model
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:chunk])
            if not ids:
                return deleted
            n = model._base_manager.filter(pk__in=ids)._raw_delete(model._base_manager.db)
            if progress and n:
                progress(label, n)
        deleted += n


def connections_erase(*, connection_ids, chunk=CHUNK, progress: Progress | None = None) -> dict:
    """Delete the connections' rows in every table of `erasure_plan`; returns {model label: rows
    deleted} (tables with none left out). `progress(label, n)` is called in each chunk's
    transaction, so a count kept there is exact even after a crash."""
    counts: dict[str, int] = {}
    for step in erasure_plan():
        for ids in _groups(connection_ids):
            n = _delete_in_chunks(step.label, step.rows(ids), chunk=chunk, progress=progress)
            if n:
                counts[step.label] = counts.get(step.label, 0) + n
    return counts


def connections_anonymise(*, connection_ids) -> int:
    """Blank what a kept connection row could say about people: the last token check (its
    entities' names, the Xledger user's), the token (destroyed at offboarding already) and its
    fingerprint. The owner entity ID, environment, status and dates stay. Returns the rows
    changed (none the second time)."""
    changed = 0
    for ids in _groups(connection_ids):
        not_yet = ~Q(verification={}) | ~Q(token_fingerprint="") | Q(api_token__isnull=False)
        changed += (
            Connection.objects.filter(pk__in=ids)
            .filter(not_yet)
            .update(verification={}, token_fingerprint="", api_token=None)
        )
    return changed


def _rows_of_customers():
    """(model, field) of this app's models, other than connections, that belong to a customer."""
    customer_model = Connection._meta.get_field("customer").related_model
    planned = {step.model for step in erasure_plan()}
    return [
        (model, field.name)
        for model in apps.get_app_config("integrations").get_models()
        if model is not Connection and model not in planned
        for field in _foreign_keys(model)
        if field.related_model is customer_model
    ]


def customer_rows_erase(*, customer_ids, chunk=CHUNK, progress: Progress | None = None) -> dict:
    """Delete this app's rows that belong to the customers themselves (their API keys); returns
    {model label: rows deleted}."""
    counts: dict[str, int] = {}
    for model, field in _rows_of_customers():
        label = model._meta.label
        for ids in _groups(customer_ids):
            rows = model._base_manager.filter(**{f"{field}__in": ids})
            n = _delete_in_chunks(label, rows, chunk=chunk, progress=progress)
            if n:
                counts[label] = counts.get(label, 0) + n
    return counts


def connections_summary(*, connection_ids) -> dict:
    """What the connections did, for the anonymised record, read before anything is erased:
    invoices (and how many were sent), runs (rolled-up quiet runs included) and Xledger
    requests (the monthly counts customers are billed on)."""
    ids = sorted(set(connection_ids))
    summary = {"connections": len(ids), "invoices": 0, "invoices_sent": 0, "runs": 0}
    summary["xledger_requests"] = 0
    for group in _groups(ids):
        invoices = Invoice.objects.filter(connection_id__in=group)
        summary["invoices"] += invoices.count()
        summary["invoices_sent"] += invoices.filter(status=Invoice.Status.SENT).count()
        summary["runs"] += Run.objects.filter(connection_id__in=group).count()
        rolled_up = RunDay.objects.filter(connection_id__in=group).aggregate(n=Sum("runs"))["n"]
        summary["runs"] += rolled_up or 0
        requests = RequestUsage.objects.filter(connection_id__in=group).aggregate(
            n=Sum("requests")
        )["n"]
        summary["xledger_requests"] += requests or 0
    return summary
