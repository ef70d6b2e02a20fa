"""Reads for the customer pages: whose customer is this, how far is the setup, how is it doing.

The three tasks are those of SEMINE's integration document:
(1) client information (the D01.01 spreadsheet), (2) an API token generated for the owner entity
with the rights SEMINE needs, (3) the owner entity ID and the token given to SEMINE. In the
portal, (3) is done when the checked token is stored and the customer has chosen the entities and
dimensions in scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Q, prefetch_related_objects
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.datasets import Dataset
from integrations.issues import issue_customer_text
from integrations.models import (
    Account,
    ClientEntity,
    Connection,
    IntervalRequest,
    Issue,
    Run,
    Schedule,
)
from integrations.models.schedules import format_interval
from integrations.xledger import checklist as xledger_checklist
from portal.ids import parse_id
from portal.intervals import applicable_schedules
from portal.models import AuditEntry, Contact, Customer, Invitation
from portal.roles import CustomerRole

TODO, NEEDS_FIXING, DONE = "todo", "needs_fixing", "done"
STATE_LABELS = {TODO: _("To do"), NEEDS_FIXING: _("Needs fixing"), DONE: _("Done")}


def customer_for_user(user) -> Customer | None:
    """The one customer a customer user may see; None for staff and strangers."""
    if not user.is_authenticated:
        return None
    membership = getattr(user, "membership", None)
    if membership is None:
        return None
    return membership.customer


def it_partner_invitations(customer: Customer) -> list[Invitation]:
    """The IT partner invitations the customer sent, newest first."""
    return list(
        Invitation.objects.filter(customer=customer, role=CustomerRole.IT_PARTNER).order_by(
            "-created_at"
        )[:20]
    )


def connections_of(customer: Customer) -> list[Connection]:
    """The customer's connections in use, one per Xledger owner entity, first one first (each
    with its customer and project manager, which the home page reads per connection)."""
    return list(
        Connection.objects.current()
        .filter(customer=customer)
        .select_related("customer__project_manager")
        .order_by("pk")
    )


def connection_of(customer: Customer) -> Connection | None:
    """The customer's first connection (the one the token step opens with), or None."""
    return Connection.objects.current().filter(customer=customer).order_by("pk").first()


def customer_connection(customer: Customer, pk) -> Connection | None:
    """One of the customer's own connections in use, by id; None for anybody else's, and for
    an id that is no id at all (not a whole number, or beyond what a database stores)."""
    pk = parse_id(pk)
    if pk is None:
        return None
    return Connection.objects.current().filter(customer=customer, pk=pk).first()


def is_live(customer: Customer) -> bool:
    if customer.onboarding_status == Customer.Status.LIVE:
        return True
    return Connection.objects.current().filter(customer=customer, live_since__isnull=False).exists()


# --- The three tasks -----------------------------------------------------------------------------

REQUIRED_CLIENT_FIELDS = (
    "legal_name",
    "organisation_number",
    "street_address",
    "postal_code",
    "city",
    "expected_invoice_volume",
    "supplier_posting_account",
    "customer_posting_account",
    "desired_go_live",
)


def client_information_missing(customer: Customer) -> list[str]:
    """Names of what is still missing from the client information (empty when complete)."""
    missing = [name for name in REQUIRED_CLIENT_FIELDS if getattr(customer, name) in (None, "")]
    if customer.fixed_assets_apply and customer.fixed_assets_as_dimension:
        for name in ("fixed_assets_dimension_code", "fixed_assets_dimension_name"):
            if not getattr(customer, name):
                missing.append(name)
    contacts = {c.role: c for c in Contact.objects.filter(customer=customer)}
    for role in Contact.REQUIRED_ROLES:
        contact = contacts.get(role)
        if contact is None or not contact.name or not contact.email:
            missing.append(f"contact_{role}")
    return missing


# The client information page's sections, in page order: (anchor, heading, what belongs to it).
# Contacts are named as `client_information_missing` names them (`contact_<role>`).
CLIENT_INFORMATION_SECTIONS = (
    (
        "company",
        _("Company"),
        ("legal_name", "country", "organisation_number", "street_address", "postal_code", "city"),
    ),
    ("contacts", _("Contacts"), tuple(f"contact_{role}" for role in Contact.Role.values)),
    (
        "invoices",
        _("Invoices and accounting"),
        ("expected_invoice_volume", "supplier_posting_account", "customer_posting_account"),
    ),
    (
        "fixed-assets",
        _("Fixed assets"),
        (
            "fixed_assets_apply",
            "fixed_assets_as_dimension",
            "fixed_assets_dimension_code",
            "fixed_assets_dimension_name",
        ),
    ),
    ("go-live", _("Go-live"), ("desired_go_live", "notes")),
)


