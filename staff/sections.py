"""Read-only sections of a connection shown on the customer and connection admin pages:
the verification checklist, entities in scope, per-dataset health, recent runs, open issues and a
small server-rendered chart. Each costs a constant number of queries (per connection: the
customer page shows one block per connection, headed by `connection_label`).
"""

from datetime import UTC, timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from integrations.datasets import Dataset
from integrations.models import Run
from integrations.models.schedules import format_interval
from integrations.selectors import DayTotals, last_success_by_dataset, runs_by_day
from integrations.selectors import open_issues as unresolved_issues


def connection_label(connection) -> str:
    """Which connection, where a customer has several: the owner entity's ID and name, and the
    environment."""
    owner = connection.owner_entity_id if connection.owner_entity_id is not None else "?"
    name = connection.owner_entity_name
    label = _("Owner entity %(id)s") % {"id": owner}
    return f"{label}{f' {name}' if name else ''} ({connection.get_environment_display()})"


def _render(name, context):
    return mark_safe(render_to_string(f"admin/integrations/sections/{name}.html", context))


def runs_url(**params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("admin:integrations_run_changelist") + (f"?{query}" if query else "")


def verification_checklist(connection):
    verification = (connection.verification if connection else None) or {}
    return _render(
        "verification",
        {"connection": connection, "v": verification, "checks": verification.get("checks", [])},
    )


def entities_in_scope(connection):
    """The client entities in scope and the dimensions the customer chose, for the project
    manager to review before go-live (the setup-submitted e-mail asks them to)."""
    entities = list(connection.entities.all()) if connection else []
    return _render(
        "entities",
        {
            "entities": entities,
            "connection": connection,
            "dimensions": chosen_dimensions(connection),
        },
    )


def chosen_dimensions(connection) -> list[dict]:
    """The chosen dimensions (object kinds) by key, with the names the last token check found;
    a key the check did not list (a kind deleted since) is shown with its key alone."""
    if connection is None:
        return []
    kinds = {
        str(kind.get("code")): kind
        for kind in (connection.verification or {}).get("object_kinds", [])
    }
    return [
        {
            "key": key,
            "name": (kinds.get(str(key)) or {}).get("name") or "",
            "number": (kinds.get(str(key)) or {}).get("number") or "",
        }
        for key in connection.selected_dimensions or []
    ]


def health(connection):
    if connection is None:
        return _render("health", {"rows": []})
    last = last_success_by_dataset(connection)  # {dataset: LastSuccess (time, run if kept)}
    active = {
        run.dataset: run
        for run in Run.objects.filter(connection=connection, status__in=Run.ACTIVE_STATUSES)
    }
    rows = []
    for schedule in connection.schedules.all():
        if schedule.dataset == Dataset.FIXED_ASSETS and not connection.customer.fixed_assets_apply:
            continue
        rows.append(
            {
                "schedule": schedule,
                "interval": format_interval(schedule.interval),
                "last_success": last.get(schedule.dataset),
                "active": active.get(schedule.dataset),
                "runs_url": runs_url(connection=connection.pk, dataset__exact=schedule.dataset),
            }
        )
    return _render("health", {"rows": rows, "connection": connection})


def recent_runs(connection, limit=10):
    runs = list(connection.runs.order_by("-queued_at")[:limit]) if connection else []
    return _render(
        "runs",
        {"runs": runs, "all_url": runs_url(connection=connection.pk) if connection else ""},
    )


def open_issues(connection):
    issues = list(unresolved_issues(connection)) if connection else []
    return _render("issues", {"issues": issues})


def run_chart(connection, per_dataset=20, days=14):
    """The newest runs kept in detail, and per day the runs and requests of the last `days` days
    with the rolled-up quiet runs counted in. Three queries."""
    from staff.charts import run_chart_svg

    if connection is None:
        return ""
    runs = list(
        connection.runs.exclude(status__in=Run.ACTIVE_STATUSES)
        .order_by("-queued_at")
        .only(
            "connection_id",
            "dataset",
            "status",
            "started_at",
            "finished_at",
            "fetched",
            "queued_at",
        )[:400]
    )
    by_dataset: dict[str, list] = {}
    for run in runs:
        series = by_dataset.setdefault(run.dataset, [])
        if len(series) < per_dataset:
            series.append(run)
    now = timezone.now()
    totals = runs_by_day(connection, days=days, now=now)
    today = now.astimezone(UTC).date()
    calendar = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    shown = {dataset for dataset, _day in totals} | set(by_dataset)
    ordered = [
        (
            d,
            list(reversed(by_dataset.get(d, []))),
            [(day, totals.get((d, day), DayTotals())) for day in calendar],
        )
        for d in Dataset.values
        if d in shown
    ]
    return mark_safe(run_chart_svg(ordered))
