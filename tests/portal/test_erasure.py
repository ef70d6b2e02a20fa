"""Erasure after retention (#19): once an offboarded customer's retention has run out (a clock
passed in, never a sleep), nothing is left of it but the anonymised record, its anonymised
customer, connection and user rows and redacted audit entries; a connection offboarded alone goes
on its own; an erasure request shortens the wait; a run stopped half-way goes on; a second run
changes nothing."""

import json
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection as db
from django.db.models import Q
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential, WebAuthnUserHandle
from django_q.models import Schedule as QSchedule

from integrations import erasure as engine
from integrations.models import (
    ApiKey,
    ClientEntity,
    Connection,
    IntervalRequest,
    Invoice,
    InvoiceAttachment,
    InvoiceLine,
    RequestUsage,
    RunDay,
    ScopeChange,
    Supplier,
)
from integrations.models.mirror import MirrorRecord
from portal import erasure, offboarding
from portal.invitations import Invitation
from portal.models import AuditEntry, Contact, Customer, ErasureRecord, Membership
from portal.token_links import TokenLink
from signin import factors
from signin.models import UserSession
from tests.admin_builders import make_issue, make_run
from tests.api.conftest import add_rows, make_live_connection
from tests.api.test_metrics import make_invoice

NAME = "Nordlys Havservice AS"
OLD_NAME = "Nordlys Skipsfart AS"
REASON = "The contract ended; Kari Nordlie asked us to stop."
SUPPLIERS = ["Bergen Verft Reparasjon AS", "Hammerfest Tauverk ENK"]
SUPPLIER_EMAIL = "faktura@bergenverft.example"
ENTITY = "Nordlys Eiendom Holding AS"
USERS = [
    ("kari.nordlie@nordlys.example", "Kari", "Nordlie"),
    ("ola.berge@nordlys.example", "Ola", "Berge"),
]
CONTACTS = [
    ("project", "Kari Nordlie", "kari.nordlie@nordlys.example", "+47 41 23 45 67"),
    ("finance", "Per Sandvik", "per.sandvik@nordlys.example", "922 33 444"),
]
INVITED = "ny.kollega@nordlys.example"
LINK_TO = "it.partner@nordlysdata.example"
NEEDLES = [
    NAME,
    OLD_NAME,
    *SUPPLIERS,
    SUPPLIER_EMAIL,
    ENTITY,
    INVITED,
    LINK_TO,
    "Kari Nordlie",
    "Per Sandvik",
    "Strandvegen 12",
    *(email for email, _, _ in USERS),
    *(c[2] for c in CONTACTS),
    *(c[3] for c in CONTACTS),
    "%PDF-1.7 hull repair",
    "974760673",  # the organisation number
]
DAY = timedelta(days=1)


# --- Builders ----------------------------------------------------------------------------------


def mirror_models():
    return [m for m in MirrorRecord.__subclasses__() if not m._meta.abstract]


def fill_mirror(connection, suppliers=SUPPLIERS, supplier_email=SUPPLIER_EMAIL):
    """Rows in every mirror table, suppliers with names, an address and a bank account."""
    for model in mirror_models():
        extra = {"object_kind_db_id": 1} if model.__name__ == "ObjectValue" else {}
        add_rows(model, connection, 4, **extra)
    Supplier.objects.bulk_create(
        Supplier(
            connection=connection,
            db_id=900_000 + n,
            code=f"LEV{n}",
            description=name,
            email=supplier_email,
            bank_account=f"1503.22.1234{n}",
            company_number="917654321",
            content_hash="x",
        )
        for n, name in enumerate(suppliers)
    )