@dataclass
class Section:
    key: str
    title: str
    names: tuple[str, ...]
    complete: bool


def client_information_sections(customer: Customer) -> list[Section]:
    """The sections of the client information, each complete when nothing it requires is missing
    from what is saved (the one rule: `client_information_missing`)."""
    missing = set(client_information_missing(customer))
    return [
        Section(key, title, names, complete=missing.isdisjoint(names))
        for key, title, names in CLIENT_INFORMATION_SECTIONS
    ]


@dataclass
class Task:
    number: int
    key: str
    title: str
    responsible: str
    state: str
    url: str
    detail: str = ""
    extra_links: list = field(default_factory=list)

    @property
    def state_label(self):
        return STATE_LABELS[self.state]

    @property
    def done(self) -> bool:
        return self.state == DONE


def fixed_assets_unchecked(customer: Customer, connection: Connection | None) -> bool:
    """Fixed assets were switched on after the token was checked without them."""
    verification = (connection.verification or {}) if connection else {}
    if not customer.fixed_assets_apply or not verification.get("checks"):
        return False
    return not any(c.get("key") == "fixed_assets" for c in verification["checks"])


def token_state(connection: Connection | None, customer: Customer | None = None) -> str:
    if connection is None or not connection.has_token:
        return TODO
    verification = connection.verification or {}
    if customer is not None and fixed_assets_unchecked(customer, connection):
        return NEEDS_FIXING
    if verification.get("ok"):
        return DONE
    return NEEDS_FIXING


def scope_chosen(connection: Connection | None) -> bool:
    if connection is None:
        return False
    return ClientEntity.objects.filter(connection=connection, in_scope=True).exists()


def connection_state(connection: Connection, customer: Customer) -> str:
    """One connection's setup: TODO, NEEDS_FIXING or DONE (token checked and scope chosen)."""
    tok = token_state(connection, customer)
    if tok != DONE:
        return tok
    return DONE if scope_chosen(connection) else TODO


def _combined(states: list[str]) -> str:
    if not states:
        return TODO
    if NEEDS_FIXING in states:
        return NEEDS_FIXING
    return DONE if all(state == DONE for state in states) else TODO


def first_unfinished(customer: Customer, connections=None) -> Connection | None:
    """The first connection whose token or scope still needs the customer."""
    for connection in connections if connections is not None else connections_of(customer):
        if connection_state(connection, customer) != DONE:
            return connection
    return None


def onboarding_tasks(customer: Customer) -> list[Task]:
    """The three tasks; tasks 2 and 3 are done when they are done for every owner entity."""
    connections = connections_of(customer)
    missing = client_information_missing(customer)
    info_state = DONE if not missing else TODO
    tok = _combined([token_state(c, customer) for c in connections])
    scoped = tok == DONE and all(scope_chosen(c) for c in connections)
    if scoped:
        sent_state = DONE
    elif any(
        c.has_token and c.verification and not c.verification.get("owner_matches")
        for c in connections
    ):
        sent_state = NEEDS_FIXING
    else:
        sent_state = TODO
    unfinished = first_unfinished(customer, connections)
    connection = unfinished or (connections[0] if connections else None)
    info_detail = ""
    if missing:
        info_detail = ngettext(
            "%(count)d required answer is still missing.",
            "%(count)d required answers are still missing.",
            len(missing),
        ) % {"count": len(missing)}
    token_detail = ""
    if tok == NEEDS_FIXING:
        token_detail = _("The last check found problems; see what to fix in Xledger.")
        if any(fixed_assets_unchecked(customer, c) for c in connections):
            token_detail = _(
                "Fixed assets now apply: check the token again so that its access to fixed "
                "assets is checked too."
            )
    sent_detail = ""
    if tok == DONE and not scoped:
        sent_detail = _("Choose the entities and dimensions to synchronise.")
    elif sent_state == NEEDS_FIXING:
        sent_detail = _("The token does not belong to the Owner ID you entered.")
    return [
        Task(
            1,
            "client_information",
            _("Fill in the client information (replaces the D01.01 spreadsheet)"),
            _("Customer"),
            info_state,
            reverse("client_information"),
            info_detail,
        ),
        Task(
            2,
            "token",
            _("Generate an API token for the owner entity with the rights SEMINE needs"),
            _("Customer / IT partner"),
            tok,
            reverse("token_instructions"),
            token_detail,
        ),
        Task(
            3,
            "owner_and_token",
            _("Give SEMINE the owner entity ID and the API token"),
            _("Customer / IT partner"),
            sent_state,
            _connection_step_url(connection, tok),
            sent_detail,
        ),
    ]


