"""The connection admin: health per dataset, recent runs, a chart, and support's actions
(resync, pause/resume, re-verify) and the interval overrides page.

A customer has one connection per Xledger owner entity; each has its own page here. A connection
the customer added after go-live is approved on its own from its page, and a project manager may
remove one (with a reason, on a page of its own): it stops and its history stays, read-only.

Staff never handle a token: this page has no token box. They see its fingerprint, and may ask
the customer (or the IT partner) for a new one: a single-use, expiring link to the connection's
token page, e-mailed (`portal.token_requests`); the links sent are listed here, with a revoke
button. Every action goes through `portal.operations` / `portal.intervals` / `portal.golive` /
`portal.token_requests`, which check the permission and write the audit entry.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from integrations.datasets import Dataset
from integrations.models import (
    ClientEntity,
    Connection,
    IntervalRequest,
    Invoice,
    Run,
    Schedule,
    ScopeChange,
)
from integrations.models.schedules import format_interval, interval_from
from integrations.selectors import estimated_monthly_requests
from integrations.xledger.storable import UNSTORABLE, storable
from portal import (
    interval_requests,
    intervals,
    offboarding,
    operations,
    scope_changes,
    token_requests,
)
from portal.forms import CONTROL_CHARACTERS
from portal.golive import APPROVE_PERMISSION, connection_approve_golive, connection_golive_blockers
from portal.token_links import TokenLink
from staff import sections
from staff.sections import connection_label

MAX_DIMENSION_CODE_LENGTH = 100  # as the mirror's `code` columns
REFRESH_SECONDS = 5  # how often a page showing active runs refreshes itself


class DimensionCodesField(forms.JSONField):
    """A JSON list of short strings (the object kinds to sync), and nothing else: a JSON `null`
    would break the NOT NULL column and a deeply nested document the JSON parser's recursion."""

    default_error_messages = {
        "invalid": _(
            'Enter a JSON list of dimension codes, such as ["601", "602"] '
            "(each a string of at most 100 characters), or [] for none."
        ),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return []
        try:
            codes = super().to_python(value)
        except (RecursionError, ValueError):  # ValueError: json's limit of 4,300 digits
            codes = None
        if not isinstance(codes, list) or not all(
            isinstance(code, str)
            and 0 < len(code) <= MAX_DIMENSION_CODE_LENGTH
            and not CONTROL_CHARACTERS.search(code)
            and not UNSTORABLE.search(code)  # an unpaired surrogate escape, "\ud800"
            for code in codes
        ):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return codes

    def bound_data(self, data, initial):
        try:
            parsed = super().bound_data(data, initial)
        except (RecursionError, ValueError):  # shown back as typed, like any other invalid JSON
            return forms.fields.InvalidJSONInput(data)
        if storable(parsed) != parsed:  # "\ud800" would be written back unescaped: as typed
            return forms.fields.InvalidJSONInput(data)
        return parsed


class ConnectionAdminForm(forms.ModelForm):
    """No token field: staff ask for a new token with a replace-token link instead."""

    class Meta:
        model = Connection
        fields = [
            "customer",
            "environment",
            "owner_entity_id",
            "selected_dimensions",
            "transaction_source_code",
        ]
        field_classes = {"selected_dimensions": DimensionCodesField}


def _interval_text(schedule):
    if schedule.pk is None or not schedule.dataset:
        return "–"  # a row the form made up from a tampered POST: nothing to show
    text = format_interval(schedule.interval)
    return f"{text} (override)" if schedule.interval_override else text


class ConnectionStateFilter(admin.SimpleListFilter):
    """The connections in use by default; removed ones (kept for their history) on request."""

    title = _("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("current", _("In use")),
            ("awaiting", _("Waiting for go-live approval")),
            *Connection.Status.choices,
            ("all", _("All")),
        ]

    def choices(self, changelist):
        value = self.value() or "current"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "current"
        if value == "current":
            return queryset.current()
        if value == "awaiting":  # added after go-live and asked for: see `awaits_approval`
            return queryset.current().filter(
                approval_requested_at__isnull=False, live_since__isnull=True
            )
        if value in Connection.Status.values:
            return queryset.filter(status=value)
        return queryset


class _ReadOnlyOnceRemoved:
    """A removed connection's entities and schedules are its history: shown, never edited."""

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_removed:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        if obj is not None and obj.is_removed:
            return False
        return super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_removed:
            return False
        return super().has_delete_permission(request, obj)


class ClientEntityInline(_ReadOnlyOnceRemoved, admin.TabularInline):
    model = ClientEntity
    extra = 0
    fields = ["db_id", "code", "description", "is_owner", "in_scope", "fixed_assets"]


class ScheduleInline(_ReadOnlyOnceRemoved, admin.TabularInline):
    """Intervals are changed on the intervals page (reason, estimate, PM notified), not here."""

    model = Schedule
    extra = 0
    can_delete = False
    fields = [
        "dataset",
        "enabled",
        "interval_display",
        "override_reason",
        "next_run_at",
        "failure_streak",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Each row's title is str(schedule), which names the customer: join it once.
        return super().get_queryset(request).select_related("connection__customer")

    @admin.display(description=_("interval"))
    def interval_display(self, obj):
        return _interval_text(obj)


class ResyncForm(forms.Form):
    dataset = forms.ChoiceField(
        choices=[("", _("Everything"))] + list(Dataset.choices), required=False
    )
    full = forms.BooleanField(
        required=False,
        label=_("Full sync"),
        help_text=_(
            "Full: read everything again and detect deletions, instead of only what changed "
            "since the last run."
        ),
        widget=forms.CheckboxInput(attrs={"aria-describedby": "resync-full-help"}),
    )


INTERVAL_UNITS = [("minutes", _("minutes")), ("hours", _("hours")), ("days", _("days"))]


class IntervalOverrideForm(forms.Form):
    dataset = forms.ChoiceField(choices=Dataset.choices)
    use_default = forms.BooleanField(required=False, label=_("Back to the default interval"))
    amount = forms.IntegerField(min_value=1, required=False, label=_("Every"))
    unit = forms.ChoiceField(choices=INTERVAL_UNITS, initial="minutes", required=False)
    reason = forms.CharField(
        max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=_("The project manager is told, with this reason."),
    )
    confirm_over_budget = forms.BooleanField(
        required=False, label=_("Save anyway, although it goes over the included requests")
    )

    def __init__(self, *args, datasets=None, **kwargs):
        super().__init__(*args, **kwargs)
        if datasets is not None:
            self.fields["dataset"].choices = [
                (d, label) for d, label in Dataset.choices if d in datasets
            ]

    def clean(self):
        data = super().clean()
        if data.get("use_default"):
            data["interval"] = None
            return data
        amount, unit = data.get("amount"), data.get("unit") or "minutes"
        if not amount:
            raise ValidationError(_("Enter the new interval, or go back to the default."))
        try:
            data["interval"] = interval_from(amount, unit)
        except ValidationError as e:
            self.add_error("amount", e)
        return data


class RemoveConnectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this connection offboarded?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=_("Kept in the audit log with your name, and on its cancelled invoices."),
    )
    confirmation = forms.CharField(
        label=_("Type the owner entity ID to confirm"),
        max_length=50,
        help_text=_("Never a single click: the ID says which owner entity you mean."),
    )


class TokenLinkForm(forms.Form):
    """Who is asked for a new token: one of the customer's people, or any address typed in (the
    IT partner, who may have no account); the language of the e-mail; a message."""

    recipient = forms.ChoiceField(label=_("Send to"), required=False)
    other_email = forms.EmailField(
        label=_("or this e-mail address"),
        required=False,
        help_text=_("The customer's IT partner, for instance. Leave empty to use the choice."),
    )
    language = forms.ChoiceField(label=_("Language of the e-mail"), choices=settings.LANGUAGES)
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=_("Shown in the e-mail, which also says never to send the token by e-mail."),
    )

    def __init__(self, *args, recipients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].choices = [("", _("— the address typed below —")), *recipients]

    def clean_message(self):
        message = self.cleaned_data["message"]
        if CONTROL_CHARACTERS.search(message) or UNSTORABLE.search(message):
            raise ValidationError(_("The message holds characters that cannot be sent."))
        return message

    def clean(self):
        data = super().clean()
        chosen, typed = data.get("recipient"), data.get("other_email")
        if chosen and typed:
            raise ValidationError(_("Choose a person or type an address, not both."))
        if not chosen and not typed and "other_email" not in self.errors:
            raise ValidationError(_("Choose who gets the link, or type their e-mail address."))
        data["email"] = chosen or typed
        return data