def fill_engine(connection, first_invoice=1):
    """Runs, roll-ups, request counts, Issues, invoices with lines and a PDF, a scope change and
    an interval request, a client entity, the last token check naming the entities."""
    ClientEntity.objects.create(
        connection=connection, db_id=connection.owner_entity_id + 1, code="EIE", description=ENTITY
    )
    connection.verification = {
        "owner": {"dbId": connection.owner_entity_id, "description": ENTITY},
        "entities": [{"dbId": 1, "description": ENTITY, "is_owner": True}],
        "xledger_user": USERS[0][0],
    }
    connection.save()
    make_run(connection, "suppliers", ago=timedelta(days=3))
    make_run(connection, "suppliers", ago=timedelta(days=2), created=4)
    make_run(
        connection,
        "suppliers",
        status="failed",
        error_message=f"Supplier {SUPPLIERS[0]} refused: bad bank account",
    )
    RunDay.objects.create(connection=connection, dataset="suppliers", day=date(2026, 1, 5), runs=40)
    RequestUsage.objects.create(connection=connection, month=date(2026, 1, 1), requests=5200)
    make_issue(connection, title=f"Supplier {SUPPLIERS[1]} failing", detail=SUPPLIER_EMAIL)
    for n, status in enumerate(["sent", "sent", "pending", "cancelled"], start=first_invoice):
        invoice = make_invoice(connection, n, status=status)
        Invoice.objects.filter(pk=invoice.pk).update(text=f"{SUPPLIERS[0]}: hull repair")
        for position in (1, 2):
            InvoiceLine.objects.create(
                invoice=invoice,
                position=position,
                account="6300",
                vat_code="1",
                amount="50.00",
                text=f"{SUPPLIERS[0]} hull repair",
            )
        pdf = b"%PDF-1.7 hull repair " + SUPPLIERS[0].encode() + b"\n%%EOF"
        InvoiceAttachment.objects.create(
            invoice=invoice, file_name="faktura.pdf", content=pdf, size=len(pdf), sha256="0" * 64
        )
    user = User.objects.filter(membership__customer=connection.customer).first()
    ScopeChange.objects.create(
        connection=connection,
        entities={"1": {"in_scope": True, "fixed_assets": False}},
        summary=f"Add {ENTITY}, asked by Kari Nordlie",
        requested_by=user,
    )
    IntervalRequest.objects.create(
        connection=connection,
        dataset="suppliers",
        interval=timedelta(hours=1),
        reason="Kari Nordlie needs hourly suppliers",
        requested_by=user,
    )


def add_user(customer, email, first, last):
    user = User.objects.create_user(email, email, "pw-123456789", first_name=first, last_name=last)
    Membership.objects.create(user=user, customer=customer, language="nb")
    return user


def add_signin_data(user, n):
    """Second factors, a session (in the store and the registry), a login failure."""
    TOTPDevice.objects.create(user=user, name="Karis iPhone", confirmed=True)
    factors.new_recovery_codes(user=user)  # recovery codes, and an audit entry naming the user
    WebAuthnCredential.objects.create(
        user=user,
        name="YubiKey",
        confirmed=True,
        credential_id=bytes([n]) * 16,
        public_key=b"key",
        aaguid="0" * 36,
        credential_id_sha256=f"{n}" * 64,
    )
    WebAuthnUserHandle.objects.create(user=user, handle_hex=f"{n:02x}" * 32)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session.create()
    UserSession.objects.create(user=user, session_key=session.session_key)
    axes = apps.get_model("axes", "AccessAttempt")
    axes.objects.create(
        username=user.email,
        ip_address="10.0.0.9",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )
    apps.get_model("axes", "AccessFailureLog").objects.create(
        username=user.email, ip_address="10.0.0.9", user_agent="Firefox", http_accept="*/*"
    )