def _connection_step_url(connection: Connection | None, tok: str) -> str:
    if connection is None:
        return reverse("xledger_token")
    if token_state(connection) != DONE or tok != DONE:
        return reverse("xledger_connection_token", args=[connection.pk])
    return reverse("xledger_connection_scope", args=[connection.pk])


CONNECTION_LIVE, CONNECTION_AWAITS_APPROVAL, CONNECTION_READY = "live", "awaits_approval", "ready"
CONNECTION_STATE_LABELS = {
    **STATE_LABELS,
    CONNECTION_LIVE: _("Live"),
    CONNECTION_AWAITS_APPROVAL: _("Waiting for SEMINE's approval"),
    CONNECTION_READY: _("Ready: ask SEMINE to take it live"),
}


def connection_rows(customer: Customer) -> list[dict]:
    """The customer's owner entities as the token step and the home page list them."""
    customer_live = customer.onboarding_status == Customer.Status.LIVE
    rows = []
    for connection in connections_of(customer):
        state = connection_state(connection, customer)
        if connection.is_live:
            state = CONNECTION_LIVE
        elif connection.awaits_approval:
            state = CONNECTION_AWAITS_APPROVAL
        elif customer_live and state == DONE:
            state = CONNECTION_READY
        verified = (connection.verification or {}).get("ok")
        rows.append(
            {
                "connection": connection,
                "state": state,
                "state_label": CONNECTION_STATE_LABELS[state],
                "name": connection.owner_entity_name,
                "token_url": reverse("xledger_connection_token", args=[connection.pk]),
                "scope_url": (
                    reverse("xledger_connection_scope", args=[connection.pk]) if verified else ""
                ),
                "may_discard": connection.live_since is None,
                "may_ask_approval": state == CONNECTION_READY,
            }
        )
    return rows


def all_tasks_done(customer: Customer) -> bool:
    return all(task.done for task in onboarding_tasks(customer))


def change_request_comment(customer: Customer) -> str:
    """What the project manager asked to change, when the setup was sent back."""
    entry = (
        AuditEntry.objects.filter(customer=customer, action="changes_requested")
        .order_by("-created_at")
        .first()
    )
    return entry.comment if entry else ""


# --- The token checklist, in the customer's language ---------------------------------------------


def checklist(verification: dict | None) -> list[dict]:
    """The stored verify() checklist with labels and fixes in the active language.

    The stored result keeps stable keys and parameters; the words come from
    integrations/xledger/checklist.py at display time. Checks stored before they carried
    parameters keep their stored (English) fix, so nothing is ever hidden."""
    rows = []
    for check in (verification or {}).get("checks", []):
        label, fix = xledger_checklist.describe(check)
        rows.append(
            {
                "key": check.get("key"),
                "label": label,
                "ok": bool(check.get("ok")),
                "fix": fix,
                "detail": xledger_checklist.detail(check),  # Xledger's words, untranslated
            }
        )
    return rows


# --- Chart of accounts ---------------------------------------------------------------------------


def known_account_codes(customer: Customer) -> set[str] | None:
    """Account codes found in the mirrored chart of accounts of every owner entity whose chart
    has been synced (the posting accounts serve all of them); None before any was synced."""
    known = None
    for connection in connections_of(customer):
        codes = set(
            Account.objects.filter(connection=connection, is_deleted=False).values_list(
                "code", flat=True
            )
        )
        if codes:
            known = codes if known is None else known & codes
    return known


# --- Health, once live ---------------------------------------------------------------------------

