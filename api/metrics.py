"""GET /metrics — the fleet in Prometheus' text format, for SEMINE's monitoring.

One collector reads the database when Prometheus scrapes: each figure is one GROUP BY or one
aggregate, so a scrape costs the same ten queries whether there are ten customers or ten
thousand. Labels are datasets, statuses and issue kinds only — never a customer, a connection or
a token — so the series stay few and nothing about a customer leaves. Every known dataset, status
and kind is present, at 0 when there is none, so an alert on a series never waits for it to exist.

Protected like the JSON API (api/auth.py): an API key in `Authorization: Bearer <key>` or
`X-Api-Key: <key>`, a 401 without a valid one. API keys have no scopes; a key limited to one
customer is a 403 here, since the figures add up every customer.
"""

import logging
from datetime import timedelta
from itertools import product

from django.db.models import Count, Min, Sum
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from api.auth import api_key_of
from integrations import retention
from integrations.datasets import Dataset
from integrations.dispatch import due_schedules
from integrations.models import (
    Connection,
    DispatcherTick,
    Invoice,
    Issue,
    RequestUsage,
    Run,
)

logger = logging.getLogger(__name__)

RECENT = timedelta(hours=24)
# The outbox: invoices not yet settled one way or the other (sent and cancelled are final).
OPEN_INVOICE_STATUSES = (
    Invoice.Status.PENDING,
    Invoice.Status.IN_DOUBT,
    Invoice.Status.SENDING,
    Invoice.Status.REJECTED,
)


def gauge(name, documentation, labels, values: dict, known=()) -> GaugeMetricFamily:
    """A gauge with one sample per label-value tuple: those in `values`, and every `known` one
    (0 when `values` has none)."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key in sorted({*known, *values}):
        family.add_metric(list(key), values.get(key, 0))
    return family


def seconds(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0)


class FleetCollector:
    """The sync engine's figures across every customer. `now` is fixed in tests."""

    def __init__(self, now=None):
        self.now = now

    def collect(self):
        now = self.now or timezone.now()
        yield from self.runs(now)
        yield from self.dispatcher(now)
        yield from self.tasks()
        yield from self.outbox(now)
        yield from self.usage(now)
        yield from self.issues()
        yield from self.connections()

    def runs(self, now):
        recent = (
            Run.objects.filter(queued_at__gt=now - RECENT, queued_at__lte=now)
            .values_list("dataset", "status")
            .annotate(n=Count("id"), quiet=Count("id", filter=retention.QUIET))
            .order_by()
        )
        counts, quiet = {}, {}
        for dataset, status, n, q in recent:
            counts[(dataset, status)] = n
            quiet[(dataset,)] = quiet.get((dataset,), 0) + q
        yield gauge(
            "semine_runs_last_24h",
            "Runs queued in the last 24 hours, by dataset and status.",
            ["dataset", "status"],
            counts,
            known=product(Dataset.values, Run.Status.values),
        )
        yield gauge(
            "semine_quiet_runs_last_24h",
            "Of those, the quiet ones: scheduled successes that changed and rejected nothing "
            "(read from the runs still kept: they are rolled up after RUN_QUIET_KEEP_HOURS).",
            ["dataset"],
            quiet,
            known=product(Dataset.values),
        )
        active = (
            Run.objects.filter(status__in=Run.ACTIVE_STATUSES)
            .values_list("dataset", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        yield gauge(
            "semine_runs_active",
            "Runs queued or running now, by dataset and status.",
            ["dataset", "status"],
            {(dataset, status): n for dataset, status, n in active},
            known=product(Dataset.values, [str(s) for s in Run.ACTIVE_STATUSES]),
        )

    def dispatcher(self, now):
        tick = DispatcherTick.last()
        if tick is not None:  # no tick yet on a fresh install: nothing to age (see /health/)
            yield GaugeMetricFamily(
                "semine_dispatcher_last_tick_age_seconds",
                "Seconds since the dispatcher last ticked.",
                value=seconds(now - tick.ticked_at),
            )
            yield GaugeMetricFamily(
                "semine_dispatcher_last_tick_duration_seconds",
                "How long the dispatcher's last tick took.",
                value=tick.duration_ms / 1000,
            )
        # What the dispatcher would claim now (enabled, due, live healthy connection, no run of
        # that dataset under way): the oldest of it has waited this long.
        oldest = due_schedules(now).aggregate(oldest=Min("next_run_at"))["oldest"]
        yield GaugeMetricFamily(
            "semine_dispatcher_lag_seconds",
            "Seconds the most overdue schedule has waited to be claimed (0 when none is due).",
            value=seconds(now - oldest) if oldest else 0.0,
        )

    def tasks(self):
        from django_q.brokers import get_broker

        try:
            queued = get_broker().queue_size()
        except Exception:  # Redis down: the other figures still matter, and say so themselves
            logger.warning("Metrics: could not read the task queue's length", exc_info=True)
            return
        yield GaugeMetricFamily(
            "semine_tasks_queued",
            "django-q2 tasks waiting for a worker (the broker's queue length).",
            value=queued,
        )

    def outbox(self, now):
        rows = (
            Invoice.objects.filter(status__in=OPEN_INVOICE_STATUSES)
            .values_list("status")
            .annotate(n=Count("id"), oldest=Min("created_at"))
            .order_by()
        )
        counts, oldest_pending = {}, None
        for status, n, oldest in rows:
            counts[(status,)] = n
            if status == Invoice.Status.PENDING:
                oldest_pending = oldest
        yield gauge(
            "semine_outbox_invoices",
            "Invoices in the outbox not yet sent or cancelled, by status.",
            ["status"],
            counts,
            known=[(str(status),) for status in OPEN_INVOICE_STATUSES],
        )
        yield GaugeMetricFamily(
            "semine_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending invoice arrived (0 when none is pending).",
            value=seconds(now - oldest_pending) if oldest_pending else 0.0,
        )

    def usage(self, now):
        month = timezone.localdate(now).replace(day=1)  # as integrations.services.usage_add
        total = RequestUsage.objects.filter(month=month).aggregate(n=Sum("requests"))["n"]
        yield GaugeMetricFamily(
            "semine_xledger_requests_this_month",
            "Xledger requests made this calendar month, all connections together.",
            value=total or 0,
        )

    def issues(self):
        rows = (
            Issue.objects.exclude(status=Issue.Status.RESOLVED)
            .values_list("kind")
            .annotate(n=Count("id"))
            .order_by()
        )
        yield gauge(
            "semine_issues_open",
            "Issues not resolved (open, acknowledged or muted), by kind.",
            ["kind"],
            {(kind,): n for kind, n in rows},
            known=product(Issue.Kind.values),
        )

    def connections(self):
        rows = Connection.objects.values_list("status").annotate(n=Count("id")).order_by()
        yield gauge(
            "semine_connections",
            "Xledger connections, by status.",
            ["status"],
            {(status,): n for status, n in rows},
            known=product(Connection.Status.values),
        )


def unauthorized() -> JsonResponse:
    """The API's own 401 (api/__init__.py)."""
    response = JsonResponse({"detail": "Unauthorized"}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@csrf_exempt  # an API key, not a cookie: a POST is a 405, not a CSRF failure
@require_GET
@never_cache
def metrics(request):
    api_key = api_key_of(request)
    if api_key is None:
        return unauthorized()
    if api_key.customer_id is not None:
        detail = "This key is limited to one customer; the metrics add up every customer."
        return JsonResponse({"detail": detail}, status=403)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