def make_full_customer(pm):
    """A live customer with two owner entities and everything the portal can hold about it."""
    first = make_live_connection(NAME)
    customer = first.customer
    Customer.objects.filter(pk=customer.pk).update(
        project_manager=pm,
        organisation_number="974760673",
        street_address="Strandvegen 12",
        postal_code="9008",
        city="Tromsø",
        notes="Ring Per Sandvik før go-live.",
    )
    customer.refresh_from_db()
    second = make_live_connection(customer=customer)
    users = [add_user(customer, *user) for user in USERS]
    users[0].groups.add(Group.objects.create(name="Nordlys readers"))
    for n, user in enumerate(users, start=1):
        add_signin_data(user, n)
    for role, name, email, phone in CONTACTS:
        Contact.objects.create(customer=customer, role=role, name=name, email=email, phone=phone)
    for n, connection in enumerate([first, second]):
        fill_mirror(connection)
        fill_engine(connection, first_invoice=10 * n + 1)
    pending = Invitation(customer=customer, email=INVITED, created_by=pm)
    pending.issue_token()
    pending.save()
    accepted = Invitation(customer=customer, email=USERS[0][0], created_by=pm)
    accepted.issue_token()
    accepted.accepted_user = users[0]
    accepted.save()
    link = TokenLink(connection=first, email=LINK_TO, message="Hei Kari Nordlie!", created_by=pm)
    link.issue_token()
    link.save()
    ApiKey.issue(name="SEMINE for Nordlys", customer=customer, by=pm)
    AuditEntry.record(
        actor=pm,
        action="client_information_save",
        customer=customer,
        target=OLD_NAME,
        before={"legal_name": OLD_NAME, "city": "Bodø", "street_address": "Kaia 1"},
        after={"legal_name": NAME, "city": "Tromsø", "street_address": "Strandvegen 12"},
    )
    AuditEntry.record(
        actor=pm,
        action="contacts_changed",
        customer=customer,
        target=customer,
        after={
            "added": ["Per Sandvik (Finance contact)"],
            "edited": {"Kari Nordlie (Project contact)": ["phone"]},
            "deleted": [],
        },
    )
    AuditEntry.record(
        actor=users[0],
        action="token_link_sent",
        customer=customer,
        target=f"{NAME} · owner entity {first.owner_entity_id} · {LINK_TO}",
        after={"connection": first.pk, "email": LINK_TO, "status": "sent", "days": 7},
        comment="Called Kari Nordlie on +47 41 23 45 67 first",
    )
    AuditEntry.record(  # made by the customer's user outside its customer
        actor=users[1], action="password_changed", target=USERS[1][0]
    )
    LogEntry.objects.create(
        user=pm,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk),
        object_repr=NAME,
        action_flag=CHANGE,
        change_message=json.dumps(
            [
                {"changed": {"fields": ["Legal name"]}},
                {
                    "changed": {
                        "name": "contact",
                        "object": "Kari Nordlie (Project contact)",
                        "fields": ["Phone"],
                    }
                },
            ]
        ),
    )
    return {"customer": customer, "first": first, "second": second, "users": users}


def make_bystander(pm):
    """Another live customer: nothing of it may change."""
    connection = make_live_connection("Sørfjord Fisk AS")
    customer = connection.customer
    user = add_user(customer, "anne@sorfjord.example", "Anne", "Sørfjord")
    TOTPDevice.objects.create(user=user, name="Annes telefon", confirmed=True)
    Contact.objects.create(
        customer=customer, role="project", name="Anne Sørfjord", email="anne@sorfjord.example"
    )
    fill_mirror(connection, suppliers=["Havbruk Service AS"], supplier_email="post@havbruk.example")
    make_run(connection, "suppliers")
    make_invoice(connection, 99, status="sent")
    AuditEntry.record(actor=pm, action="resync", customer=customer, target="Sørfjord Fisk AS")
    return customer


def offboard(customer, pm, **kwargs):
    offboarding.customer_offboard(
        customer=customer, by=pm, reason=REASON, confirmation=customer.legal_name, **kwargs
    )
    customer.refresh_from_db()
    return customer


# --- Looking at the whole database -------------------------------------------------------------


def _foreign_key_paths(model, targets, depth=3, prefix="", seen=()):
    """(lookup, target model) for every chain of foreign keys from `model` to one of `targets`."""
    if depth == 0:
        return
    for field in model._meta.concrete_fields:
        if not (field.many_to_one or field.one_to_one) or field.related_model in seen:
            continue
        path = f"{prefix}{field.name}"
        if field.related_model in targets:
            yield path, field.related_model
        yield from _foreign_key_paths(
            field.related_model, targets, depth - 1, f"{path}__", (*seen, model)
        )


