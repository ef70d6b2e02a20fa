"""The dashboard on the admin index: customers by status, connections (one per Xledger owner
entity; a customer may have several) needing attention or waiting for go-live approval, runs in
the last 24 hours by status. A constant handful of grouped queries, whatever the data volume."""

from datetime import timedelta
from urllib.parse import urlencode

from django import template
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, Issue, Run
from portal.models import Customer

register = template.Library()

ATTENTION_LIMIT = 10


def dashboard_data(user, now=None):
    now = now or timezone.now()
    data = {}
    if user.has_perm("portal.view_customer"):
        counts = dict(
            Customer.objects.order_by()
            .values_list("onboarding_status")
            .annotate(n=Count("pk"))
            .values_list("onboarding_status", "n")
        )
        url = reverse("admin:portal_customer_changelist")
        data["customers"] = [
            {
                "label": label,
                "count": counts.get(value, 0),
                "url": f"{url}?onboarding_status__exact={value}",
            }
            for value, label in Customer.Status.choices
        ]
    if user.has_perm("integrations.view_connection"):
        current = Connection.objects.current()
        totals = current.aggregate(
            connections=Count("pk"), customers=Count("customer_id", distinct=True)
        )
        data["connections_total"] = totals["connections"]
        data["connected_customers"] = totals["customers"]
        open_issue = Issue.objects.filter(
            connection=OuterRef("pk"), status__in=[Issue.Status.OPEN, Issue.Status.ACKNOWLEDGED]
        )
        attention = current.annotate(has_issue=Exists(open_issue)).filter(
            Q(status__in=[Connection.Status.NEEDS_ATTENTION, Connection.Status.PAUSED])
            | Q(has_issue=True)
        )
        data["attention"] = list(
            attention.select_related("customer").order_by("-status_changed_at")[:ATTENTION_LIMIT]
        )
        data["attention_total"] = attention.count()
        # Added after the customer went live, and asked to go live: approved one by one.
        awaiting = current.filter(approval_requested_at__isnull=False, live_since__isnull=True)
        data["awaiting_approval"] = list(
            awaiting.select_related("customer").order_by("approval_requested_at")[:ATTENTION_LIMIT]
        )
        data["awaiting_total"] = awaiting.count()
        data["connections_url"] = reverse("admin:integrations_connection_changelist")
    if user.has_perm("integrations.view_run"):
        since = now - timedelta(hours=24)
        # One count per status, each a range of the (status, queued_at) index, in one query: a
        # GROUP BY over the day's runs (600,000 at 10,000 customers; quiet ones are rolled up
        # only after a day) would read every one of them.
        per_status = [
            Run.objects.filter(status=value, queued_at__gte=since)
            .order_by()
            .values_list("status")
            .annotate(n=Count("*"))
            for value in Run.Status.values
        ]
        counts = dict(per_status[0].union(*per_status[1:], all=True))
        url = reverse("admin:integrations_run_changelist")
        data["runs"] = [
            {
                "label": label,
                "count": counts.get(value, 0),
                "status": value,
                "url": url
                + "?"
                + urlencode(
                    {"status__exact": value, "queued_at__gte": since.isoformat(timespec="seconds")}
                ),
            }
            for value, label in Run.Status.choices
        ]
        data["runs_total"] = sum(counts.values())
    if user.has_perm("integrations.view_issue"):
        data["open_issues"] = Issue.objects.filter(
            status__in=[Issue.Status.OPEN, Issue.Status.ACKNOWLEDGED]
        ).count()
    return data


@register.inclusion_tag("admin/semine_dashboard.html", takes_context=True)
def semine_dashboard(context):
    request = context.get("request")
    if request is None or not request.user.is_staff:
        return {"show": False}
    return {"show": True, **dashboard_data(request.user)}
