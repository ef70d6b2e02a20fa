"""Run history for support: filters, counts, duration, requests, errors; release a stuck run.

Runs are written by the engine only; here they are read-only. The list stays a constant number of
queries on hundreds of thousands of rows: the customer comes by a join, filters on choices need no
query, and the full result count (a second COUNT over the whole table) is switched off.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from integrations.models import Connection, Run
from portal import operations
from portal.ids import parse_id
from staff.pagination import CappedCountPaginator

RELEASE_PERMISSION = "integrations.release_run"
REFRESH_SECONDS = 5  # how often a list or page showing active runs refreshes itself


class ConnectionFilter(admin.SimpleListFilter):
    """Filter by connection (one owner entity of a customer) without listing thousands of them:
    reached from the customer and connection pages (?connection=<id>), or by searching the
    customer's name."""

    title = _("connection")
    parameter_name = "connection"
    template = "admin/integrations/filter_current_only.html"

    def lookups(self, request, model_admin):
        value = self.value()
        if parse_id(value) is not None:
            connection = Connection.objects.select_related("customer").filter(pk=value).first()
            if connection:
                return [(value, str(connection))]  # the customer and the owner entity
        return []

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        value = self.value()
        if parse_id(value) is not None:
            return queryset.filter(connection_id=parse_id(value))
        return queryset


class CustomerFilter(admin.SimpleListFilter):
    """Filter by customer, all its connections at once (?customer=<id>): reached from the
    customer list and page, never listing the customers."""

    title = _("customer")
    parameter_name = "customer"
    template = "admin/integrations/filter_current_only.html"

    def lookups(self, request, model_admin):
        from portal.models import Customer

        value = self.value()
        if parse_id(value) is not None:
            customer = Customer.objects.filter(pk=value).first()
            if customer:
                return [(value, str(customer))]
        return []  # shown only when in use

    def queryset(self, request, queryset):
        value = self.value()
        if parse_id(value) is not None:
            return queryset.filter(connection__customer_id=parse_id(value))
        return queryset


def short_time(value) -> str:
    """A list column's time: local (Oslo), to the minute, in a fixed narrow form."""
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i") if value else "–"


def owner_entity_column(obj):
    """The owner entity of the row's connection: a customer may have several."""
    owner = obj.connection.owner_entity_id
    return "–" if owner is None else owner


class RunAdmin(admin.ModelAdmin):
    change_form_template = "admin/integrations/run/change_form.html"
    # Narrow enough for a 1,280 px screen with the filters beside it: under the status what
    # started the run and whether it was full, times short and local, the changes under the
    # fetched count, and the error an excerpt with the whole text in its title.
    list_display = [
        "id",
        "customer",
        "owner_entity",
        "dataset",
        "status_display",
        "queued_display",
        "duration_display",
        "fetched_display",
        "requests_display",
        "error_display",
    ]
    list_display_links = ["id"]
    list_filter = [
        ConnectionFilter,
        CustomerFilter,
        "dataset",
        "status",
        "trigger",
        ("queued_at", admin.DateFieldListFilter),
        "full",
    ]
    search_fields = ["connection__customer__legal_name", "=id", "=connection__owner_entity_id"]
    list_select_related = ["connection__customer"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice over 100,000s of rows: no
    paginator = CappedCountPaginator  # nor a count of millions of runs for the page numbers
    list_per_page = 100
    ordering = ["-queued_at"]
    actions = ["release_selected"]
    readonly_fields = [
        "connection",
        "customer",
        "schedule",
        "dataset",
        "trigger",
        "triggered_by",
        "full",
        "status",
        "queued_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "duration_display",
        "worker",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "rejected",
        "requests",
        "pages",
        "rejections",
        "error_kind",
        "error_message",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("customer"), ordering="connection__customer__legal_name")
    def customer(self, obj):
        return obj.connection.customer

    @admin.display(description=_("owner entity"), ordering="connection__owner_entity_id")
    def owner_entity(self, obj):
        return owner_entity_column(obj)

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        started = obj.get_trigger_display()
        if obj.full:
            started = format_html("{} · {}", started, _("full"))
        return format_html("{}<br><small>{}</small>", obj.get_status_display(), started)

    @admin.display(description=_("queued"), ordering="queued_at")
    def queued_display(self, obj):
        return short_time(obj.queued_at)

    @admin.display(description=_("duration"))
    def duration_display(self, obj):
        duration = obj.duration
        if duration is None:
            return "–"
        return f"{duration.total_seconds():.1f} s"

    @admin.display(description=_("fetched"), ordering="fetched")
    def fetched_display(self, obj):
        return format_html(
            '{}<br><small title="created, updated, deleted, rejected">+{} ~{} −{} ✗{}</small>',
            obj.fetched,
            obj.created,
            obj.updated,
            obj.deleted,
            obj.rejected,
        )

    @admin.display(description=_("requests"), ordering="requests")
    def requests_display(self, obj):
        return obj.requests  # the field's own name, "Xledger requests", is a wide header

    @admin.display(description=_("error"))
    def error_display(self, obj):
        if not obj.error_kind and not obj.error_message:
            return ""
        text = f"{obj.error_kind}: {obj.error_message}" if obj.error_kind else obj.error_message
        excerpt = text if len(text) <= 40 else f"{text[:39]}…"
        return format_html('<span title="{}">{}</span>', text, excerpt)

    # --- release a stuck run (support only) ------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(RELEASE_PERMISSION):
            actions.pop("release_selected", None)
        return actions

    @admin.action(description=_("Release selected stuck runs"))
    def release_selected(self, request, queryset):
        if not request.user.has_perm(RELEASE_PERMISSION):
            raise PermissionDenied
        released = 0
        for run in queryset.filter(status__in=Run.ACTIVE_STATUSES):
            operations.run_release_audited(run=run, by=request.user)
            released += 1
        self.message_user(request, _("%(n)d run(s) released.") % {"n": released}, messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/release/",
                self.admin_site.admin_view(self.release_view),
                name="integrations_run_release",
            ),
        ] + super().get_urls()

    def release_view(self, request, object_id):
        if not request.user.has_perm(RELEASE_PERMISSION):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        run = get_object_or_404(Run, pk=object_id)
        try:
            operations.run_release_audited(run=run, by=request.user)
        except ValidationError as e:
            for message in e.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, _("Run released."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:integrations_run_change", args=[run.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            active = obj.status in Run.ACTIVE_STATUSES
            context["can_release"] = request.user.has_perm(RELEASE_PERMISSION) and active
            context["refresh_seconds"] = REFRESH_SECONDS if active else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        """The list refreshes itself while a run it lists (its filters applied) is queued or
        running: one query (`status` is indexed), so support sees runs move without a reload."""
        response = super().changelist_view(request, extra_context)
        cl = (getattr(response, "context_data", None) or {}).get("cl")
        if request.method == "GET" and cl is not None:
            active = cl.queryset.filter(status__in=Run.ACTIVE_STATUSES).exists()
            response.context_data["refresh_seconds"] = REFRESH_SECONDS if active else None
        return response
