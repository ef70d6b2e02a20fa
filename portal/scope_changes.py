"""A customer changing the scope of a live connection, and the project manager's answer.

Before go-live the customer saves the scope directly (`services.connection_save_scope`). Once a
connection is live, what SEMINE synchronises is agreed with the project manager, so a change is
asked for (`scope_change_request`) and the project manager applies or declines it
(`scope_change_decide`) — unless the project manager set the customer's scope changes to apply at
once (`Customer.scope_changes_apply_at_once`): then it is stored applied and the project manager
is told it happened. A connection has at most one pending change; asking again withdraws it.

Applying writes the entities' choices, the dimensions and the transaction source, makes the next
run of each dataset it touches a full one (`integrations.services.connection_rescoped`), and
closes the "new client entity" Issue once every client entity that appeared after go-live has
been decided. Every step leaves an AuditEntry; the e-mails go out after the commit.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations import issues
from integrations import services as engine
from integrations.datasets import ENTITY_SCOPED, Dataset
from integrations.models import ClientEntity, Connection, ScopeChange
from integrations.models.connections import DEFAULT_TRANSACTION_SOURCE
from portal import notifications, selectors
from portal.golive import APPROVE_PERMISSION, require_permission
from portal.models import AuditEntry

DECIDE_PERMISSION = APPROVE_PERMISSION  # the project manager, who approved the scope at go-live


# --- The scope, in ScopeChange's shape ---------------------------------------------------------


def scope_in_force(connection) -> dict:
    """{"entities": {"<dbId>": {"in_scope", "fixed_assets"}}, "dimensions", "transaction_source"}
    as the connection synchronises now."""
    return {
        "entities": {
            str(entity.db_id): {"in_scope": entity.in_scope, "fixed_assets": entity.fixed_assets}
            for entity in ClientEntity.objects.filter(connection=connection)
        },
        "dimensions": [str(key) for key in connection.selected_dimensions or []],
        "transaction_source": connection.transaction_source_code or DEFAULT_TRANSACTION_SOURCE,
    }


def scope_wanted(connection, *, entities, dimensions, transaction_source) -> dict:
    """The scope asked for, limited to what the last token check listed. `entities` maps dbId
    (int or text) to {"in_scope", "fixed_assets"}; an entity left out is out of scope. The
    dimensions kept keep their order (it decides their slot on invoices), new ones follow."""
    verification = connection.verification or {}
    chosen = {str(db_id): choice for db_id, choice in (entities or {}).items()}
    wanted_entities = {}
    for entity in verification.get("entities", []):
        choice = chosen.get(str(entity["dbId"]), {})
        in_scope = bool(choice.get("in_scope"))
        wanted_entities[str(entity["dbId"])] = {
            "in_scope": in_scope,
            "fixed_assets": in_scope and bool(choice.get("fixed_assets")),
        }
    kinds = [str(k["code"]) for k in verification.get("object_kinds", []) if k.get("code")]
    asked = {str(key) for key in dimensions or []} & set(kinds)
    current = [str(key) for key in connection.selected_dimensions or []]
    ordered = [key for key in current if key in asked]
    ordered += [key for key in kinds if key in asked and key not in ordered]
    source = (transaction_source or "").strip() or (
        connection.transaction_source_code or DEFAULT_TRANSACTION_SOURCE
    )
    return {"entities": wanted_entities, "dimensions": ordered, "transaction_source": source}


def scope_difference(before: dict, after: dict) -> dict:
    """What going from `before` to `after` changes: dbIds taken in or out of scope, fixed
    assets switched on or off, dimension keys added or removed, the transaction source."""
    off = {"in_scope": False, "fixed_assets": False}
    diff = {
        "included": [],
        "excluded": [],
        "fixed_assets_on": [],
        "fixed_assets_off": [],
        "dimensions_added": [k for k in after["dimensions"] if k not in before["dimensions"]],
        "dimensions_removed": [k for k in before["dimensions"] if k not in after["dimensions"]],
        "transaction_source": None,
    }
    for db_id, want in after["entities"].items():
        was = before["entities"].get(db_id, off)
        if want["in_scope"] != was["in_scope"]:
            diff["included" if want["in_scope"] else "excluded"].append(int(db_id))
        if want["fixed_assets"] != was["fixed_assets"]:
            diff["fixed_assets_on" if want["fixed_assets"] else "fixed_assets_off"].append(
                int(db_id)
            )
    if before["transaction_source"] != after["transaction_source"]:
        diff["transaction_source"] = (before["transaction_source"], after["transaction_source"])
    return diff


def changes_anything(diff: dict) -> bool:
    return any(diff.values())


def affected_datasets(diff: dict) -> set[str]:
    """The datasets whose next run must be a full one after `diff`."""
    datasets = set()
    if diff["included"] or diff["excluded"]:
        datasets |= ENTITY_SCOPED
    if diff["fixed_assets_on"] or diff["fixed_assets_off"]:
        datasets.add(Dataset.FIXED_ASSETS)
    if diff["dimensions_added"] or diff["dimensions_removed"]:
        datasets.add(Dataset.DIMENSIONS)
    return datasets


def _change_scope(change: ScopeChange) -> dict:
    return {
        "entities": change.entities,
        "dimensions": [str(key) for key in change.dimensions],
        "transaction_source": change.transaction_source,
    }


# --- In words ------------------------------------------------------------------------------------


def described(connection, diff: dict) -> dict:
    """`diff` with names: entities as "code description", dimensions as "name (key)"."""
    entities = {
        entity.db_id: str(entity) for entity in ClientEntity.objects.filter(connection=connection)
    }
    kinds = {
        str(k["code"]): f"{k.get('name') or k['code']} ({k['code']})"
        for k in (connection.verification or {}).get("object_kinds", [])
        if k.get("code")
    }
    named = {}
    for key in ("included", "excluded", "fixed_assets_on", "fixed_assets_off"):
        named[key] = [entities.get(db_id, str(db_id)) for db_id in diff[key]]
    for key in ("dimensions_added", "dimensions_removed"):
        named[key] = [kinds.get(code, code) for code in diff[key]]
    named["transaction_source"] = diff["transaction_source"]
    return named


SUMMARY_LINES = [
    ("included", "Synchronise client entities"),
    ("excluded", "Stop synchronising client entities"),
    ("fixed_assets_on", "Fixed assets apply to"),
    ("fixed_assets_off", "Fixed assets no longer apply to"),
    ("dimensions_added", "Add dimensions"),
    ("dimensions_removed", "Remove dimensions"),
]


def summary_text(named: dict) -> str:
    """The change in English, for the project manager (e-mail, admin, audit log)."""
    lines = [f"{label}: {', '.join(named[key])}" for key, label in SUMMARY_LINES if named[key]]
    if named["transaction_source"]:
        lines.append("Transaction source: {} → {}".format(*named["transaction_source"]))
    return "\n".join(lines)


# --- Reads for the pages -------------------------------------------------------------------------


def pending_scope_change(connection) -> ScopeChange | None:
    return (
        ScopeChange.objects.filter(connection=connection, status=ScopeChange.Status.PENDING)
        .select_related("requested_by")
        .first()
    )


def pending_described(change: ScopeChange | None) -> dict | None:
    """A pending change as what it would change now (names, in the scope page's terms)."""
    if change is None:
        return None
    connection = change.connection
    diff = scope_difference(scope_in_force(connection), _change_scope(change))
    return described(connection, diff)


def scope_news(connection) -> dict:
    """For the home page: client entities that appeared after go-live and wait for a decision,
    and the scope change waiting for the project manager, with the scope page's address."""
    if not connection.is_live:
        return {"new_entities": [], "pending": None, "url": ""}
    return {
        "new_entities": issues.new_client_entities_waiting(connection),
        "pending": pending_scope_change(connection),
        "url": reverse("xledger_connection_scope", args=[connection.pk]),
    }


# --- Actions -------------------------------------------------------------------------------------


@transaction.atomic
def scope_change_request(
    *, connection, by, entities, dimensions, transaction_source
) -> ScopeChange:
    """The customer asks to change a live connection's scope. Withdraws the connection's pending
    change; applies at once where the customer is set so. Returns the stored change (pending,
    or applied)."""
    customer = connection.customer
    if selectors.customer_for_user(by) != customer:
        raise PermissionDenied("Only the customer's own users may change the scope.")
    connection = (
        Connection.objects.select_for_update().select_related("customer").get(pk=connection.pk)
    )
    if connection.is_removed:
        raise ValidationError(_("This connection was removed."))
    if not connection.is_live:
        raise ValidationError(
            _("This owner entity is not live yet: save its scope directly, nothing to approve.")
        )
    if not (connection.verification or {}).get("ok"):
        raise ValidationError(_("Check the token first; then you can change the scope."))
    wanted = scope_wanted(
        connection,
        entities=entities,
        dimensions=dimensions,
        transaction_source=transaction_source,
    )
    if wanted["entities"] and not any(e["in_scope"] for e in wanted["entities"].values()):
        raise ValidationError(_("Choose at least one entity to synchronise."))
    before = scope_in_force(connection)
    diff = scope_difference(before, wanted)
    if not changes_anything(diff):
        raise ValidationError(
            _("This is the scope in force already: nothing would change, so nothing was sent.")
        )
    now = timezone.now()
    replaced = list(
        ScopeChange.objects.select_for_update().filter(
            connection=connection, status=ScopeChange.Status.PENDING
        )
    )
    for old in replaced:
        old.status = ScopeChange.Status.WITHDRAWN
        old.decided_at = now
        old.save(update_fields=["status", "decided_at"])
    summary = summary_text(described(connection, diff))
    change = ScopeChange.objects.create(
        connection=connection,
        entities=wanted["entities"],
        dimensions=wanted["dimensions"],
        transaction_source=wanted["transaction_source"],
        summary=summary,
        requested_by=by,
    )
    AuditEntry.record(
        actor=by,
        action="scope_change_requested",
        customer=customer,
        target=f"connection {connection.pk}",
        before=_audit_view(before),
        after={**_audit_view(wanted), "change": change.pk, "replaced": [c.pk for c in replaced]},
        comment=summary,
    )
    if customer.scope_changes_apply_at_once:
        _apply(change, by=by)
        AuditEntry.record(
            actor=by,
            action="scope_change_applied",
            customer=customer,
            target=f"connection {connection.pk}",
            after={"change": change.pk, "at_once": True},
            comment=summary,
        )
    transaction.on_commit(lambda: notifications.notify_scope_change_requested(change))
    return change


@transaction.atomic
def scope_change_decide(*, change, apply: bool, answer, by) -> ScopeChange:
    """The project manager applies or declines a pending change; the customer who asked is
    told either way, in their language."""
    require_permission(by, DECIDE_PERMISSION)
    answer = (answer or "").strip()
    change = (
        ScopeChange.objects.select_for_update(of=("self",))  # requested_by: an outer join
        .select_related("connection__customer", "requested_by")
        .get(pk=change.pk)
    )
    if not change.is_pending:
        raise ValidationError(_("This scope change has already been answered or replaced."))
    if change.connection.is_removed:
        raise ValidationError(_("This connection was removed."))
    if not apply and not answer:
        raise ValidationError(_("Tell the customer why the scope change is declined."))
    change.answer = answer
    if apply:
        _apply(change, by=by)
    else:
        change.status = ScopeChange.Status.DECLINED
        change.decided_by = by
        change.decided_at = timezone.now()
        change.save(update_fields=["status", "decided_by", "decided_at", "answer"])
    customer = change.connection.customer
    AuditEntry.record(
        actor=by,
        action="scope_change_applied" if apply else "scope_change_declined",
        customer=customer,
        target=f"connection {change.connection_id}",
        after={"change": change.pk, "status": change.status},
        comment=answer or change.summary,
    )
    transaction.on_commit(lambda: notifications.notify_scope_change_answered(change))
    return change


def _apply(change: ScopeChange, *, by) -> None:
    """Write the change (in the caller's transaction): entities, dimensions, transaction
    source; a full next run of what it touches; the new entities it decides are decided."""
    connection = change.connection
    wanted = _change_scope(change)
    diff = scope_difference(scope_in_force(connection), wanted)
    rows = ClientEntity.objects.filter(
        connection=connection, db_id__in=[int(db_id) for db_id in wanted["entities"]]
    )
    changed = []
    for row in rows:
        want = wanted["entities"][str(row.db_id)]
        if (row.in_scope, row.fixed_assets) != (want["in_scope"], want["fixed_assets"]):
            row.in_scope, row.fixed_assets = want["in_scope"], want["fixed_assets"]
            changed.append(row)
    ClientEntity.objects.bulk_update(changed, ["in_scope", "fixed_assets"])
    connection.selected_dimensions = wanted["dimensions"]
    connection.transaction_source_code = wanted["transaction_source"]
    connection.save(update_fields=["selected_dimensions", "transaction_source_code", "updated_at"])
    engine.connection_rescoped(connection=connection, datasets=affected_datasets(diff))
    issues.new_client_entities_decided(
        connection=connection, db_ids=[int(db_id) for db_id in wanted["entities"]]
    )
    change.status = ScopeChange.Status.APPLIED
    change.decided_by = by
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at", "answer"])


def _audit_view(scope: dict) -> dict:
    return {
        "entities_in_scope": sorted(
            int(db_id) for db_id, choice in scope["entities"].items() if choice["in_scope"]
        ),
        "fixed_assets": sorted(
            int(db_id) for db_id, choice in scope["entities"].items() if choice["fixed_assets"]
        ),
        "dimensions": scope["dimensions"],
        "transaction_source": scope["transaction_source"],
    }
