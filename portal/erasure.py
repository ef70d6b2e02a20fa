"""Erasure after retention (issue #19): what is left of a customer who left, or of one of its
connections offboarded alone, once the retention period has run out.

Due: a customer offboarded whose `erase_after` has come (OFFBOARD_RETENTION_DAYS after the
offboarding, OFFBOARD_ERASURE_REQUESTED_DAYS when it asked for erasure), and a connection removed
on its own OFFBOARD_RETENTION_DAYS ago. `erase_due` erases them all, a batch of customers at a
time; a django-q2 schedule runs it daily and `manage.py erase_offboarded` by hand.

A customer is erased in three steps, each safe to run again:

1. the record (`ErasureRecord`): what there was, counted before anything goes (connections,
   invoices sent, runs, Xledger requests, users, contacts), and `Customer.erasure_started_at`;
2. the engine's data of all its connections (`integrations.erasure`: the mirror, runs, Issues,
   schedules, client entities, invoices with their PDFs, ...), in chunks that each commit; the
   record counts the rows as they go, so its `erased` is the progress;
3. the portal's side, in one transaction: the audit entries redacted, the contacts, invitations,
   replace-token links and API keys deleted, the users anonymised (and their second factors,
   sessions and login failures deleted), the client information blanked, the connections'
   last token check blanked, and the record closed (`erased_at`).

A crash between or inside the steps leaves the customer due: the next run starts again where it
stopped, never counting a row twice. A finished customer is not due any more, so a second run
changes nothing. Every statement is a bulk one: there is a loop per customer (a batch at a time)
and per chunk of rows, never one per row.

What is kept, and why:

- the Customer row, anonymised ("Erased customer 123"): the connections, the audit entries and
  the record refer to it. Its organisation number goes too (see `_customer_anonymise`).
- the Connection rows, anonymised: owner entity ID, environment, status and dates say which
  Xledger owner entity was served and when, nothing about a person.
- the users, anonymised rather than deleted (as `portal.personal_data` does for one person): the
  audit entries keep their actor, as "erased-42", and what deleting a user would have deleted
  (membership, second factors, sessions) is deleted.
- the audit entries, redacted: action, dates and actor stay; a free-text comment is erased whole
  (no rule finds every name in free text); targets lose every known name, e-mail address and
  phone number; in before/after only what cannot be about a person survives (numbers, yes/no,
  dates, lower-case codes such as statuses).
"""

import json
import logging
import re
from datetime import timedelta
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import CharField, Min, Q, Value
from django.db.models.functions import Cast, Concat, Lower
from django.utils import timezone

from integrations import erasure as engine
from integrations.models import Connection
from integrations.tasks import ensure_daily_schedule
from portal import offboarding
from portal.invitations import Invitation
from portal.models import AuditEntry, Contact, Customer, ErasureRecord, Membership
from portal.token_links import TokenLink

log = logging.getLogger(__name__)

BATCH = 100  # customers (or connections) read per round
SCHEDULE_NAME = "semine: erase offboarded customers"
TASK = "portal.erasure.erase_due"
ERASED = "[erased]"  # as portal.personal_data writes it
ERASED_USER_PREFIX = "erased-"  # likewise: "erased-<user id>"


# --- What is due ---------------------------------------------------------------------------------


def due_customers(*, now):
    """Offboarded customers whose retention has run out and which are not erased yet."""
    return Customer.objects.filter(
        offboarded_at__isnull=False, erase_after__lte=now, erased_at__isnull=True
    ).order_by("erase_after", "pk")


def due_connections(*, now):
    """Connections removed on their own OFFBOARD_RETENTION_DAYS ago and not erased yet. Those of
    a customer whose own erasure is due (or done) go with the customer."""
    cutoff = now - timedelta(days=settings.OFFBOARD_RETENTION_DAYS)
    done = ErasureRecord.objects.filter(
        connection_number__isnull=False, erased_at__isnull=False
    ).values("connection_number")
    return (
        Connection.objects.filter(removed_at__lte=cutoff)
        .exclude(pk__in=done)
        .exclude(customer__erase_after__lte=now)
        .order_by("removed_at", "pk")
    )