# What is wrong now with a live connection, most urgent first: the first that applies is the one
# the customer reads, with the one action that fixes it.
HEALTH_TOKEN_REJECTED = "token_rejected"
HEALTH_PERMISSION_MISSING = "permission_missing"
HEALTH_PAUSED = "paused"
HEALTH_CREDITS_EXHAUSTED = "credits_exhausted"
HEALTH_FAILING = "failing"
HEALTH_RUNNING = "running"

# Runs that did not complete (a partial run read and wrote every page: it counts as a success,
# kept on its schedule's `last_success_at`).
RUN_FAILED = (Run.Status.FAILED, Run.Status.DEFERRED)
# Open issues that SEMINE looks into (the customer has nothing to do about them).
SEMINE_LOOKS_INTO = {
    Issue.Kind.DATASET_FAILING,
    Issue.Kind.SCHEMA_MISMATCH,
    Issue.Kind.INVOICES_FAILING,
    Issue.Kind.MASS_DELETION,
}
# Of those, the ones that mean their dataset is not being synchronised.
DATASET_NOT_SYNCED = SEMINE_LOOKS_INTO - {Issue.Kind.MASS_DELETION}


@dataclass
class DatasetHealth:
    dataset: str
    label: str
    interval: str
    last_success: datetime | None
    last_failure: datetime | None
    failing: bool
    now: str = ""  # "running" or "queued" while a run of it is under way, else ""


@dataclass
class Health:
    """One connection as its customer reads it: what is wrong now (or that nothing is), the one
    action that fixes it (a label without a URL is something to know, not to do), and per
    dataset the last successful synchronisation."""

    state: str
    message: str
    action_label: str = ""
    action_url: str = ""
    datasets: list[DatasetHealth] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    active: bool = False  # a run is queued or running: the page showing it refreshes itself

    @property
    def ok(self) -> bool:
        return self.state == HEALTH_RUNNING


def connection_health(connection: Connection) -> Health:
    """How one connection is doing: see `connections_health`."""
    return connections_health([connection])[connection.pk]


def connections_health(connections: list[Connection]) -> dict[int, Health]:
    """{connection id: Health} in three queries however many connections and datasets (when the
    connections come with their customer and project manager, as `connections_of` gives them):
    the runs (latest failure per connection × dataset, and whether one is queued or running
    now), the open issues and the schedules (each keeps its last success: quiet runs are rolled
    up and pruned, so the runs cannot tell it). A dataset is failing when a run failed (or was
    deferred) after its last success, or an open issue says it is not being synchronised."""
    ids = [connection.pk for connection in connections]
    # Read per connection below; nothing to fetch when the caller selected them already.
    prefetch_related_objects(connections, "customer__project_manager")
    runs = {
        (row["connection_id"], row["dataset"]): row
        for row in Run.objects.filter(
            connection_id__in=ids, status__in=[*RUN_FAILED, *Run.ACTIVE_STATUSES]
        )
        .values("connection_id", "dataset")
        .annotate(
            last_failure=Max("finished_at", filter=Q(status__in=RUN_FAILED)),
            running=Count("pk", filter=Q(status=Run.Status.RUNNING)),
            queued=Count("pk", filter=Q(status=Run.Status.QUEUED)),
        )
    }
    active = {cid for (cid, _dataset), row in runs.items() if row["running"] or row["queued"]}
    issues: dict[int, list[Issue]] = {pk: [] for pk in ids}
    for issue in Issue.objects.filter(
        connection_id__in=ids, status__in=[Issue.Status.OPEN, Issue.Status.ACKNOWLEDGED]
    ).order_by("-last_seen_at"):
        issues[issue.connection_id].append(issue)
    schedules: dict[int, list[Schedule]] = {pk: [] for pk in ids}
    order = {dataset: position for position, dataset in enumerate(Dataset.values)}
    for schedule in sorted(
        Schedule.objects.filter(connection_id__in=ids), key=lambda s: order.get(s.dataset, 99)
    ):
        schedules[schedule.connection_id].append(schedule)

    health = {}
    for connection in connections:
        not_synced = {
            issue.dataset for issue in issues[connection.pk] if issue.kind in DATASET_NOT_SYNCED
        }
        datasets = []
        for schedule in schedules[connection.pk]:
            if schedule.dataset == Dataset.FIXED_ASSETS and not (
                connection.customer.fixed_assets_apply
            ):
                continue
            row = runs.get((connection.pk, schedule.dataset), {})
            last_success, last_failure = schedule.last_success_at, row.get("last_failure")
            failed_since = last_failure is not None and (
                last_success is None or last_failure > last_success
            )
            datasets.append(
                DatasetHealth(
                    dataset=schedule.dataset,
                    label=schedule.get_dataset_display(),
                    interval=format_interval(schedule.interval),
                    last_success=last_success,
                    last_failure=last_failure,
                    failing=failed_since or schedule.dataset in not_synced,
                    now=(
                        "running" if row.get("running") else "queued" if row.get("queued") else ""
                    ),
                )
            )
        health[connection.pk] = _health(connection, datasets, issues[connection.pk])
        health[connection.pk].active = connection.pk in active
    return health


