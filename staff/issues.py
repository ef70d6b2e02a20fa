"""The issues inbox: open problems per connection, to acknowledge, mute or resolve.

The engine opens issues and resolves them itself when the cause goes away; staff acknowledge
("someone is on it"), mute ("known, stop telling us"), or resolve by hand. Each change is audited.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from integrations.models import Issue
from portal import operations
from staff.runs import ConnectionFilter, CustomerFilter, owner_entity_column


class IssueStateFilter(admin.SimpleListFilter):
    """Unresolved issues by default: the inbox shows what needs someone."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("unresolved", _("Unresolved")), *Issue.Status.choices, ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or "unresolved"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "unresolved"
        if value == "unresolved":
            return queryset.exclude(status=Issue.Status.RESOLVED)
        if value in Issue.Status.values:
            return queryset.filter(status=value)
        return queryset


class IssueAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "customer",
        "owner_entity",
        "kind",
        "dataset",
        "status",
        "occurrences",
        "opened_at",
        "last_seen_at",
        "acknowledged_by",
    ]
    list_filter = [IssueStateFilter, ConnectionFilter, CustomerFilter, "kind", "dataset"]
    search_fields = ["title", "connection__customer__legal_name", "=connection__owner_entity_id"]
    list_select_related = ["connection__customer", "acknowledged_by"]
    show_full_result_count = False
    actions = ["acknowledge", "mute", "reopen", "resolve", "confirm_mass_deletion"]
    fields = [
        "connection",
        "kind",
        "dataset",
        "status",
        "title",
        "detail",
        "data",
        "occurrences",
        "opened_at",
        "last_seen_at",
        "resolved_at",
        "acknowledged_by",
        "notified_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing is edited by hand; the actions below change the status (audited).
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("integrations.change_issue"):
            return {}
        if not request.user.has_perm("integrations.resync_connection"):
            actions.pop("confirm_mass_deletion", None)
        return actions

    @admin.display(description=_("customer"), ordering="connection__customer__legal_name")
    def customer(self, obj):
        return obj.connection.customer

    @admin.display(description=_("owner entity"), ordering="connection__owner_entity_id")
    def owner_entity(self, obj):
        return owner_entity_column(obj)

    def _set_status(self, request, queryset, status):
        if not request.user.has_perm("integrations.change_issue"):
            raise PermissionDenied
        changed = 0
        for issue in queryset:
            try:
                operations.issue_set_status(issue=issue, status=status, by=request.user)
                changed += 1
            except ValidationError as e:
                self.message_user(request, f"{issue}: {' '.join(e.messages)}", messages.WARNING)
        self.message_user(
            request,
            _("%(n)d issue(s) now %(status)s.")
            % {"n": changed, "status": Issue.Status(status).label},
            messages.SUCCESS,
        )

    @admin.action(description=_("Acknowledge selected issues"))
    def acknowledge(self, request, queryset):
        self._set_status(request, queryset, Issue.Status.ACKNOWLEDGED)

    @admin.action(description=_("Mute selected issues"))
    def mute(self, request, queryset):
        self._set_status(request, queryset, Issue.Status.MUTED)

    @admin.action(description=_("Re-open selected issues"))
    def reopen(self, request, queryset):
        self._set_status(request, queryset, Issue.Status.OPEN)

    @admin.action(description=_("Confirm the held mass deletion (applies it with a full sync)"))
    def confirm_mass_deletion(self, request, queryset):
        if not request.user.has_perm("integrations.resync_connection"):
            raise PermissionDenied
        confirmed = 0
        for issue in queryset.filter(kind=Issue.Kind.MASS_DELETION):
            try:
                operations.issue_confirm_mass_deletion(issue=issue, by=request.user)
                confirmed += 1
            except ValidationError as e:
                self.message_user(request, f"{issue}: {' '.join(e.messages)}", messages.WARNING)
        self.message_user(
            request, _("%(n)d mass deletion(s) confirmed.") % {"n": confirmed}, messages.SUCCESS
        )

    @admin.action(description=_("Resolve selected issues"))
    def resolve(self, request, queryset):
        self._set_status(request, queryset, Issue.Status.RESOLVED)