# --- The task -------------------------------------------------------------------------------------


def erase_due(*, now=None, batch=BATCH, chunk=engine.CHUNK) -> dict:
    """Erase every customer and every connection offboarded alone whose retention has run out.

    Returns {"customers": n, "connections": n, "failed": n, "rows": {table: rows}, "numbers":
    {"customers": [...], "connections": [...], "failed": [...]}}: all zero and empty when there
    was nothing to do (a second run). One that fails is logged and left due; the others go on.
    """
    now = now or timezone.now()
    result = {"customers": 0, "connections": 0, "failed": 0, "rows": {}}
    numbers = {"customers": [], "connections": [], "failed": []}
    for kind, due, erase in (
        ("customers", due_customers, _erase_customer_logged),
        ("connections", due_connections, _erase_connection_logged),
    ):
        failed, handled = set(), set()  # each once per run, whatever happens to it
        while True:
            objs = list(due(now=now).exclude(pk__in=handled)[:batch])
            if not objs:
                break
            for obj in objs:
                handled.add(obj.pk)
                rows = erase(obj, now=now, chunk=chunk)
                if rows is None:
                    failed.add(obj.pk)
                    numbers["failed"].append(f"{kind[:-1]} {obj.pk}")
                    continue
                result[kind] += 1
                numbers[kind].append(obj.pk)
                _add(result["rows"], rows)
        result["failed"] += len(failed)
    if result["customers"] or result["connections"]:
        offboarding.forget_freed_pages()  # SQLite: the freed (zeroed) pages out of the log too
    result["numbers"] = numbers
    return result


def _erase_customer_logged(customer, *, now, chunk):
    try:
        return customer_erase(customer=customer, now=now, chunk=chunk)
    except Exception:
        log.exception("Erasing customer %s failed; the next run goes on from there.", customer.pk)
        return None


def _erase_connection_logged(connection, *, now, chunk):
    try:
        return connection_erase(connection=connection, now=now, chunk=chunk)
    except Exception:
        log.exception("Erasing connection %s failed; the next run goes on.", connection.pk)
        return None


def _add(total: dict, rows: dict) -> None:
    for label, n in rows.items():
        if n:
            total[label] = total.get(label, 0) + n


def _progress(record_pk):
    """Counts a chunk's rows into the record, in the chunk's own transaction."""

    def progress(label, n):
        record = ErasureRecord.objects.select_for_update().get(pk=record_pk)
        record.erased[label] = record.erased.get(label, 0) + n
        record.save(update_fields=["erased"])

    return progress


# --- A whole customer -----------------------------------------------------------------------------


def customer_erase(*, customer, now=None, chunk=engine.CHUNK) -> dict:
    """Erase one offboarded customer (see the module's docstring); returns {table: rows}."""
    if not customer.is_offboarded and customer.erased_at is None:
        raise ValueError(f"Customer {customer.pk} is not offboarded: nothing is erased.")
    now = now or timezone.now()
    connection_ids = list(Connection.objects.filter(customer=customer).values_list("pk", flat=True))
    record = _customer_record(customer=customer, connection_ids=connection_ids, now=now)
    if record.is_done:
        return {}
    rows = engine.connections_erase(
        connection_ids=connection_ids, chunk=chunk, progress=_progress(record.pk)
    )
    _add(rows, _erase_customer_portal_side(record=record, customer=customer, now=now))
    return rows


