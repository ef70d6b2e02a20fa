from django import forms
from django.contrib import admin

from integrations.models import ClientEntity, Connection, Schedule
from integrations.models.schedules import format_interval


class ConnectionAdminForm(forms.ModelForm):
    """The token is write-only: an empty password box that replaces the token when filled."""

    new_token = forms.CharField(
        label="Replace API token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current token. The token is never shown.",
    )

    class Meta:
        model = Connection
        fields = ["customer", "environment", "owner_entity_id", "status", "selected_dimensions"]


class ClientEntityInline(admin.TabularInline):
    model = ClientEntity
    extra = 0
    fields = ["db_id", "code", "description", "is_owner", "in_scope", "fixed_assets"]


class ScheduleInline(admin.TabularInline):
    model = Schedule
    extra = 0
    fields = ["dataset", "enabled", "interval_override", "override_reason", "next_run_at"]
    readonly_fields = ["next_run_at"]


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    list_display = ["customer", "environment", "owner_entity_id", "status", "token_fingerprint"]
    list_filter = ["status", "environment"]
    search_fields = ["customer__legal_name", "owner_entity_id"]
    list_select_related = ["customer"]
    readonly_fields = ["token_fingerprint", "token_set_at", "verified_at", "live_since"]
    inlines = [ClientEntityInline, ScheduleInline]
    raw_id_fields = ["customer"]

    def save_model(self, request, obj, form, change):
        new_token = form.cleaned_data.get("new_token")
        if new_token:
            obj.set_token(new_token, by=request.user)
        super().save_model(request, obj, form, change)


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["connection", "dataset", "enabled", "interval_display", "next_run_at"]
    list_filter = ["dataset", "enabled"]
    list_select_related = ["connection__customer"]
    search_fields = ["connection__customer__legal_name"]
    readonly_fields = [
        "watermark",
        "last_full_sync_at",
        "failure_streak",
        "override_by",
        "override_at",
    ]

    @admin.display(description="interval")
    def interval_display(self, obj):
        text = format_interval(obj.interval)
        return f"{text} (override)" if obj.interval_override else text


# ---- API keys (for SEMINE's machine client of /api/) ------------------------------------------
# The key is shown once, on the page that answers the "add" form, and never again: only its hash
# is stored, and the admin shows neither the hash nor the key. Revoke rather than delete, so the
# record of who created which key stays.

from django.template.response import TemplateResponse  # noqa: E402

from integrations.models import ApiKey  # noqa: E402


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
        revoked = queryset.revoke()
        self.message_user(request, f"Revoked {revoked} API key(s).")