def rows_referring_to(*, customers=(), connections=(), users=()) -> dict:
    """{model label: rows} over every model of every app (link tables included) that is one of,
    or refers by foreign keys to, the given customers, connections or users."""
    targets = {
        Customer: [c.pk for c in customers],
        Connection: [c.pk for c in connections],
        User: [u.pk for u in users],
    }
    found = {}
    for model in apps.get_models(include_auto_created=True):
        condition = Q(pk__in=targets.get(model, []))
        for path, target in _foreign_key_paths(model, targets):
            condition |= Q(**{f"{path}__in": targets[target]})
        n = model._base_manager.filter(condition).count()
        if n:
            found[model._meta.label] = n
    return found


def database_text() -> dict:
    """Every table of the database, every row, as lower-case text (bytes decoded too)."""
    tables = {}
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")
            cells = []
            for row in cursor.fetchall():
                for cell in row:
                    if isinstance(cell, bytes | memoryview):
                        cell = bytes(cell).decode("utf-8", "replace")
                    cells.append(str(cell))
            tables[table] = "\n".join(cells).lower()
    return tables


def tables_holding(needles, text=None) -> dict:
    """{needle: [tables]} of the needles found anywhere, as written or as JSON writes them."""
    text = text if text is not None else database_text()
    found = {}
    for needle in needles:
        forms = {needle.lower(), json.dumps(needle)[1:-1].lower()}
        tables = [t for t, content in text.items() if any(f in content for f in forms)]
        if tables:
            found[needle] = tables
    return found


# --- A whole customer --------------------------------------------------------------------------


@pytest.fixture
def full(db, pm_user):
    data = make_full_customer(pm_user)
    data["bystander"] = make_bystander(pm_user)
    return data


def test_it_leaves_only_the_record_and_anonymised_rows_after_the_retention(full, pm_user):
    customer, users = full["customer"], full["users"]
    connections = [full["first"], full["second"]]
    assert tables_holding(NEEDLES).keys() == set(NEEDLES)  # the needles are there to be found
    bystander_before = rows_referring_to(customers=[full["bystander"]])
    audit_before = set(
        AuditEntry.objects.filter(customer=customer).values_list("pk", "action", "actor_id")
    )
    sessions = list(
        UserSession.objects.filter(user__in=users).values_list("session_key", flat=True)
    )
    customer = offboard(customer, pm_user)
    assert customer.erase_after == customer.offboarded_at + 90 * DAY

    result = erasure.erase_due(now=customer.offboarded_at + 91 * DAY, chunk=3)

    assert (result["customers"], result["connections"], result["failed"]) == (1, 0, 0)
    assert result["numbers"]["customers"] == [customer.pk]
    assert result["rows"]["integrations.Supplier"] == 2 * (4 + len(SUPPLIERS))
    assert result["rows"]["integrations.InvoiceAttachment"] == 8
    # Every model of every app: what refers to the customer, its connections or its users.
    left = rows_referring_to(customers=[customer], connections=connections, users=users)
    assert set(left) == {
        "portal.Customer",
        "integrations.Connection",
        "auth.User",
        "portal.AuditEntry",
    }
    kept = ("portal.Customer", "integrations.Connection", "auth.User")
    assert [left[label] for label in kept] == [1, 2, 2]
    # Nowhere in the database: names, addresses, e-mail addresses, phone numbers, suppliers, PDFs.
    assert tables_holding(NEEDLES) == {}
    # The anonymised rows.
    customer.refresh_from_db()
    assert customer.legal_name == f"Erased customer {customer.pk}"
    assert (customer.street_address, customer.city, customer.notes) == ("", "", "")
    assert customer.organisation_number == ""  # a sole proprietorship's would point at a person
    assert customer.erasure_started_at == customer.erased_at == customer.offboarded_at + 91 * DAY
    for user in User.objects.filter(pk__in=[u.pk for u in users]):
        assert user.username == f"erased-{user.pk}"
        assert (user.email, user.first_name, user.last_name) == ("", "", "")
        assert not user.is_active and not user.has_usable_password()
        assert not user.groups.exists()
    assert len(sessions) == 2 and not Session.objects.filter(session_key__in=sessions).exists()
    for connection in Connection.objects.filter(customer=customer):
        assert connection.verification == {} and connection.api_token is None
        assert connection.owner_entity_id and connection.removed_at
    # Audit entries: action, dates and actor kept; the rest redacted.
    audit_after = set(
        AuditEntry.objects.filter(customer=customer).values_list("pk", "action", "actor_id")
    )
    assert audit_before < audit_after
    contacts = AuditEntry.objects.get(customer=customer, action="contacts_changed")
    assert contacts.after == {
        "added": ["[erased]"],
        "edited": {"[erased] 1": ["phone"]},
        "deleted": [],
    }
    link = AuditEntry.objects.get(action="token_link_sent")
    assert link.actor_id == users[0].pk and link.comment == "[erased]"
    assert link.target == f"[erased] · owner entity {full['first'].owner_entity_id} · [erased]"
    assert link.after == {
        "connection": full["first"].pk,
        "email": "[erased]",
        "status": "sent",
        "days": 7,
    }
    entry = LogEntry.objects.get(object_id=str(customer.pk))
    assert entry.object_repr == "[erased]" and "Legal name" in entry.change_message
    # The record.
    record = ErasureRecord.objects.get(customer_number=customer.pk)
    assert record.connection_number is None and record.erased_at == customer.erased_at
    assert record.offboarded_at == customer.offboarded_at
    assert record.live_since == full["first"].live_since
    assert (record.connections, record.invoices, record.invoices_sent) == (2, 8, 4)
    assert (record.runs, record.xledger_requests) == (2 * (3 + 40), 2 * 5200)
    assert (record.users, record.contacts) == (2, 2)
    assert record.erased["integrations.Supplier"] == result["rows"]["integrations.Supplier"]
    # The other customer is untouched, and an API key for all customers stays.
    assert rows_referring_to(customers=[full["bystander"]]) == bystander_before
    assert tables_holding(["Sørfjord Fisk AS", "anne@sorfjord.example", "Havbruk Service AS"])

    # A second run changes nothing.
    before = database_text()
    again = erasure.erase_due(now=customer.offboarded_at + 92 * DAY, chunk=3)
    assert (again["customers"], again["connections"], again["failed"], again["rows"]) == (
        0,
        0,
        0,
        {},
    )
    assert database_text() == before


