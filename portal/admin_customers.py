"""The customer admin: where project managers see where every customer stands and approve go-live.

A customer has one or more connections (one per Xledger owner entity): the list shows each one's
status, and the customer page each one's checklist, entities, health, issues and runs, headed by
its owner entity and linked to its own page.

The list costs a constant number of queries whatever the page size and however many connections
each customer has: the connections come in one prefetch, the last successful sync (the newest of
the schedules' `last_success_at`, never a search of the run history) and the open issues count
by correlated subqueries (one value per customer, whatever the connections).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from integrations.models import Connection, Invoice, Issue, Schedule
from portal import offboarding, operations
from portal import services as onboarding
from portal.exports import XLSX_CONTENT_TYPE, customers_workbook, export_filename
from portal.forms import PlainTextModelForm, refuse_invisible_characters
from portal.golive import (
    APPROVE_PERMISSION,
    customer_approve_golive,
    customer_connections,
    customer_request_changes,
    golive_blockers,
)
from portal.ids import parse_id
from portal.invitations import Invitation
from portal.models import Contact, Customer, ErasureRecord
from portal.orgnumbers import clean_organisation_number
from portal.roles import PROJECT_MANAGERS
from staff import sections
from staff.runs import short_time
from staff.sections import connection_label

OPEN_ISSUE_STATUSES = [Issue.Status.OPEN, Issue.Status.ACKNOWLEDGED]


class ContactInline(admin.TabularInline):
    model = Contact
    form = PlainTextModelForm
    extra = 0


class _InvitationFormSet(BaseInlineFormSet):
    request = None

    def save_new(self, form, commit=True):
        return onboarding.invitation_create(
            customer=self.instance,
            email=form.cleaned_data["email"],
            by=self.request.user,
            language=form.cleaned_data.get("language", ""),
        )


class InvitationInline(admin.TabularInline):
    """A PM adds an e-mail address and saves: the invitation is created and sent. Existing
    invitations are re-sent or revoked from the invitation list (portal.admin)."""

    model = Invitation
    form = PlainTextModelForm
    formset = _InvitationFormSet
    extra = 0
    fields = [
        "email",
        "language",
        "state_display",
        "created_at",
        "sent_at",
        "expires_at",
        "accepted_at",
    ]
    readonly_fields = ["state_display", "created_at", "sent_at", "expires_at", "accepted_at"]
    can_delete = False
    verbose_name = "invitation"
    # The inline's heading is the plural: not Django's verbose_name + "s".
    verbose_name_plural = "invitations (add an e-mail address and save to send it)"

    @admin.display(description="state")
    def state_display(self, obj):
        return obj.get_state_display() if obj.pk else ""

    def has_change_permission(self, request, obj=None):
        return False  # existing invitations: re-send or revoke from the invitation list

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request
        return formset


@admin.action(description="Download the D01.01 spreadsheet", permissions=["export"])
def export_d0101(modeladmin, request, queryset):
    customers = list(queryset)
    response = HttpResponse(customers_workbook(customers), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(customers)}"'
    return response


class ConnectionStatusFilter(admin.SimpleListFilter):
    title = _("connection status")
    parameter_name = "connection_status"

    def lookups(self, request, model_admin):
        return [("none", _("No connection")), *Connection.Status.choices]

    def queryset(self, request, queryset):
        # Exists, not a join: a customer with several connections is listed once.
        value = self.value()
        if value == "none":
            current = Connection.objects.current().filter(customer=OuterRef("pk"))
            return queryset.filter(~Exists(current))
        if value in Connection.Status.values:
            matching = Connection.objects.filter(customer=OuterRef("pk"), status=value)
            return queryset.filter(Exists(matching))
        return queryset


class ProjectManagerFilter(admin.SimpleListFilter):
    """Only project managers, not every user in the database."""

    title = _("project manager")
    parameter_name = "pm"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(groups__name=PROJECT_MANAGERS).order_by("username")
        return [("mine", _("Mine")), ("none", _("Unassigned"))] + [
            (str(u.pk), u.get_full_name() or u.username) for u in users
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "mine":
            return queryset.filter(project_manager_id=request.user.pk)
        if value == "none":
            return queryset.filter(project_manager__isnull=True)
        if parse_id(value) is not None:
            return queryset.filter(project_manager_id=parse_id(value))
        return queryset


class HasOpenIssuesFilter(admin.SimpleListFilter):
    title = _("open issues")
    parameter_name = "issues"

    def lookups(self, request, model_admin):
        return [("yes", _("Has open issues")), ("no", _("None"))]

    def queryset(self, request, queryset):
        # The customers with an open issue, read once (not the `open_issues` count: that is
        # worked out for the page's rows only, while a filter on it would count every
        # customer's issues, twice: the page and the paginator).
        with_open_issues = Issue.objects.filter(status__in=OPEN_ISSUE_STATUSES).values(
            "connection__customer_id"
        )
        if self.value() == "yes":
            return queryset.filter(pk__in=with_open_issues)
        if self.value() == "no":
            return queryset.exclude(pk__in=with_open_issues)
        return queryset


class CustomerAdminForm(PlainTextModelForm):
    """The customer form of the admin: the organisation number is checked for the country, check
    digit included, as on the customer's own client information form."""

    def clean(self):
        data = super().clean()
        country = data.get("country")
        number = data.get("organisation_number")
        if "organisation_number" in self.fields and country and number:
            try:
                data["organisation_number"] = clean_organisation_number(country, number)
            except ValidationError as error:
                self.add_error("organisation_number", error)
        return data


