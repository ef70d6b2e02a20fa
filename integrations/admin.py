from django.contrib import admin

from integrations.admin_connections import (
    ClientEntityInline,
    ConnectionAdmin,
    ConnectionAdminForm,
    ScheduleAdmin,
    ScheduleInline,
)
from integrations.admin_issues import IssueAdmin
from integrations.admin_runs import RunAdmin
from integrations.models import Connection, Issue, Run, Schedule

__all__ = ["ClientEntityInline", "ConnectionAdminForm", "ScheduleInline"]

admin.site.register(Connection, ConnectionAdmin)
admin.site.register(Schedule, ScheduleAdmin)
admin.site.register(Run, RunAdmin)
admin.site.register(Issue, IssueAdmin)


# ---- API keys (for SEMINE's machine client of /api/) ------------------------------------------
# The key is shown once, on the page that answers the "add" form, and never again: only its hash
# is stored, and the admin shows neither the hash nor the key. Revoke rather than delete, so the
# record of who created which key stays.

from django.template.response import TemplateResponse  # noqa: E402

from integrations.models import ApiKey  # noqa: E402
from portal.models import AuditEntry  # noqa: E402


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix_display",
        "customer",
        "created_by",
        "created_at",
        "last_used_at",
        "active",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "customer__legal_name"]
    list_select_related = ["customer", "created_by"]
    raw_id_fields = ["customer"]
    fields = [
        "name",
        "customer",
        "prefix_display",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix_display", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_keys"]

    @admin.display(description="key starts with")
    def prefix_display(self, obj):
        return f"{obj.prefix}…" if obj.prefix else "—"

    @admin.display(description="active", boolean=True)
    def active(self, obj):
        return obj.revoked_at is None

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            # Kept on the request only, for response_add below; never stored, logged or messaged.
            request._new_api_key = obj.set_new_key()
        super().save_model(request, obj, form, change)
        AuditEntry.record(
            actor=request.user,
            action="api_key_create" if not change else "api_key_change",
            customer=obj.customer,
            target=str(obj),
            after={"name": obj.name, "prefix": obj.prefix, "customer": obj.customer_id},
        )

    def response_add(self, request, obj, post_url_continue=None):
        plaintext = getattr(request, "_new_api_key", None)
        if plaintext is None:  # pragma: no cover - save_model always sets it
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "api_key": obj,
            "plaintext": plaintext,
            "title": "API key created",
        }
        response = TemplateResponse(request, "admin/integrations/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API keys")
    def revoke_keys(self, request, queryset):
        to_revoke = list(queryset.active())
        revoked = queryset.filter(pk__in=[k.pk for k in to_revoke]).revoke()
        for api_key in to_revoke:
            AuditEntry.record(
                actor=request.user,
                action="api_key_revoke",
                customer=api_key.customer,
                target=str(api_key),
            )
        self.message_user(request, f"Revoked {revoked} API key(s).")
