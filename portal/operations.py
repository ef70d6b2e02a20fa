"""Support actions taken from the admin: resync, pause/resume, re-verify, release a stuck run,
acknowledge/mute/resolve an issue, remove a connection. (Staff never replace a token: they
send a replace-token link, `portal.token_requests`.)

Each checks the actor's permission, calls the engine's service (`integrations.services`) and
records who did what, with before/after, in the audit log. Tokens never reach the audit log.
"""

import getpass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.datasets import Dataset
from integrations.models import Connection, IntervalRequest, Invoice, Issue, Run
from integrations.services import (
    connection_pause,
    connection_resume,
    connection_reverify,
    mass_deletion_confirm,
    resync,
    run_release,
)
from portal.golive import require_permission
from portal.models import AuditEntry

REMOVE_PERMISSION = "integrations.remove_connection"


def _connection_target(connection, suffix=""):
    """The customer and the owner entity (a customer may have several connections), in the
    audit log's own words: not translated."""
    owner = connection.owner_entity_id if connection.owner_entity_id is not None else "?"
    text = f"{connection.customer} · owner entity {owner}"
    return f"{text} · {suffix}" if suffix else text


def _refuse_removed(connection):
    if connection.is_removed:
        raise ValidationError(_("This connection was removed; its history is kept, nothing more."))


@transaction.atomic
def connection_resync(*, connection, dataset=None, full=False, by):
    """Queue a manual sync of one dataset, or of every dataset when `dataset` is None."""
    require_permission(by, "integrations.resync_connection")
    return _resync_recorded(connection=connection, dataset=dataset, full=full, by=by)