def test_it_erases_nothing_before_the_retention_period(full, pm_user):
    customer = offboard(full["customer"], pm_user)
    before = rows_referring_to(customers=[customer], connections=[full["first"], full["second"]])
    result = erasure.erase_due(now=customer.offboarded_at + 89 * DAY)
    assert (result["customers"], result["connections"], result["rows"]) == (0, 0, {})
    assert (
        rows_referring_to(customers=[customer], connections=[full["first"], full["second"]])
        == before
    )
    assert Customer.objects.get(pk=customer.pk).legal_name == NAME
    assert not ErasureRecord.objects.exists()


def test_an_erasure_request_is_erased_after_30_days(full, pm_user):
    customer = offboard(full["customer"], pm_user, erasure_requested=True)
    assert customer.erase_after == customer.offboarded_at + 30 * DAY
    assert erasure.erase_due(now=customer.offboarded_at + 29 * DAY)["customers"] == 0
    assert erasure.erase_due(now=customer.offboarded_at + 31 * DAY)["customers"] == 1
    assert Customer.objects.get(pk=customer.pk).legal_name == f"Erased customer {customer.pk}"
    assert ErasureRecord.objects.get(customer_number=customer.pk).erasure_requested


# --- One connection offboarded alone -----------------------------------------------------------