class IntervalDecisionForm(forms.Form):
    """The project manager's answer to a customer's interval request: which button, and why."""

    answer = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Sent to the customer and shown on their home page. Required to decline."),
    )

    def clean(self):
        data = super().clean()
        if "accept" in self.data:
            data["accept"] = True
        elif "decline" in self.data:
            data["accept"] = False
        else:
            raise ValidationError(_("Accept or decline the request."))
        return data


class ScopeDecisionForm(forms.Form):
    """The project manager's answer to a customer's scope change: which button, and why."""

    answer = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Sent to the customer who asked. Required to decline."),
    )

    def clean_answer(self):
        answer = self.cleaned_data["answer"]
        if CONTROL_CHARACTERS.search(answer) or UNSTORABLE.search(answer):
            raise ValidationError(_("The answer holds characters that cannot be sent."))
        return answer

    def clean(self):
        data = super().clean()
        if "apply" in self.data:
            data["apply"] = True
        elif "decline" in self.data:
            data["apply"] = False
        else:
            raise ValidationError(_("Apply or decline the scope change."))
        return data


class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    change_form_template = "admin/integrations/connection/change_form.html"
    list_display = [
        "customer",
        "owner_entity",
        "environment",
        "status",
        "token_fingerprint",
        "verified_at",
        "live_since",
    ]
    list_filter = [ConnectionStateFilter, "environment"]
    search_fields = ["customer__legal_name", "=owner_entity_id"]
    list_select_related = ["customer"]
    show_full_result_count = False
    readonly_fields = [
        "owner_entity_name",
        "status",
        "token_fingerprint",
        "token_set_at",
        "token_set_by",
        "verified_at",
        "live_since",
        "approval_requested_at",
        "removed_at",
        "removed_by",
        "verification_checklist",
        "dataset_health",
        "run_chart",
        "open_issues_section",
        "recent_runs",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "customer",
                    "environment",
                    "owner_entity_id",
                    "owner_entity_name",
                    "status",
                    "live_since",
                    "approval_requested_at",
                ]
            },
        ),
        (
            _("Token"),
            {
                "fields": [
                    "token_fingerprint",
                    "token_set_at",
                    "token_set_by",
                    "verified_at",
                    "verification_checklist",
                ]
            },
        ),
        (
            _("Health"),
            {"fields": ["dataset_health", "run_chart", "open_issues_section", "recent_runs"]},
        ),
        (
            _("Dimensions and invoices"),
            {"fields": ["selected_dimensions", "transaction_source_code"], "classes": ["collapse"]},
        ),
    ]
    inlines = [ClientEntityInline, ScheduleInline]
    raw_id_fields = ["customer"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["customer", "environment", "owner_entity_id"]})]
        if obj.is_removed:
            removed = (_("Removed"), {"fields": ["removed_at", "removed_by"]})
            return [removed, *self.fieldsets]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        # A connection belongs to the customer it was made for (its token, runs, mirror and
        # invoices are that customer's): chosen when it is added, never moved after.
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, "customer"] if obj is not None else readonly

    def has_change_permission(self, request, obj=None):
        # A removed connection is its history: read-only (and its token is gone).
        if obj is not None and obj.is_removed:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("owner entity"), ordering="owner_entity_id")
    def owner_entity(self, obj):
        owner = obj.owner_entity_id if obj.owner_entity_id is not None else "–"
        name = obj.owner_entity_name
        return f"{owner} · {name}" if name else str(owner)

    @admin.display(description=_("owner entity name"))
    def owner_entity_name(self, obj):
        return obj.owner_entity_name or "–"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            operations.form_change_recorded(
                action="connection_changed",
                customer=obj.customer,
                target=obj,
                form=form,
                by=request.user,
            )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if change:
            operations.formset_change_recorded(
                action=f"{formset.model._meta.model_name}_changed",
                customer=form.instance.customer,
                target=form.instance,
                formset=formset,
                by=request.user,
            )

    @admin.display(description=_("verification"))
    def verification_checklist(self, obj):
        return sections.verification_checklist(obj)

    @admin.display(description=_("datasets"))
    def dataset_health(self, obj):
        return sections.health(obj)

    @admin.display(description=_("recent runs chart"))
    def run_chart(self, obj):
        return sections.run_chart(obj)

    @admin.display(description=_("open issues"))
    def open_issues_section(self, obj):
        return sections.open_issues(obj)

    @admin.display(description=_("recent runs"))
    def recent_runs(self, obj):
        return sections.recent_runs(obj)

    # --- actions ---------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/resync/",
                wrap(self.resync_view),
                name="integrations_connection_resync",
            ),
            path(
                "<int:object_id>/pause/",
                wrap(self.pause_view),
                name="integrations_connection_pause",
            ),
            path(
                "<int:object_id>/resume/",
                wrap(self.resume_view),
                name="integrations_connection_resume",
            ),
            path(
                "<int:object_id>/reverify/",
                wrap(self.reverify_view),
                name="integrations_connection_reverify",
            ),
            path(
                "<int:object_id>/approve/",
                wrap(self.approve_view),
                name="integrations_connection_approve",
            ),
            path(
                "<int:object_id>/remove/",
                wrap(self.remove_view),
                name="integrations_connection_remove",
            ),
            path(
                "<int:object_id>/intervals/",
                wrap(self.intervals_view),
                name="integrations_connection_intervals",
            ),
            path(
                "<int:object_id>/intervals/requests/<int:request_id>/",
                wrap(self.interval_request_view),
                name="integrations_connection_interval_request",
            ),
            path(
                "<int:object_id>/scope-changes/<int:change_id>/",
                wrap(self.scope_change_view),
                name="integrations_connection_scope_change",
            ),
            path(
                "<int:object_id>/token-link/",
                wrap(self.token_link_view),
                name="integrations_connection_token_link",
            ),
            path(
                "<int:object_id>/token-link/<int:link_id>/revoke/",
                wrap(self.token_link_revoke_view),
                name="integrations_connection_token_link_revoke",
            ),
        ] + super().get_urls()

    def _connection(self, request, object_id, perm):
        if not request.user.has_perm(perm):
            raise PermissionDenied
        return get_object_or_404(Connection.objects.select_related("customer"), pk=object_id)

    def _refuse_if_removed(self, request, connection):
        """None when the connection is in use; else a message and the way back (a removed
        connection is not paused, resumed, resynced, re-verified or given new intervals)."""
        if not connection.is_removed:
            return None
        self.message_user(
            request,
            _("This connection was removed; its history is kept, nothing more."),
            messages.ERROR,
        )
        return self._back(connection)

    def _back(self, connection):
        return HttpResponseRedirect(
            reverse("admin:integrations_connection_change", args=[connection.pk])
        )

    def _run(self, request, connection, action, success):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            action()
        except ValidationError as e:
            for message in e.messages:
                self.message_user(request, message, messages.ERROR)
        except (ValueError, RuntimeError) as e:  # the engine refusing (paused, not live, ...)
            self.message_user(request, str(e), messages.ERROR)
        else:
            self.message_user(request, success, messages.SUCCESS)
        return self._back(connection)

    def _action_context(self, request, connection, title):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "original": connection,
            "connection_label": connection_label(connection),
        }

    def approve_view(self, request, object_id):
        """Take one connection added after go-live live on its own (the customer's other
        connections keep running). GET shows its checklist and what still blocks it."""
        connection = self._connection(request, object_id, APPROVE_PERMISSION)
        if request.method == "POST":
            try:
                runs = connection_approve_golive(connection=connection, by=request.user)
            except ValidationError as e:
                for message in e.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(connection)s is live; %(n)d initial syncs queued.")
                    % {"connection": connection_label(connection), "n": len(runs)},
                    messages.SUCCESS,
                )
            return self._back(connection)
        context = {
            **self._action_context(
                request,
                connection,
                _("Approve go-live: %(customer)s · %(connection)s")
                % {"connection": connection_label(connection), "customer": connection.customer},
            ),
            "blockers": connection_golive_blockers(connection),
            "verification": sections.verification_checklist(connection),
            "entities": sections.entities_in_scope(connection),
        }
        return TemplateResponse(request, "admin/integrations/connection/approve.html", context)

    def remove_view(self, request, object_id):
        """Remove one connection, after a confirmation with a reason (never a single click)."""
        connection = self._connection(request, object_id, operations.REMOVE_PERMISSION)
        if connection.is_removed:
            return self._refuse_if_removed(request, connection)
        form = RemoveConnectionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                offboarding.connection_offboard(
                    connection=connection,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    confirmation=form.cleaned_data["confirmation"],
                )
            except ValidationError as e:
                for message in e.messages:
                    form.add_error(None, message)
            else:
                self.message_user(
                    request,
                    _(
                        "%(connection)s offboarded: its schedules are off, its token destroyed "
                        "and its unsent invoices cancelled; the customer was told."
                    )
                    % {"connection": connection_label(connection)},
                    messages.SUCCESS,
                )
                return self._back(connection)
        others = Connection.objects.current().filter(customer=connection.customer)
        context = {
            **self._action_context(
                request,
                connection,
                _("Remove the connection %(customer)s · %(connection)s")
                % {"connection": connection_label(connection), "customer": connection.customer},
            ),
            "form": form,
            "others": others.exclude(pk=connection.pk),
            "active_runs": connection.runs.filter(status__in=Run.ACTIVE_STATUSES).count(),
            "unsent_invoices": connection.invoices.filter(
                status__in=[Invoice.Status.PENDING, Invoice.Status.SENDING, Invoice.Status.IN_DOUBT]
            ).count(),
        }
        return TemplateResponse(request, "admin/integrations/connection/remove.html", context)

    def token_link_view(self, request, object_id):
        """Ask for a new token: e-mail a single-use, expiring link to the connection's token page
        to one of the customer's people or to an address typed in. Staff never see the token."""
        connection = self._connection(request, object_id, token_requests.SEND_PERMISSION)
        if refused := self._refuse_if_removed(request, connection):
            return refused
        default_language = "nb" if connection.customer.country == "NO" else "en"
        form = TokenLinkForm(
            request.POST or None,
            recipients=token_requests.token_link_recipients(connection),
            initial={"language": default_language},
        )
        if request.method == "POST" and form.is_valid():
            try:
                link = token_requests.token_link_send(
                    connection=connection,
                    email=form.cleaned_data["email"],
                    language=form.cleaned_data["language"],
                    message=form.cleaned_data["message"],
                    by=request.user,
                )
            except ValidationError as e:
                for message in e.messages:
                    form.add_error(None, message)
            else:
                self.message_user(
                    request,
                    _("A link to replace the token was sent to %(email)s; it expires %(when)s.")
                    % {
                        "email": link.email,
                        "when": f"{timezone.localtime(link.expires_at):%Y-%m-%d %H:%M}",
                    },
                    messages.SUCCESS,
                )
                return self._back(connection)
        context = {
            **self._action_context(
                request,
                connection,
                _("Ask for a new token: %(customer)s · %(connection)s")
                % {"connection": connection_label(connection), "customer": connection.customer},
            ),
            "form": form,
        }
        return TemplateResponse(request, "admin/integrations/connection/token_link.html", context)

    def token_link_revoke_view(self, request, object_id, link_id):
        """Revoke one replace-token link of this connection (POST): it stops working at once."""
        connection = self._connection(request, object_id, token_requests.SEND_PERMISSION)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        link = get_object_or_404(
            TokenLink.objects.select_related("connection__customer"),
            pk=link_id,
            connection=connection,
        )
        try:
            token_requests.token_link_revoke(link=link, by=request.user)
        except ValidationError as e:
            for message in e.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("The link sent to %(email)s no longer works.") % {"email": link.email},
                messages.SUCCESS,
            )
        return self._back(connection)

    def resync_view(self, request, object_id):
        connection = self._connection(request, object_id, "integrations.resync_connection")
        form = ResyncForm(request.POST or None)
        if not form.is_valid():
            self.message_user(request, _("Choose a dataset."), messages.ERROR)
            return self._back(connection)
        dataset = form.cleaned_data["dataset"] or None
        full = form.cleaned_data["full"]
        return self._run(
            request,
            connection,
            lambda: operations.connection_resync(
                connection=connection, dataset=dataset, full=full, by=request.user
            ),
            _("Resync of %(what)s queued.")
            % {"what": Dataset(dataset).label if dataset else _("every dataset")},
        )

    def pause_view(self, request, object_id):
        connection = self._connection(request, object_id, "integrations.pause_connection")
        return self._run(
            request,
            connection,
            lambda: operations.connection_set_paused(
                connection=connection, paused=True, by=request.user
            ),
            _("Connection paused: no syncs run until it is resumed."),
        )

    def resume_view(self, request, object_id):
        connection = self._connection(request, object_id, "integrations.pause_connection")
        return self._run(
            request,
            connection,
            lambda: operations.connection_set_paused(
                connection=connection, paused=False, by=request.user
            ),
            _("Connection resumed."),
        )

    def reverify_view(self, request, object_id):
        connection = self._connection(request, object_id, "integrations.reverify_connection")
        return self._run(
            request,
            connection,
            lambda: operations.connection_reverify_audited(connection=connection, by=request.user),
            _("Token re-checked against Xledger; see the checklist."),
        )

    def intervals_view(self, request, object_id):
        connection = self._connection(request, object_id, "integrations.override_interval")
        if refused := self._refuse_if_removed(request, connection):
            return refused
        schedules = {s.dataset: s for s in intervals.applicable_schedules(connection)}
        form = IntervalOverrideForm(
            request.POST or None,
            datasets=list(schedules),
            initial={"dataset": request.GET.get("dataset")},
        )
        proposed = None
        if request.method == "POST" and form.is_valid():
            schedule = schedules[form.cleaned_data["dataset"]]
            interval = form.cleaned_data["interval"]
            proposed = intervals.interval_budget(
                connection, {schedule.dataset: interval or schedule.default_interval}
            )
            if proposed["over"] and not form.cleaned_data["confirm_over_budget"]:
                form.add_error(
                    "confirm_over_budget",
                    _(
                        "At these intervals this customer would make about %(n)s Xledger requests "
                        "a month, more than the %(included)s included. Tick the box to save anyway."
                    )
                    % {"n": f"{proposed['estimate']:,}", "included": f"{proposed['included']:,}"},
                )
            else:
                try:
                    intervals.schedule_override_interval(
                        schedule=schedule,
                        interval=interval,
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                    )
                except ValidationError as e:
                    for message in e.messages:
                        form.add_error(None, message)
                else:
                    self.message_user(
                        request,
                        _("Interval saved; the project manager has been told."),
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:integrations_connection_intervals", args=[connection.pk])
                    )
        current = intervals.interval_budget(connection)
        others = self._other_connections_estimate(connection)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Intervals: %(customer)s · %(connection)s")
            % {"connection": connection_label(connection), "customer": connection.customer},
            "original": connection,
            "current": current,
            "proposed": proposed,
            "customer_current": self._customer_total(current, others),
            "customer_proposed": self._customer_total(proposed, others),
            "form": form,
            "requests": self._pending_requests(connection),
        }
        return TemplateResponse(request, "admin/integrations/connection/intervals.html", context)

    @staticmethod
    def _other_connections_estimate(connection):
        """(how many, monthly requests) of the customer's other connections in use, or None
        when this is its only one."""
        others = list(
            Connection.objects.current()
            .filter(customer=connection.customer)
            .exclude(pk=connection.pk)
            .select_related("customer")
        )
        if not others:
            return None
        return len(others), sum(estimated_monthly_requests(other) for other in others)

    @staticmethod
    def _customer_total(budget, others):
        """The customer's estimate over all its connections, with this one at `budget`."""
        if budget is None or others is None:
            return None
        count, requests = others
        estimate = budget["estimate"] + requests
        included = budget["included"]
        return {
            "connections": count + 1,
            "estimate": estimate,
            "included": included,
            "over": estimate > included,
            "percent": round(100 * estimate / included),
        }

    def _pending_requests(self, connection):
        """Each pending customer request with the monthly estimate if it were accepted."""
        rows = []
        pending = connection.interval_requests.filter(status=IntervalRequest.Status.PENDING)
        for interval_request in pending.select_related("requested_by"):
            schedule = Schedule.objects.get(connection=connection, dataset=interval_request.dataset)
            rows.append(
                {
                    "request": interval_request,
                    "current_interval": format_interval(schedule.interval),
                    "budget": intervals.interval_budget(
                        connection, {interval_request.dataset: interval_request.interval}
                    ),
                    "form": IntervalDecisionForm(prefix=f"r{interval_request.pk}"),
                }
            )
        return rows

    def interval_request_view(self, request, object_id, request_id):
        """Accept or decline a customer's interval request (POST, override permission)."""
        connection = self._connection(request, object_id, "integrations.override_interval")
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if refused := self._refuse_if_removed(request, connection):
            return refused
        interval_request = get_object_or_404(IntervalRequest, pk=request_id, connection=connection)
        form = IntervalDecisionForm(request.POST, prefix=f"r{interval_request.pk}")
        back = HttpResponseRedirect(
            reverse("admin:integrations_connection_intervals", args=[connection.pk])
        )
        if not form.is_valid():
            self.message_user(request, _("Accept or decline the request."), messages.ERROR)
            return back
        accept = form.cleaned_data["accept"]
        try:
            interval_requests.interval_request_decide(
                request=interval_request,
                accept=accept,
                answer=form.cleaned_data["answer"],
                by=request.user,
            )
        except ValidationError as e:
            for message in e.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("Request accepted: the interval is changed and the customer has been told.")
                if accept
                else _("Request declined; the customer has been told."),
                messages.SUCCESS,
            )
        return back

    def scope_change_view(self, request, object_id, change_id):
        """Apply or decline a customer's scope change (POST, go-live approval permission)."""
        connection = self._connection(request, object_id, scope_changes.DECIDE_PERMISSION)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if refused := self._refuse_if_removed(request, connection):
            return refused
        change = get_object_or_404(ScopeChange, pk=change_id, connection=connection)
        form = ScopeDecisionForm(request.POST, prefix=f"s{change.pk}")
        if not form.is_valid():
            for message in [m for errors in form.errors.values() for m in errors]:
                self.message_user(request, message, messages.ERROR)
            return self._back(connection)
        apply = form.cleaned_data["apply"]
        try:
            scope_changes.scope_change_decide(
                change=change, apply=apply, answer=form.cleaned_data["answer"], by=request.user
            )
        except ValidationError as e:
            for message in e.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(
                request,
                _(
                    "Scope change applied: the next run of each kind of data it touches is a "
                    "full one, and the customer has been told."
                )
                if apply
                else _("Scope change declined; the customer has been told."),
                messages.SUCCESS,
            )
        return self._back(connection)

    def _pending_scope_change(self, connection, user):
        """The pending scope change with what it would change now, and the decision form."""
        change = scope_changes.pending_scope_change(connection)
        if change is None:
            return None
        return {
            "change": change,
            "changes": scope_changes.pending_described(change),
            "form": ScopeDecisionForm(prefix=f"s{change.pk}"),
            "can_decide": user.has_perm(scope_changes.DECIDE_PERMISSION),
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            user = request.user
            in_use = not obj.is_removed  # a removed connection is offered no action
            context.update(
                subtitle=f"{obj.customer} · {connection_label(obj)}"
                + (f" · {_('removed')}" if obj.is_removed else ""),
                is_removed=obj.is_removed,
                can_resync=in_use and user.has_perm("integrations.resync_connection"),
                can_pause=in_use and user.has_perm("integrations.pause_connection"),
                can_reverify=in_use and user.has_perm("integrations.reverify_connection"),
                can_override=in_use and user.has_perm("integrations.override_interval"),
                can_approve=obj.awaits_approval and user.has_perm(APPROVE_PERMISSION),
                can_remove=in_use and user.has_perm(operations.REMOVE_PERMISSION),
                pending_interval_requests=obj.interval_requests.filter(
                    status=IntervalRequest.Status.PENDING
                ).count()
                if in_use
                else 0,
                resync_form=ResyncForm(),
                is_paused=obj.status == Connection.Status.PAUSED,
                scope_change=self._pending_scope_change(obj, user) if in_use else None,
                can_ask_token=obj.is_live and user.has_perm(token_requests.SEND_PERMISSION),
                token_links=list(obj.token_links.select_related("created_by", "connection")[:20]),
                # Runs moving without a reload: the page refreshes itself while one is queued or
                # running, unless it shows a posted form again (never lose what staff typed).
                refresh_seconds=REFRESH_SECONDS
                if request.method == "GET"
                and obj.runs.filter(status__in=Run.ACTIVE_STATUSES).exists()
                else None,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


class ScheduleAdmin(admin.ModelAdmin):
    list_display = [
        "connection",
        "dataset",
        "enabled",
        "interval_display",
        "next_run_at",
        "failure_streak",
    ]
    list_filter = ["dataset", "enabled"]
    list_select_related = ["connection__customer"]
    search_fields = ["connection__customer__legal_name"]
    show_full_result_count = False
    # Read-only: schedules are enabled by go-live, paused with the connection, and their
    # intervals changed on the intervals page (reason, estimate, project manager told).
    fields = [
        "connection",
        "dataset",
        "enabled",
        "next_run_at",
        "intervals_link",
        "interval_override",
        "override_reason",
        "override_by",
        "override_at",
        "watermark",
        "last_full_sync_at",
        "failure_streak",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(description="interval")
    def interval_display(self, obj):
        return _interval_text(obj)

    @admin.display(description=_("change the interval"))
    def intervals_link(self, obj):
        return format_html(
            '<a href="{}?dataset={}">{}</a>',
            reverse("admin:integrations_connection_intervals", args=[obj.connection_id]),
            obj.dataset,
            _("Intervals page (reason, estimate, project manager told)"),
        )