def _health(connection: Connection, datasets: list[DatasetHealth], issues: list[Issue]) -> Health:
    """The decision: the first of these that applies is what is wrong now."""
    kinds = {issue.kind for issue in issues}
    owner = connection.owner_entity_id
    token_url = reverse("xledger_connection_token", args=[connection.pk])
    failed_checks = {
        check.get("key")
        for check in (connection.verification or {}).get("checks", [])
        if not check.get("ok")
    }
    needs_attention = connection.status == Connection.Status.NEEDS_ATTENTION
    shown = {
        "datasets": datasets,
        "issues": [_customer_issue(issue) for issue in issues],
    }
    if Issue.Kind.AUTH_FAILED in kinds or (needs_attention and "token" in failed_checks):
        return Health(
            HEALTH_TOKEN_REJECTED,
            _("Xledger no longer accepts the API token of owner entity %(owner)s.")
            % {"owner": owner},
            _("Replace the token"),
            token_url,
            **shown,
        )
    if Issue.Kind.PERMISSION_MISSING in kinds or needs_attention:
        return Health(
            HEALTH_PERMISSION_MISSING,
            _("The API token of owner entity %(owner)s lacks a permission SEMINE needs.")
            % {"owner": owner},
            _("Check the token"),
            token_url,
            **shown,
        )
    if connection.status == Connection.Status.PAUSED:
        manager = connection.customer.project_manager
        return Health(
            HEALTH_PAUSED,
            _("SEMINE has paused this connection: nothing is synchronised until it is resumed."),
            _("Contact your project manager"),
            f"mailto:{manager.email}" if manager and manager.email else "",
            **shown,
        )
    if Issue.Kind.CREDITS_EXHAUSTED in kinds:
        return Health(
            HEALTH_CREDITS_EXHAUSTED,
            _(
                "Your Xledger request credits are used up for now, so synchronisation waits "
                "until Xledger accepts requests again."
            ),
            _("No action needed: it resumes by itself."),
            **shown,
        )
    failing = [row.label for row in datasets if row.failing]
    if failing or kinds & SEMINE_LOOKS_INTO:
        if failing:
            message = _("Synchronising %(datasets)s is failing. SEMINE is looking into it.") % {
                "datasets": ", ".join(str(label) for label in failing)
            }
        else:
            message = _("Something needs SEMINE's attention. SEMINE is looking into it.")
        return Health(HEALTH_FAILING, message, _("No action needed from you."), **shown)
    return Health(HEALTH_RUNNING, _("Everything is running."), **shown)


def _customer_issue(issue: Issue) -> dict:
    """An issue as the customer reads it: kind, dataset and meaning in their language (the
    stored title and detail are English, for staff)."""
    return {
        "issue": issue,
        "kind": issue.get_kind_display(),
        "dataset": issue.get_dataset_display() if issue.dataset else "",
        "text": issue_customer_text(issue),
    }


# --- Intervals -----------------------------------------------------------------------------------


def intervals_in_force(connection: Connection) -> list[dict]:
    """Per dataset of the connection: the interval in force, the default, and the customer's
    latest request for another one (with its status and the project manager's answer)."""
    latest = {}
    for request in IntervalRequest.objects.filter(connection=connection).select_related(
        "decided_by"
    ):
        latest.setdefault(request.dataset, request)  # newest first (the model's ordering)
    return [
        {
            "dataset": schedule.dataset,
            "label": schedule.get_dataset_display(),
            "interval": format_interval(schedule.interval),
            "default": format_interval(schedule.default_interval),
            "overridden": schedule.interval != schedule.default_interval,
            "request": latest.get(schedule.dataset),
        }
        for schedule in applicable_schedules(connection)
    ]