@transaction.atomic
def connection_resync_from_command_line(*, connection, dataset=None, full=False):
    """The same, from `manage.py resync`: whoever can run it holds the server, and no user is
    logged in, so the entry has no actor and says where it came from (and the OS user)."""
    return _resync_recorded(
        connection=connection,
        dataset=dataset,
        full=full,
        by=None,
        comment=f"manage.py resync (command line, OS user {_os_user()})",
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name and no passwd entry (some containers)
        return "unknown"


def _resync_recorded(*, connection, dataset, full, by, comment=""):
    _refuse_removed(connection)
    if dataset is not None and dataset not in Dataset.values:
        raise ValidationError(_("Unknown dataset %(dataset)s.") % {"dataset": dataset})
    runs = resync(connection=connection, dataset=dataset, full=full, by=by)
    AuditEntry.record(
        actor=by,
        action="resync",
        customer=connection.customer,
        target=_connection_target(connection, dataset or _("everything")),
        after={
            "dataset": dataset or "all",
            "full": bool(full),
            "runs": [{"id": run.pk, "dataset": run.dataset} for run in runs],
        },
        comment=comment,
    )
    return runs


@transaction.atomic
def connection_set_paused(*, connection, paused, by):
    require_permission(by, "integrations.pause_connection")
    _refuse_removed(connection)
    before = {"status": connection.status}
    if paused:
        connection_pause(connection=connection, by=by)
    else:
        connection_resume(connection=connection, by=by)
    connection.refresh_from_db(fields=["status", "status_changed_at"])
    AuditEntry.record(
        actor=by,
        action="connection_paused" if paused else "connection_resumed",
        customer=connection.customer,
        target=_connection_target(connection),
        before=before,
        after={"status": connection.status},
    )
    return connection


def connection_reverify_audited(*, connection, by):
    """Re-check the token against Xledger (outside a transaction: it calls Xledger)."""
    require_permission(by, "integrations.reverify_connection")
    _refuse_removed(connection)
    before = {"status": connection.status, "verified_ok": bool(connection.verification.get("ok"))}
    verification = connection_reverify(connection=connection, by=by)
    connection.refresh_from_db()
    AuditEntry.record(
        actor=by,
        action="connection_reverified",
        customer=connection.customer,
        target=_connection_target(connection),
        before=before,
        after={
            "status": connection.status,
            "verified_ok": bool(connection.verification.get("ok")),
        },
    )
    return verification


@transaction.atomic
def run_release_audited(*, run, by):
    """Release a stuck (queued or running) run so the dataset can run again."""
    require_permission(by, "integrations.release_run")
    run = Run.objects.select_for_update().select_related("connection__customer").get(pk=run.pk)
    if run.status not in Run.ACTIVE_STATUSES:
        raise ValidationError(
            _("Run #%(id)s is %(status)s, not stuck.")
            % {"id": run.pk, "status": run.get_status_display()}
        )
    before = {
        "status": run.status,
        "worker": run.worker,
        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
    }
    run_release(run=run, by=by)
    run.refresh_from_db()
    AuditEntry.record(
        actor=by,
        action="run_released",
        customer=run.connection.customer,
        target=_connection_target(run.connection, f"{run.dataset} run #{run.pk}"),
        before=before,
        after={"status": run.status},
    )
    return run


@transaction.atomic
def connection_remove(*, connection, by, reason):
    """Take one connection (one owner entity) out of use; the customer's others keep running.

    In this order: its schedules are disabled first (the dispatcher queues nothing more), its
    queued and running runs are released (a worker still holding one stops at its next heartbeat
    and writes nothing), then the connection is marked removed and its API token destroyed (a
    removed connection must not keep a token that writes to the ledger), and its unresolved
    issues resolved. Runs, invoices, the mirror and the audit trail stay: that is its history.
    """
    require_permission(by, REMOVE_PERMISSION)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the connection is removed."))
    connection = (
        Connection.objects.select_for_update().select_related("customer").get(pk=connection.pk)
    )
    if connection.is_removed:
        raise ValidationError(_("This connection was already removed."))
    before = {
        "status": connection.status,
        "live_since": connection.live_since.isoformat() if connection.live_since else None,
        "fingerprint": connection.token_fingerprint or None,
    }
    disabled = connection.schedules.filter(enabled=True).update(enabled=False, next_run_at=None)
    released = [
        run.pk
        for run in Run.objects.filter(connection=connection, status__in=Run.ACTIVE_STATUSES)
        if run_release(run=run, by=by)
    ]
    now = timezone.now()
    connection.status = Connection.Status.REMOVED
    connection.status_changed_at = now
    connection.removed_at = now
    connection.removed_by = by
    connection.api_token = None
    connection.token_fingerprint = ""
    connection.save(
        update_fields=[
            "status",
            "status_changed_at",
            "removed_at",
            "removed_by",
            "api_token",
            "token_fingerprint",
            "updated_at",
        ]
    )
    resolved = (
        Issue.objects.filter(connection=connection)
        .exclude(status=Issue.Status.RESOLVED)
        .update(status=Issue.Status.RESOLVED, resolved_at=now)
    )
    # A request for another interval of a removed connection is answered by the removal.
    declined = IntervalRequest.objects.filter(
        connection=connection, status=IntervalRequest.Status.PENDING
    ).update(
        status=IntervalRequest.Status.DECLINED,
        decided_at=now,
        decided_by=by,
        answer="The connection was removed.",
    )
    unsent = Invoice.objects.filter(
        connection=connection,
        status__in=[Invoice.Status.PENDING, Invoice.Status.SENDING, Invoice.Status.IN_DOUBT],
    ).count()
    AuditEntry.record(
        actor=by,
        action="connection_removed",
        customer=connection.customer,
        target=_connection_target(connection),
        before=before,
        after={
            "status": connection.status,
            "environment": connection.environment,
            "schedules_disabled": disabled,
            "runs_released": released,
            "issues_resolved": resolved,
            "interval_requests_declined": declined,
            "invoices_unsent": unsent,
            "token": "destroyed",
        },
        comment=reason,
    )
    return connection


ISSUE_TRANSITIONS = {
    Issue.Status.ACKNOWLEDGED: "issue_acknowledged",
    Issue.Status.MUTED: "issue_muted",
    Issue.Status.RESOLVED: "issue_resolved",
    Issue.Status.OPEN: "issue_reopened",
}


@transaction.atomic
def issue_set_status(*, issue, status, by):
    require_permission(by, "integrations.change_issue")
    issue = (
        Issue.objects.select_for_update().select_related("connection__customer").get(pk=issue.pk)
    )
    if issue.status == status:
        return issue
    if issue.status == Issue.Status.RESOLVED:
        raise ValidationError(_("A resolved issue stays resolved; a new one opens if it recurs."))
    before = {"status": issue.status}
    issue.status = status
    if status == Issue.Status.ACKNOWLEDGED:
        issue.acknowledged_by = by
    if status == Issue.Status.RESOLVED:
        issue.resolved_at = timezone.now()
    issue.save()
    AuditEntry.record(
        actor=by,
        action=ISSUE_TRANSITIONS[status],
        customer=issue.connection.customer,
        target=_connection_target(issue.connection, issue.title[:120]),
        before=before,
        after={"status": issue.status},
    )
    return issue


def issue_confirm_mass_deletion(*, issue, by):
    """Confirm a held mass deletion: the engine applies it with a full run queued now."""
    require_permission(by, "integrations.change_issue")
    require_permission(by, "integrations.resync_connection")
    with transaction.atomic():
        issue = (
            Issue.objects.select_for_update()
            .select_related("connection__customer")
            .get(pk=issue.pk)
        )
        before = {"status": issue.status, "confirmed": bool(issue.data.get("confirmed"))}
        run = mass_deletion_confirm(issue=issue, by=by)
        AuditEntry.record(
            actor=by,
            action="mass_deletion_confirmed",
            customer=issue.connection.customer,
            target=_connection_target(issue.connection, issue.title[:120]),
            before=before,
            after={
                "status": issue.status,
                "confirmed": True,
                "run": run.pk if run else None,
                "missing": issue.data.get("missing"),
                "live": issue.data.get("live"),
            },
        )
    return run


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def form_change_recorded(*, action, customer, target, form, by, exclude=()):
    """Audit an admin form's edited fields, before and after (never a secret: pass its field
    name in `exclude`). Returns the entry, or None when nothing changed."""
    before, after = {}, {}
    for name in form.changed_data:
        if name in exclude:
            continue
        old, new = _plain(form.initial.get(name)), _plain(form.cleaned_data.get(name))
        if old != new and str(old) != str(new):  # a form may see "[]" vs [] as a change
            before[name], after[name] = old, new
    if not after:
        return None
    return AuditEntry.record(
        actor=by, action=action, customer=customer, target=target, before=before, after=after
    )


def formset_change_recorded(*, action, customer, target, formset, by):
    """Audit what an inline changed: added, edited (with fields) and deleted rows."""
    added = [str(obj) for obj in getattr(formset, "new_objects", [])]
    deleted = [str(obj) for obj in getattr(formset, "deleted_objects", [])]
    edited = {str(obj): fields for obj, fields in getattr(formset, "changed_objects", [])}
    if not (added or deleted or edited):
        return None
    return AuditEntry.record(
        actor=by,
        action=action,
        customer=customer,
        target=target,
        after={"added": added, "edited": edited, "deleted": deleted},
    )
