from django.contrib import admin

from portal.models import AuditEntry, Contact, Customer, Membership


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "legal_name",
        "organisation_number",
        "country",
        "onboarding_status",
        "project_manager",
    ]
    list_filter = ["onboarding_status", "country"]
    search_fields = ["legal_name", "organisation_number"]
    list_select_related = ["project_manager"]
    inlines = [ContactInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "created_at"]
    list_select_related = ["user", "customer"]
    raw_id_fields = ["user", "customer"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "customer", "target"]
    list_filter = ["action"]
    list_select_related = ["actor", "customer"]
    search_fields = ["target", "customer__legal_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
