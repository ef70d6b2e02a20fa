from django.contrib import admin
from django.utils.html import format_html

from portal.admin_customers import ContactInline, CustomerAdmin
from portal.models import AuditEntry, Customer, Membership

__all__ = ["ContactInline", "CustomerAdmin"]

admin.site.register(Customer, CustomerAdmin)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "created_at"]
    list_select_related = ["user", "customer"]
    raw_id_fields = ["user", "customer"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the log is evidence."""

    list_display = ["created_at", "actor", "action", "customer", "target", "change"]
    list_filter = ["action", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["actor", "customer"]
    search_fields = ["target", "customer__legal_name", "actor__username", "comment"]
    show_full_result_count = False
    fields = ["created_at", "actor", "action", "customer", "target", "before", "after", "comment"]
    readonly_fields = fields

    @admin.display(description="before → after")
    def change(self, obj):
        def short(d):
            return ", ".join(f"{k}={v}" for k, v in (d or {}).items())[:120]

        if not obj.before and not obj.after:
            return obj.comment[:120]
        return format_html("{} → {}", short(obj.before) or "–", short(obj.after) or "–")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