def test_a_connection_offboarded_alone_is_erased_and_the_other_left_running(full, pm_user):
    customer, first, second = full["customer"], full["first"], full["second"]
    offboarding.connection_offboard(
        connection=first, by=pm_user, reason=REASON, confirmation=str(first.owner_entity_id)
    )
    first.refresh_from_db()
    second_before = rows_referring_to(connections=[second])
    customer_before = {
        "contacts": list(Contact.objects.filter(customer=customer).values()),
        "users": list(User.objects.filter(membership__customer=customer).values()),
        "audit": list(AuditEntry.objects.filter(customer=customer).values()),
    }
    assert erasure.erase_due(now=first.removed_at + 89 * DAY)["connections"] == 0

    result = erasure.erase_due(now=first.removed_at + 91 * DAY, chunk=2)

    assert (result["customers"], result["connections"]) == (0, 1)
    assert result["numbers"]["connections"] == [first.pk]
    assert rows_referring_to(connections=[first]) == {"integrations.Connection": 1}
    assert rows_referring_to(connections=[second]) == second_before
    assert Connection.objects.get(pk=first.pk).verification == {}
    assert Connection.objects.get(pk=second.pk).has_token
    assert customer_before == {
        "contacts": list(Contact.objects.filter(customer=customer).values()),
        "users": list(User.objects.filter(membership__customer=customer).values()),
        "audit": list(
            AuditEntry.objects.filter(customer=customer)
            .exclude(action="connection_erased")
            .values()
        ),
    }
    record = ErasureRecord.objects.get(connection_number=first.pk)
    assert record.customer_number == customer.pk and record.is_done
    assert record.customer_since == customer.created_at and record.offboarded_at == first.removed_at
    assert (record.connections, record.invoices, record.invoices_sent) == (1, 4, 2)
    assert record.erased["portal.TokenLink"] == 1
    # Done: a second run finds nothing.
    again = erasure.erase_due(now=first.removed_at + 95 * DAY)
    assert (again["customers"], again["connections"], again["rows"]) == (0, 0, {})


# --- Stopped half-way --------------------------------------------------------------------------


def test_an_erasure_stopped_after_the_engine_step_goes_on_at_the_next_run(
    full, pm_user, monkeypatch
):
    customer = offboard(full["customer"], pm_user)
    now = customer.offboarded_at + 91 * DAY
    real_step = erasure._erase_customer_portal_side

    def crash(**kwargs):
        raise RuntimeError("the worker died")

    monkeypatch.setattr(erasure, "_erase_customer_portal_side", crash)
    result = erasure.erase_due(now=now)
    assert (result["customers"], result["failed"]) == (0, 1)
    assert result["numbers"]["failed"] == [f"customer {customer.pk}"]
    # Half-way: the engine's data is gone, the portal's is still there, and it shows.
    assert not Supplier.objects.filter(connection__customer=customer).exists()
    assert Contact.objects.filter(customer=customer).count() == 2
    customer.refresh_from_db()
    assert customer.erasure_started_at == now and customer.erased_at is None
    record = ErasureRecord.objects.get(customer_number=customer.pk)
    assert not record.is_done and record.erased["integrations.Supplier"] == 12
    assert record.invoices == 8  # counted before anything went

    monkeypatch.setattr(erasure, "_erase_customer_portal_side", real_step)
    result = erasure.erase_due(now=now + DAY)
    assert (result["customers"], result["failed"]) == (1, 0)
    assert "integrations.Supplier" not in result["rows"]  # nothing deleted twice
    assert tables_holding(NEEDLES) == {}
    record.refresh_from_db()
    assert record.is_done and record.erased["integrations.Supplier"] == 12
    assert record.invoices == 8


def test_chunks_deleted_before_a_crash_are_counted_once(full, pm_user, monkeypatch):
    customer = offboard(full["customer"], pm_user)
    now = customer.offboarded_at + 91 * DAY
    real_progress = erasure._progress
    calls = []

    def crashing_progress(record_pk):
        count = real_progress(record_pk)

        def progress(label, n):
            calls.append(label)
            if len(calls) == 5:  # inside the fifth chunk's transaction: that chunk stays
                raise RuntimeError("the worker died")
            count(label, n)

        return progress

    monkeypatch.setattr(erasure, "_progress", crashing_progress)
    assert erasure.erase_due(now=now, chunk=3)["failed"] == 1
    monkeypatch.setattr(erasure, "_progress", real_progress)
    assert erasure.erase_due(now=now, chunk=3)["customers"] == 1
    record = ErasureRecord.objects.get(customer_number=customer.pk)
    for model in mirror_models():
        expected = 2 * (4 + (len(SUPPLIERS) if model is Supplier else 0))
        assert record.erased[model._meta.label] == expected


# --- The engine's plan -------------------------------------------------------------------------


