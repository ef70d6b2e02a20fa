from django.contrib import admin
from django.contrib import messages as admin_messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal import services as onboarding
from portal.admin_customers import CustomerAdmin
from portal.invitations import Invitation
from portal.models import AuditEntry, Customer, Membership

# The admin's own name, on every page header and browser tab (not "Django administration").
admin.site.site_header = _("Semine Connect administration")
admin.site.site_title = "Semine Connect"
# No navigation sidebar: the index and the breadcrumbs lead everywhere, and on a 1,280 px screen the
# sidebar and a list's filters left the list so narrow that its last columns were scrolled out of
# sight (duration, fetched, requests, error).
admin.site.enable_nav_sidebar = False

admin.site.register(Customer, CustomerAdmin)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "role", "created_at"]
    list_filter = ["role"]
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
    show_facets = admin.ShowFacets.NEVER
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


# --- Invitations (customer onboarding) ------------------------------------------------------------
# A PM adds an e-mail address in the inline on the customer page (portal.admin_customers) and the
# invitation is created and sent on save; re-send and revoke are actions on the invitation list.
# The link's token is never stored or shown, only its hash (which is not shown either).


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "customer",
        "role",
        "state_display",
        "created_by",
        "created_at",
        "expires_at",
    ]
    list_filter = ["role"]
    list_select_related = ["customer", "created_by"]
    search_fields = ["email", "customer__legal_name"]
    readonly_fields = [
        "customer",
        "email",
        "language",
        "role",
        "state_display",
        "created_by",
        "created_at",
        "sent_at",
        "expires_at",
        "accepted_at",
        "accepted_user",
        "revoked_at",
        "revoked_by",
    ]
    fields = readonly_fields
    actions = ["resend", "revoke"]

    @admin.display(description="state")
    def state_display(self, obj):
        return obj.get_state_display()

    def has_add_permission(self, request):
        return False  # invite from the customer page

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Re-send (new link; the old link stops working)", permissions=["change"]
    )
    def resend(self, request, queryset):
        sent = 0
        for invitation in queryset.select_related("customer"):
            try:
                onboarding.invitation_resend(invitation=invitation, by=request.user)
                sent += 1
            except onboarding.OnboardingError as exc:
                self.message_user(request, f"{invitation.email}: {exc}", admin_messages.WARNING)
        self.message_user(request, f"Sent {sent} new invitation link(s).")

    @admin.action(description="Revoke (the link stops working)", permissions=["change"])
    def revoke(self, request, queryset):
        done = 0
        for invitation in queryset.select_related("customer"):
            try:
                onboarding.invitation_revoke(invitation=invitation, by=request.user)
                done += 1
            except onboarding.OnboardingError as exc:
                self.message_user(request, f"{invitation.email}: {exc}", admin_messages.WARNING)
        self.message_user(request, f"Revoked {done} invitation(s).")