def project_managers():
    """Who may be a customer's project manager: active staff in the project managers group. Never
    a customer's user: the project manager gets staff e-mails with admin links."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=PROJECT_MANAGERS)
        .distinct()
        .order_by("username")
    )


class RequestChangesForm(forms.Form):
    comment = forms.CharField(
        label=_("What must the customer change?"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_("Sent to the customer's users and contacts by e-mail."),
        validators=[refuse_invisible_characters],
    )


class OffboardCustomerForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the customer offboarded?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=_("Kept in the audit log with your name, and on its cancelled invoices."),
        validators=[refuse_invisible_characters],
    )
    erasure_requested = forms.BooleanField(
        label=_("The customer asked for its data to be erased"),
        required=False,
        help_text=_("Erased after the shorter period for an erasure request."),
    )
    confirmation = forms.CharField(
        label=_("Type the customer's legal name to confirm"),
        max_length=200,
        help_text=_("Never a single click: the name says which customer you mean."),
    )


class ReactivateCustomerForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the customer taken back?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        validators=[refuse_invisible_characters],
    )


def annotate_customer_list(queryset):
    """One value per customer, whatever its number of connections (no join, so no duplicate
    rows): the newest success of any connection in use, the open issues of all of them, and the
    first connection's status (to sort by). Each connection comes in `current_connections`."""
    current = Connection.objects.current().filter(customer_id=OuterRef("pk"))
    # Each schedule keeps its last success (the run history is rolled up and pruned): the
    # newest of them, over the few schedules of the customer's connections.
    last_success = (
        Schedule.objects.filter(
            connection__customer_id=OuterRef("pk"), connection__removed_at__isnull=True
        )
        .order_by()
        .values("connection__customer_id")
        .annotate(last=Max("last_success_at"))
        .values("last")
    )
    issues = (
        Issue.objects.filter(connection__customer_id=OuterRef("pk"), status__in=OPEN_ISSUE_STATUSES)
        .order_by()
        .values("connection__customer_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        last_success=Subquery(last_success),
        open_issues=Coalesce(Subquery(issues, output_field=IntegerField()), Value(0)),
        first_connection_status=Subquery(current.order_by("pk").values("status")[:1]),
    ).prefetch_related(
        Prefetch(
            "connections",
            queryset=Connection.objects.current().order_by("pk"),
            to_attr="current_connections",
        )
    )


class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    change_form_template = "admin/portal/customer/change_form.html"
    # Short headers (the admin does not wrap them) and short times: every column fits a 1,280 px
    # screen beside the filters.
    list_display = [
        "legal_name",
        "organisation_number_display",
        "onboarding_status_display",
        "project_manager",
        "connection_status",
        "last_success_display",
        "open_issues_display",
        "submitted_display",
    ]
    list_filter = [
        "onboarding_status",
        ConnectionStatusFilter,
        HasOpenIssuesFilter,
        ProjectManagerFilter,
        "country",
    ]
    search_fields = ["legal_name", "organisation_number", "=connections__owner_entity_id"]
    list_select_related = ["project_manager"]
    show_full_result_count = False
    list_per_page = 100
    inlines = [ContactInline, InvitationInline]
    actions = [export_d0101]
    readonly_fields = [
        "onboarding_status",
        "submitted_at",
        "submitted_by",
        "golive_readiness",
        "connection_summary",
        "verification_checklist",
        "entities_in_scope",
        "dataset_health",
        "open_issues_section",
        "recent_runs",
        "erasure_progress",
    ]
    fieldsets = [
        (
            _("Onboarding"),
            {
                "fields": [
                    "onboarding_status",
                    "project_manager",
                    "require_mfa",
                    "submitted_at",
                    "submitted_by",
                    "golive_readiness",
                ]
            },
        ),
        (
            _("Client information"),
            {
                "fields": [
                    "legal_name",
                    "organisation_number",
                    "country",
                    "street_address",
                    ("postal_code", "city"),
                    "expected_invoice_volume",
                    "desired_go_live",
                    ("supplier_posting_account", "customer_posting_account"),
                    "fixed_assets_apply",
                    "fixed_assets_as_dimension",
                    ("fixed_assets_dimension_code", "fixed_assets_dimension_name"),
                    "notes",
                ]
            },
        ),
        (
            _("Xledger connections"),
            {
                "fields": [
                    "scope_changes_apply_at_once",
                    "connection_summary",
                    "verification_checklist",
                    "entities_in_scope",
                    "dataset_health",
                    "open_issues_section",
                    "recent_runs",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return annotate_customer_list(super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project_manager":
            kwargs["queryset"] = project_managers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_export_permission(self, request):
        return request.user.has_perm("portal.export_customer")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            operations.form_change_recorded(
                action="customer_changed", customer=obj, target=obj, form=form, by=request.user
            )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if change and formset.model is Contact:
            operations.formset_change_recorded(
                action="contacts_changed",
                customer=form.instance,
                target=form.instance,
                formset=formset,
                by=request.user,
            )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    None,
                    {"fields": ["legal_name", "organisation_number", "country", "project_manager"]},
                )
            ]
        if obj.is_offboarded or obj.erased_at or self._erasures(obj):
            return [*self.fieldsets, (_("Erasure"), {"fields": ["erasure_progress"]})]
        return self.fieldsets

    @staticmethod
    def _erasures(obj) -> list:
        """The customer's erasure records (its own, and its connections' offboarded alone)."""
        if not hasattr(obj, "erasure_records"):
            obj.erasure_records = list(ErasureRecord.objects.filter(customer_number=obj.pk))
        return obj.erasure_records

    @admin.display(description=_("erasure"))
    def erasure_progress(self, obj):
        """Read-only: when the data is due for erasure, and each erasure's progress and record
        (portal.erasure)."""
        parts = []
        if obj.is_offboarded and not obj.erasure_started_at and obj.erase_after:
            parts.append(
                format_html(
                    "<p>{} {}</p>",
                    _("Due for erasure after"),
                    formats.localize(timezone.localtime(obj.erase_after)),
                )
            )
        for record in self._erasures(obj):
            what = (
                _("The customer")
                if record.connection_number is None
                else _("Connection %(n)s (offboarded alone)") % {"n": record.connection_number}
            )
            state = (
                _("erased %(when)s")
                % {"when": formats.localize(timezone.localtime(record.erased_at))}
                if record.erased_at
                else _("in progress since %(when)s")
                % {"when": formats.localize(timezone.localtime(record.started_at))}
            )
            rows = ", ".join(f"{label} {n}" for label, n in sorted(record.erased.items()))
            parts.append(
                format_html(
                    '<p class="erasure-record">{}: <strong>{}</strong>. {}<br>{} {}</p>',
                    what,
                    state,
                    _(
                        "There were %(connections)d connections, %(sent)d of %(invoices)d "
                        "invoices sent, %(runs)d runs, %(requests)d Xledger requests, "
                        "%(users)d users and %(contacts)d contacts."
                    )
                    % {
                        "connections": record.connections,
                        "sent": record.invoices_sent,
                        "invoices": record.invoices,
                        "runs": record.runs,
                        "requests": record.xledger_requests,
                        "users": record.users,
                        "contacts": record.contacts,
                    },
                    _("Rows erased so far:") if not record.erased_at else _("Rows erased:"),
                    rows or "–",
                )
            )
        return format_html_join("", "{}", ((part,) for part in parts)) if parts else "–"

    # --- list columns ----------------------------------------------------------------------

    @staticmethod
    def _connections(obj) -> list:
        """The customer's connections in use: prefetched on list and page, else looked up."""
        connections = getattr(obj, "current_connections", None)
        if connections is None:
            connections = obj.current_connections = customer_connections(obj)
        return connections

    @admin.display(description=_("connection"), ordering="first_connection_status")
    def connection_status(self, obj):
        connections = self._connections(obj)
        if not connections:
            return "–"
        links = format_html_join(
            ", ",
            '<a href="{}" title="{}">{}</a>',
            (
                (
                    reverse("admin:integrations_connection_change", args=[c.pk]),
                    connection_label(c),
                    c.get_status_display(),
                )
                for c in connections
            ),
        )
        if len(connections) == 1:
            return links
        return format_html("{}: {}", _("%(n)d connections") % {"n": len(connections)}, links)

    @admin.display(description=_("org. number"), ordering="organisation_number")
    def organisation_number_display(self, obj):
        return obj.organisation_number or "–"

    @admin.display(description=_("status"), ordering="onboarding_status")
    def onboarding_status_display(self, obj):
        return obj.get_onboarding_status_display()

    @admin.display(description=_("last success"), ordering="last_success")
    def last_success_display(self, obj):
        return short_time(obj.last_success)

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted_display(self, obj):
        return short_time(obj.submitted_at)

    @admin.display(description=_("issues"), ordering="open_issues")
    def open_issues_display(self, obj):
        if not obj.open_issues:
            return 0
        connections = self._connections(obj)
        url = reverse("admin:integrations_issue_changelist")
        if len(connections) == 1:
            query = f"connection={connections[0].pk}"
        else:
            query = f"customer={obj.pk}"
        return format_html('<a href="{}?{}"><strong>{}</strong></a>', url, query, obj.open_issues)

    # --- detail sections: one block per connection ------------------------------------------

    def _per_connection(self, obj, render):
        """`render(connection)` for each connection in use, each headed by its owner entity and
        linked to its own page."""
        connections = self._connections(obj)
        if not connections:
            return render(None)
        return format_html_join(
            "",
            '<div class="customer-connection" data-connection="{}">'
            '<h4 style="margin:.6em 0 .3em"><a href="{}">{}</a> · {}</h4>{}</div>',
            (
                (
                    c.pk,
                    reverse("admin:integrations_connection_change", args=[c.pk]),
                    connection_label(c),
                    c.get_status_display(),
                    render(c),
                )
                for c in connections
            ),
        )

    @admin.display(description=_("go-live"))
    def golive_readiness(self, obj):
        if obj.onboarding_status == Customer.Status.LIVE:
            connections = self._connections(obj)
            live = [c.live_since for c in connections if c.live_since]
            since = min(live) if live else None
            # Local time, as "Submitted at" and every other time on the page.
            when = formats.localize(timezone.localtime(since)) if since else ""
            text = format_html("Live{}", f" since {when}" if since else "")
            waiting = [c for c in connections if c.awaits_approval]
            if not waiting:
                return text
            return format_html(
                "{}<br>{} {}",
                text,
                _("Owner entities waiting for go-live approval:"),
                format_html_join(
                    ", ",
                    '<a href="{}">{}</a>',
                    (
                        (
                            reverse("admin:integrations_connection_change", args=[c.pk]),
                            connection_label(c),
                        )
                        for c in waiting
                    ),
                ),
            )
        blockers = golive_blockers(obj)
        if not blockers:
            return format_html("<strong>{}</strong>", _("Ready to approve."))
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((b,) for b in blockers))
        )

    @admin.display(description=_("connections"))
    def connection_summary(self, obj):
        connections = self._connections(obj)
        if not connections:
            return "–"
        return format_html(
            '<ul class="customer-connections">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}">{}</a> · token {} · status <strong>{}</strong>{}</li>',
                (
                    (
                        reverse("admin:integrations_connection_change", args=[c.pk]),
                        connection_label(c),
                        c.token_fingerprint or _("none"),
                        c.get_status_display(),
                        format_html(" · <em>{}</em>", _("waiting for go-live approval"))
                        if c.awaits_approval
                        else "",
                    )
                    for c in connections
                ),
            ),
        )

    @admin.display(description=_("verification"))
    def verification_checklist(self, obj):
        return self._per_connection(obj, sections.verification_checklist)

    @admin.display(description=_("entities"))
    def entities_in_scope(self, obj):
        return self._per_connection(obj, sections.entities_in_scope)

    @admin.display(description=_("schedules"))
    def dataset_health(self, obj):
        return self._per_connection(obj, sections.health)

    @admin.display(description=_("open issues"))
    def open_issues_section(self, obj):
        return self._per_connection(obj, sections.open_issues)

    @admin.display(description=_("recent runs"))
    def recent_runs(self, obj):
        return self._per_connection(obj, sections.recent_runs)

    # --- go-live actions -------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/approve/", wrap(self.approve_view), name="portal_customer_approve"
            ),
            path(
                "<int:object_id>/request-changes/",
                wrap(self.request_changes_view),
                name="portal_customer_request_changes",
            ),
            path(
                "<int:object_id>/offboard/",
                wrap(self.offboard_view),
                name="portal_customer_offboard",
            ),
            path(
                "<int:object_id>/reactivate/",
                wrap(self.reactivate_view),
                name="portal_customer_reactivate",
            ),
        ] + super().get_urls()

    def reactivate_view(self, request, object_id):
        """Take an offboarded customer back (before erasure): a reason, then it sets up its
        connections with new tokens and goes live again with a new approval."""
        customer = self._customer_for_action(request, object_id, offboarding.OFFBOARD_PERMISSION)
        form = ReactivateCustomerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                offboarding.customer_reactivate(
                    customer=customer, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as e:
                for message in e.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _(
                        "%(customer)s is taken back: its users can sign in, enter their owner "
                        "entities with new tokens, and go live again after your approval."
                    )
                    % {"customer": customer},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(self._change_url(customer))
        return self._action_page(
            request,
            customer,
            template="reactivate.html",
            title=_("Take back %(customer)s") % {"customer": customer},
            form=form,
        )

    def offboard_view(self, request, object_id):
        """Offboard the whole customer, after a reason and its legal name typed (never a single
        click). The D01.01 export stays a click away until the data is erased."""
        customer = self._customer_for_action(request, object_id, offboarding.OFFBOARD_PERMISSION)
        form = OffboardCustomerForm(request.POST or None)
        if customer.is_offboarded:
            self.message_user(request, _("This customer was already offboarded."), messages.ERROR)
            return HttpResponseRedirect(self._change_url(customer))
        if request.method == "POST" and form.is_valid():
            try:
                offboarding.customer_offboard(
                    customer=customer,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    confirmation=form.cleaned_data["confirmation"],
                    erasure_requested=form.cleaned_data["erasure_requested"],
                )
            except ValidationError as e:
                for message in e.messages:
                    form.add_error(None, message)
            else:
                self.message_user(
                    request,
                    _(
                        "%(customer)s offboarded: its connections are stopped and their tokens "
                        "destroyed, its unsent invoices cancelled, its logins ended; its data is "
                        "erased after the retention period."
                    )
                    % {"customer": customer},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(customer))
        return self._action_page(
            request,
            customer,
            template="offboard.html",
            title=_("Offboard %(customer)s") % {"customer": customer},
            form=form,
            connections=customer.connections.filter(removed_at__isnull=True),
            users=customer.memberships.filter(user__is_active=True).count(),
            unsent_invoices=Invoice.objects.filter(
                connection__customer=customer, status__in=offboarding.UNSENT
            ).count(),
        )

    def _customer_for_action(self, request, object_id, permission=APPROVE_PERMISSION):
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return get_object_or_404(Customer.objects.select_related("project_manager"), pk=object_id)

    def _action_page(self, request, customer, *, template, title, form, **extra):
        """One of the customer's action pages (a form, then back to the customer)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "customer": customer,
            "original": customer,
            "form": form,
            **extra,
        }
        return TemplateResponse(request, f"admin/portal/customer/{template}", context)

    def _change_url(self, customer):
        return reverse("admin:portal_customer_change", args=[customer.pk])

    def approve_view(self, request, object_id):
        customer = self._customer_for_action(request, object_id)
        blockers = golive_blockers(customer)
        if request.method == "POST":
            try:
                runs = customer_approve_golive(customer=customer, by=request.user)
            except ValidationError as e:
                for message in e.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(customer)s is live; %(n)d initial syncs queued.")
                    % {"customer": customer, "n": len(runs)},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(self._change_url(customer))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Approve go-live of %(customer)s") % {"customer": customer},
            "customer": customer,
            "original": customer,
            "blockers": blockers,
            "verification": self._per_connection(customer, sections.verification_checklist),
        }
        return TemplateResponse(request, "admin/portal/customer/approve.html", context)

    def request_changes_view(self, request, object_id):
        customer = self._customer_for_action(request, object_id)
        form = RequestChangesForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                customer_request_changes(
                    customer=customer, by=request.user, comment=form.cleaned_data["comment"]
                )
            except ValidationError as e:
                for message in e.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Changes requested; the customer has been e-mailed."),
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(self._change_url(customer))
        return self._action_page(
            request,
            customer,
            template="request_changes.html",
            title=_("Request changes from %(customer)s") % {"customer": customer},
            form=form,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_decide_golive"] = (
                request.user.has_perm(APPROVE_PERMISSION)
                and obj.onboarding_status == Customer.Status.SUBMITTED
            )
            context["golive_ready"] = not golive_blockers(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