def test_the_plan_covers_every_table_holding_a_connections_rows_children_first(db):
    plan = [step.model for step in engine.erasure_plan()]
    referring = {
        model
        for model in apps.get_app_config("integrations").get_models()
        if model is not Connection and any(_foreign_key_paths(model, {Connection}))
    }
    assert set(plan) == referring
    assert set(mirror_models()) <= set(plan)
    before = plan.index
    assert before(InvoiceLine) < before(Invoice) < before(ClientEntity)
    assert before(InvoiceAttachment) < before(Invoice)
    assert before(apps.get_model("integrations", "Run")) < before(
        apps.get_model("integrations", "Schedule")
    )


# --- The schedule, the command, the customer page ----------------------------------------------


def test_migrate_creates_the_daily_erasure_schedule(db):
    schedule = QSchedule.objects.get(name=erasure.SCHEDULE_NAME)
    assert schedule.func == "portal.erasure.erase_due"
    assert schedule.schedule_type == QSchedule.DAILY
    erasure.ensure_erasure_schedule()
    assert QSchedule.objects.filter(name=erasure.SCHEDULE_NAME).count() == 1


def test_the_command_says_what_is_due_and_what_it_erased(full, pm_user, capsys):
    customer = offboard(full["customer"], pm_user)
    Customer.objects.filter(pk=customer.pk).update(erase_after=customer.offboarded_at - DAY)
    call_command("erase_offboarded", "--dry-run")
    out = capsys.readouterr().out
    assert f"Due: customer {customer.pk}" in out and "nothing was erased" in out
    assert Customer.objects.get(pk=customer.pk).legal_name == NAME

    call_command("erase_offboarded")
    out = capsys.readouterr().out
    assert f"Erased customer {customer.pk}" in out
    assert "integrations.Supplier: 12 rows" in out
    assert "Erased 1 customers and 0 connections offboarded alone; 0 failed" in out
    call_command("erase_offboarded")
    assert "Erased 0 customers and 0 connections" in capsys.readouterr().out


def test_the_customer_page_shows_when_and_what_was_erased(full, pm_user, superuser):
    customer = offboard(full["customer"], pm_user)
    client = Client()
    client.force_login(superuser)
    url = f"/admin/portal/customer/{customer.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Due for erasure after" in page.content.decode()

    erasure.erase_due(now=customer.offboarded_at + 91 * DAY)
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'class="erasure-record"' in body and "Rows erased:" in body
    assert "2 connections, 4 of 8 invoices sent, 86 runs" in body
    assert NAME not in body
    connection_page = client.get(f"/admin/integrations/connection/{full['first'].pk}/change/")
    assert connection_page.status_code == 200


def test_it_never_erases_a_customer_or_connection_in_use(full):
    with pytest.raises(ValueError, match="not offboarded"):
        erasure.customer_erase(customer=full["customer"])
    with pytest.raises(ValueError, match="in use"):
        erasure.connection_erase(connection=full["second"])
    assert not ErasureRecord.objects.exists()
    assert Supplier.objects.filter(connection=full["second"]).count() == 4 + len(SUPPLIERS)


def test_erasing_a_customer_costs_the_same_queries_for_ten_or_a_thousand_rows(pm_user):
    from django.test.utils import CaptureQueriesContext

    def customer_with(rows, name):
        connection = make_live_connection(name)
        add_user(connection.customer, f"user@{rows}.example", "Test", "User")
        add_rows(Supplier, connection, rows)
        add_rows(apps.get_model("integrations", "Account"), connection, rows)
        for n in range(rows // 10):
            invoice = make_invoice(connection, n, status="sent")
            InvoiceLine.objects.create(
                invoice=invoice, position=1, account="6300", vat_code="1", amount="1.00"
            )
            make_run(connection, "suppliers", ago=timedelta(hours=n + 1))
        return offboard(connection.customer, pm_user)

    warm_up = customer_with(10, "Første AS")  # caches (content types) filled once per process
    erasure.customer_erase(customer=warm_up, now=warm_up.erase_after)
    small, large = customer_with(10, "Liten AS"), customer_with(1000, "Stor AS")
    queries = []
    for customer in (small, large):
        with CaptureQueriesContext(db) as captured:
            erasure.customer_erase(customer=customer, now=customer.erase_after)
        queries.append(len(captured))
    assert Supplier.objects.count() == 0
    assert queries[0] == queries[1]
