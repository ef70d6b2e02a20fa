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