def _customer_record(*, customer, connection_ids, now) -> ErasureRecord:
    with transaction.atomic():
        record = (
            ErasureRecord.objects.select_for_update()
            .filter(customer_number=customer.pk, connection_number__isnull=True)
            .first()
        )
        if record is not None:
            return record
        live_since = Connection.objects.filter(pk__in=connection_ids).aggregate(
            first=Min("live_since")
        )["first"]
        record = ErasureRecord.objects.create(
            customer_number=customer.pk,
            customer_since=customer.created_at,
            live_since=live_since,
            offboarded_at=customer.offboarded_at,
            erasure_requested=customer.erasure_requested,
            due_at=customer.erase_after,
            started_at=now,
            users=Membership.objects.filter(customer=customer).count(),
            contacts=Contact.objects.filter(customer=customer).count(),
            **engine.connections_summary(connection_ids=connection_ids),
        )
        Customer.objects.filter(pk=customer.pk, erasure_started_at__isnull=True).update(
            erasure_started_at=now
        )
    return record


def _erase_customer_portal_side(*, record, customer, now) -> dict:
    """Step 3, in one transaction: all of it or none of it (the names the audit entries are
    redacted with are read from the rows deleted here)."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.erased_at is not None:
            return {}
        connection_ids = list(customer.connections.values_list("pk", flat=True))
        members = get_user_model().objects.filter(membership__customer=customer)
        user_ids = list(
            members.filter(is_staff=False, is_superuser=False).values_list("pk", flat=True)
        )
        strings = _known_personal_strings(customer, user_ids, connection_ids)
        known = _pattern(strings)
        rows = {
            AuditEntry._meta.label: _audit_redact(customer, user_ids, known),
            LogEntry._meta.label: _admin_log_redact(
                customer, connection_ids, user_ids, strings, known
            ),
        }
        for queryset in (
            TokenLink.objects.filter(connection_id__in=connection_ids),
            Invitation.objects.filter(customer=customer),
            Contact.objects.filter(customer=customer),
            Membership.objects.filter(customer=customer),  # a staff member keeps the account
        ):
            _add(rows, queryset.delete()[1])
        _add(rows, engine.customer_rows_erase(customer_ids=[customer.pk]))  # its API keys
        _add(rows, _users_erase(user_ids))
        rows[Connection._meta.label] = engine.connections_anonymise(connection_ids=connection_ids)
        rows[Customer._meta.label] = _customer_anonymise(customer, now=now)
        _record_done(record, rows, now=now)
        AuditEntry.record(
            actor=None,
            action="customer_erased",
            customer=customer,
            target=_erased_name(customer.pk),
            after={"record": record.pk, "rows": {k: v for k, v in rows.items() if v}},
        )
    return rows


def _erased_name(pk) -> str:
    return f"Erased customer {pk}"


def _customer_anonymise(customer, *, now) -> int:
    """Blank the client information. The organisation number goes as well: a sole
    proprietorship's (enkeltpersonforetak) number points at one person, and the portal cannot
    tell those apart; SEMINE matches its records on the customer number the ErasureRecord keeps
    (and on the D01.01 export it can download before the erasure). Country, posting accounts and
    dates stay; names, the address, free text and the offboarding reason go."""
    return Customer.objects.filter(pk=customer.pk).update(
        legal_name=_erased_name(customer.pk),
        organisation_number="",
        street_address="",
        postal_code="",
        city="",
        notes="",
        fixed_assets_dimension_name="",
        offboard_reason="",
        erased_at=now,
        updated_at=now,
    )


def _record_done(record, rows, *, now) -> None:
    record = ErasureRecord.objects.select_for_update().get(pk=record.pk)
    _add(record.erased, rows)
    record.erased_at = now
    record.save(update_fields=["erased", "erased_at"])


# --- One connection offboarded alone --------------------------------------------------------------


def connection_erase(*, connection, now=None, chunk=engine.CHUNK) -> dict:
    """Erase the data of one connection removed on its own (the customer's other connections
    go on); returns {table: rows}. Its replace-token links go too; the customer's audit entries
    stay until the customer itself is erased."""
    if not connection.is_removed:
        raise ValueError(f"Connection {connection.pk} is in use: nothing is erased.")
    now = now or timezone.now()
    record = _connection_record(connection=connection, now=now)
    if record.is_done:
        return {}
    rows = engine.connections_erase(
        connection_ids=[connection.pk], chunk=chunk, progress=_progress(record.pk)
    )
    with transaction.atomic():
        portal_rows = TokenLink.objects.filter(connection=connection).delete()[1]
        portal_rows[Connection._meta.label] = engine.connections_anonymise(
            connection_ids=[connection.pk]
        )
        _record_done(record, portal_rows, now=now)
        AuditEntry.record(
            actor=None,
            action="connection_erased",
            customer=connection.customer,
            target=f"owner entity {connection.owner_entity_id}",
            after={"record": record.pk, "connection": connection.pk},
        )
    _add(rows, portal_rows)
    return rows


def _connection_record(*, connection, now) -> ErasureRecord:
    with transaction.atomic():
        record = (
            ErasureRecord.objects.select_for_update()
            .filter(connection_number=connection.pk)
            .first()
        )
        if record is None:
            record = ErasureRecord.objects.create(
                customer_number=connection.customer_id,
                connection_number=connection.pk,
                customer_since=connection.customer.created_at,
                live_since=connection.live_since,
                offboarded_at=connection.removed_at,
                due_at=connection.removed_at + timedelta(days=settings.OFFBOARD_RETENTION_DAYS),
                started_at=now,
                **engine.connections_summary(connection_ids=[connection.pk]),
            )
    return record


# --- The users ------------------------------------------------------------------------------------


def _users_erase(user_ids) -> dict:
    """Anonymise the accounts and delete what deleting them would have deleted: memberships,
    second factors, the sessions (from the session store too), the admin's log of their own
    actions. Their login failures go as well. Returns {table: rows}."""
    if not user_ids:
        return {}
    User = get_user_model()
    rows: dict = {}
    names = {
        name.lower()
        for pair in User.objects.filter(pk__in=user_ids).values_list("username", "email")
        for name in pair
        if name
    }
    if apps.is_installed("signin"):
        sessions = apps.get_model("signin", "UserSession")
        keys = sessions.objects.filter(user_id__in=user_ids).values_list("session_key", flat=True)
        store = import_module(settings.SESSION_ENGINE).SessionStore
        for key in list(keys):  # ended at offboarding already: normally none
            store(session_key=key).delete()
    if apps.is_installed("axes"):
        for name in ("AccessAttempt", "AccessLog", "AccessFailureLog"):
            model = apps.get_model("axes", name)
            found = model.objects.annotate(login=Lower("username")).filter(login__in=names)
            _add(rows, found.delete()[1])
    # Hidden relations too: the groups' and permissions' link tables, `related_name="+"`.
    for relation in User._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete) or relation.many_to_many:
            continue
        if relation.on_delete is not models.CASCADE:
            continue
        related = relation.related_model._base_manager
        _add(rows, related.filter(**{f"{relation.field.name}__in": user_ids}).delete()[1])
    rows[User._meta.label] = (
        User.objects.filter(pk__in=user_ids)
        .exclude(
            username__startswith=ERASED_USER_PREFIX,
            email="",
            first_name="",
            last_name="",
            is_active=False,
        )
        .update(
            username=Concat(Value(ERASED_USER_PREFIX), Cast("pk", output_field=CharField())),
            email="",
            first_name="",
            last_name="",
            password=make_password(None),
            is_active=False,
            is_staff=False,
            is_superuser=False,
            last_login=None,
        )
    )
    return rows


# --- Redaction ------------------------------------------------------------------------------------

# Keys of the audit log's before/after whose values are about people (or free text): erased.
PERSONAL_KEYS = frozenset(
    {
        "answer",
        "city",
        "comment",
        "description",
        "detail",
        "email",
        "first_name",
        "fixed_assets_dimension_name",
        "full_name",
        "last_name",
        "legal_name",
        "message",
        "name",
        "notes",
        "phone",
        "postal_code",
        "reason",
        "street_address",
        "summary",
        "text",
        "title",
        "username",
        "via_link",
    }
)
EMAIL = re.compile(r"[^\s@<>()\[\]\"',;]+@[^\s@<>()\[\]\"',;]+\.[^\s@<>()\[\]\"',;]+")
# International numbers, and numbers written in groups ("22 33 44 55", "922 33 444").
PHONE = re.compile(r"\+\d[\d ()./-]{5,}\d|(?<![\w.:-])\d{2,4}(?: \d{2,4}){2,}(?![\w.:-])")
DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:\d{2})?"
)
CODE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")  # a status, a dataset, a field name, an id
KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
MIN_LENGTH = 3  # shorter known strings would erase parts of words


def _strings_under_personal_keys(value, found: set, key=None) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _strings_under_personal_keys(v, found, k)
    elif isinstance(value, list):
        for item in value:
            _strings_under_personal_keys(item, found, key)
    elif isinstance(value, str) and key in PERSONAL_KEYS:
        found.add(value)


def _known_personal_strings(customer, user_ids, connection_ids) -> list[str]:
    """Every name, address, e-mail address and phone number the portal knows of the customer:
    now, and before (former names in the audit log's before/after). Longest first."""
    found = {
        customer.legal_name,
        customer.street_address,
        customer.city,
        customer.organisation_number,
    }
    for name, email, phone in customer.contacts.values_list("name", "email", "phone"):
        found |= {name, email, phone, re.sub(r"\D", "", phone or "")}
    for user in get_user_model().objects.filter(pk__in=user_ids):
        found |= {user.username, user.email, user.first_name, user.last_name}
        found.add(user.get_full_name())
    found |= set(customer.invitations.values_list("email", flat=True))
    found |= set(
        TokenLink.objects.filter(connection_id__in=connection_ids).values_list("email", flat=True)
    )
    entries = _audit_entries(customer, user_ids).values_list("before", "after")
    for before, after in entries.iterator(chunk_size=1000):
        _strings_under_personal_keys([before, after], found)
    strings = {s.strip() for s in found if isinstance(s, str)}
    return sorted(
        (s for s in strings if len(s) >= MIN_LENGTH and ERASED not in s),
        key=lambda s: (-len(s), s),
    )


def _pattern(strings):
    """One pattern matching any of `strings` as a whole word, in any case (None for none)."""
    if not strings:
        return None
    alternatives = "|".join(re.escape(s) for s in strings)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def redact_text(text: str, known) -> str:
    """`text` without the known names and any e-mail address or phone number."""
    if not text:
        return text
    if known is not None:
        text = known.sub(ERASED, text)
    return PHONE.sub(ERASED, EMAIL.sub(ERASED, text))


def _keeps(value: str, known) -> bool:
    """A string of before/after that cannot be about a person: a date, or a lower-case code
    (not an e-mail address, not a long number, not one of the known names)."""
    if DATE.fullmatch(value):
        return True
    if "@" in value or not CODE.fullmatch(value):
        return False
    if value.isdigit() and len(value) >= 8:  # a phone number written without spaces
        return False
    return known is None or not known.fullmatch(value)


def redact_json(value, known, key=None):
    """Numbers, yes/no, dates and codes stay; every other string becomes ERASED, and so does a
    key that is not a plain field name (the admin's contact changes are keyed by the contact)."""
    if isinstance(value, dict):
        result = {}
        for n, (k, v) in enumerate(value.items(), start=1):
            plain = isinstance(k, str) and KEY.fullmatch(k) and not (known and known.fullmatch(k))
            result[k if plain else f"{ERASED} {n}"] = redact_json(v, known, k if plain else None)
        return result
    if isinstance(value, list):
        return [redact_json(item, known, key) for item in value]
    if isinstance(value, str):
        if not value or (key not in PERSONAL_KEYS and _keeps(value, known)):
            return value
        return ERASED
    return value


def _audit_entries(customer, user_ids):
    return AuditEntry.objects.filter(Q(customer=customer) | Q(actor_id__in=user_ids))


def _audit_redact(customer, user_ids, known, chunk=500) -> int:
    """Redact the customer's audit entries (and those its users made elsewhere): action, dates
    and actor stay. Returns how many changed (none the second time)."""
    fields = ["target", "before", "after", "comment"]
    changed, pending = 0, []
    entries = _audit_entries(customer, user_ids).only("pk", *fields).order_by("pk")
    for entry in entries.iterator(chunk_size=chunk):
        redacted = {
            "target": redact_text(entry.target, known)[:200],
            "before": redact_json(entry.before, known),
            "after": redact_json(entry.after, known),
            "comment": ERASED if entry.comment else "",
        }
        if any(getattr(entry, name) != value for name, value in redacted.items()):
            for name, value in redacted.items():
                setattr(entry, name, value)
            pending.append(entry)
        if len(pending) >= chunk:
            changed += AuditEntry.objects.bulk_update(pending, fields)
            pending = []
    if pending:
        changed += AuditEntry.objects.bulk_update(pending, fields)
    return changed


def _redact_strings(value, known):
    if isinstance(value, dict):
        return {k: ERASED if k == "object" else _redact_strings(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_strings(item, known) for item in value]
    return redact_text(value, known) if isinstance(value, str) else value


def _redact_change_message(message: str, known) -> str:
    """The admin's change message: JSON naming the changed fields and, for inline rows, the row
    itself ("object", e.g. a contact's name): that goes; the field names stay. Written back as
    Django writes it (`json.dumps`, non-ASCII escaped)."""
    try:
        changes = json.loads(message)
    except ValueError:
        return redact_text(message, known)
    return json.dumps(_redact_strings(changes, known))


def _admin_log_redact(customer, connection_ids, user_ids, strings, known) -> int:
    """Django's admin log keeps each changed object's name with the entry: redact the entries
    about the customer, its connections, contacts, invitations, memberships and users, and any
    other entry naming one of the known strings (a schedule or an Issue already erased).
    Returns how many changed."""
    objects = {
        Customer: [customer.pk],
        Connection: connection_ids,
        Contact: list(customer.contacts.values_list("pk", flat=True)),
        Invitation: list(customer.invitations.values_list("pk", flat=True)),
        Membership: list(customer.memberships.values_list("pk", flat=True)),
        get_user_model(): user_ids,
    }
    about = Q(pk__in=[])
    for model, ids in objects.items():
        if ids:
            about |= Q(
                content_type=ContentType.objects.get_for_model(model),
                object_id__in=[str(pk) for pk in ids],
            )
    for text in strings:
        escaped = json.dumps(text)[1:-1]  # as it is inside a change message
        about |= Q(object_repr__icontains=text) | Q(change_message__icontains=escaped)
    changed = []
    for entry in LogEntry.objects.filter(about).only("pk", "object_repr", "change_message"):
        repr_, message = entry.object_repr, entry.change_message
        entry.object_repr = redact_text(repr_, known)[:200]
        entry.change_message = _redact_change_message(message, known)
        if (entry.object_repr, entry.change_message) != (repr_, message):
            changed.append(entry)
    return LogEntry.objects.bulk_update(changed, ["object_repr", "change_message"], batch_size=500)


# --- The schedule --------------------------------------------------------------------------------


def ensure_erasure_schedule():
    """Create (or leave) the daily django-q2 schedule that runs `erase_due` (after `migrate`, as
    the run-history retention's; see portal.apps)."""
    return ensure_daily_schedule(name=SCHEDULE_NAME, func=TASK, hour=3, minute=47)
