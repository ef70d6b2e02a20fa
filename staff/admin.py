from django.contrib import admin
from django.template.response import TemplateResponse

from integrations.invoices.services import invoice_cancel, invoice_retry
from integrations.models import ApiKey, Connection, Invoice, InvoiceLine, Issue, Run, Schedule
from portal.models import AuditEntry
from staff.connections import ConnectionAdmin, ScheduleAdmin
from staff.issues import IssueAdmin
from staff.runs import RunAdmin, owner_entity_column

admin.site.register(Connection, ConnectionAdmin)
admin.site.register(Schedule, ScheduleAdmin)
admin.site.register(Run, RunAdmin)
admin.site.register(Issue, IssueAdmin)


# ---- API keys (for SEMINE's machine client of /api/) ------------------------------------------
# The key is shown once, on the page that answers the "add" form, and never again: only its hash
# is stored, and the admin shows neither the hash nor the key. Revoke rather than delete, so the
# record of who created which key stays.


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


# ---- Invoices to Xledger (the outbox) ----------------------------------------------------------
# Written by the intake API and the sender only; here support reads them, retries a rejected one
# once its cause is fixed, or cancels one that must never be sent. Both actions are conditional
# (retry: rejected only; cancel: pending or rejected only) and recorded in the audit log.


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ["position", "account", "vat_code", "amount", "text", "dimensions", "gl_objects"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "customer",
        "owner_entity",
        "invoice_number",
        "supplier_code",
        "amount",
        "currency",
        "status",
        "attachment_status",
        "attempts",
        "lookups",
        "status_changed_at",
        "short_message",
    ]
    list_filter = [
        "status",
        "attachment_status",
        "currency",
        ("sent_at", admin.EmptyFieldListFilter),
        "created_at",
    ]
    search_fields = [
        "external_id",
        "invoice_number",
        "supplier_code",
        "connection__customer__legal_name",
        "=connection__owner_entity_id",
    ]
    list_select_related = ["connection__customer"]
    show_full_result_count = False
    ordering = ["-id"]
    inlines = [InvoiceLineInline]
    actions = ["retry_invoices", "cancel_invoices"]
    fieldsets = [
        (None, {"fields": ["connection", "entity", "external_id", "submitted_by", "created_at"]}),
        (
            "Invoice",
            {
                "fields": [
                    "supplier_code",
                    "invoice_number",
                    "invoice_date",
                    "due_date",
                    "posted_date",
                    "currency",
                    "amount",
                    "vat_amount",
                    "text",
                    "item_count",
                    "attachment_size",
                    "attachment_status",
                ]
            },
        ),  # fmt: skip
        (
            "Sending",
            {
                "fields": [
                    "status",
                    "status_changed_at",
                    "attempts",
                    "lookups",
                    "lookup_failures",
                    "sent_at",
                    "xledger_db_ids",
                    "xledger_message",
                    "last_error",
                    "claimed_by",
                    "claimed_until",
                ]
            },
        ),  # fmt: skip
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Invoice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="customer", ordering="connection__customer__legal_name")
    def customer(self, obj):
        return obj.connection.customer

    @admin.display(description="owner entity", ordering="connection__owner_entity_id")
    def owner_entity(self, obj):
        return owner_entity_column(obj)

    @admin.display(description="Xledger message / last error")
    def short_message(self, obj):
        text = obj.xledger_message or obj.last_error
        return text if len(text) <= 80 else f"{text[:79]}…"

    def _may_retry(self, request):
        return request.user.has_perm("integrations.retry_invoice")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._may_retry(request):
            actions.pop("retry_invoices", None)
            actions.pop("cancel_invoices", None)
        return actions

    def _act(self, request, queryset, service, action, verb):
        done, skipped = 0, 0
        for invoice in queryset.select_related("connection__customer"):
            if service(invoice=invoice, by=request.user):
                done += 1
                AuditEntry.record(
                    actor=request.user,
                    action=action,
                    customer=invoice.connection.customer,
                    target=f"invoice {invoice.external_id}",
                    before={"status": invoice.status},
                )
            else:
                skipped += 1
        self.message_user(request, f"{verb} {done} invoice(s).")
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped}: only rejected invoices can be retried, and only pending or "
                "rejected ones cancelled (others may already be in Xledger).",
                level="warning",
            )

    @admin.action(description="Retry selected rejected invoices (back to pending)")
    def retry_invoices(self, request, queryset):
        self._act(request, queryset, invoice_retry, "invoice_retry", "Queued again")

    @admin.action(description="Cancel selected pending or rejected invoices")
    def cancel_invoices(self, request, queryset):
        self._act(request, queryset, invoice_cancel, "invoice_cancel", "Cancelled")
