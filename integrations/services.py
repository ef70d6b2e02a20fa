"""The sync engine's business actions (keyword-only functions; reads are in selectors.py).

A run's life: created `queued` (by the dispatcher, a person, or go-live) → `run_execute` takes it
to `running` with a conditional UPDATE (so a task delivered twice runs once) → the dataset module
writes pages, each page beating the heartbeat → `succeeded`, `partial` (some records rejected,
or deletions held for confirmation) or `failed`. A worker that dies leaves a run whose heartbeat
stops; the reaper (dispatch.reap) turns it `abandoned`.

What a failure does to the connection and the schedule is decided here, in `_after_failure`:
transient errors are retried sooner with backoff; authentication and permission failures stop
all calls for the connection and open one Issue; used-up credits wait until Xledger's resetAt.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Aggregate, Case, CharField, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from integrations import issues
from integrations.clients import client_for
from integrations.datasets import INITIAL_SYNC_ORDER, Dataset
from integrations.dispatch import enqueue_run
from integrations.models import ClientEntity, Connection, Issue, RequestUsage, Run, Schedule
from integrations.models.runs import RunLost
from integrations.xledger import queries
from integrations.xledger.errors import (
    AuthenticationError,
    CreditsExhausted,
    PermissionDenied,
    SchemaMismatch,
    Unavailable,
    XledgerError,
)

logger = logging.getLogger("integrations.sync")

WORKER = f"{socket.gethostname()}:{os.getpid()}"
FAILING_AFTER = 3  # consecutive failed runs of a dataset before a person is asked to look


def dataset_module(dataset: str):
    """integrations/datasets/<dataset>.py, which exposes `sync(*, run, client, full)`."""
    return import_module(f"integrations.datasets.{dataset}")


def dataset_applies(dataset: str, connection) -> bool:
    """Whether the connection syncs `dataset`: a module may say no with `applies(connection)`."""
    applies = getattr(dataset_module(dataset), "applies", None)
    return applies(connection) if applies else True


# --- Runs ---------------------------------------------------------------------------------------


def run_create(*, schedule, trigger, full=False, by=None) -> Run | None:
    """Queue a run of `schedule` (task sent on commit), or None if one is already active."""
    run = Run.queue(schedule=schedule, trigger=trigger, full=full, by=by)
    if run is not None:
        enqueue_run(run)
    return run


def run_execute(*, run_id: int) -> Run | None:
    """Run one queued run to its end. Returns None if the run was not queued any more (a task
    delivered twice, or a run reaped/released before a worker took it)."""
    now = timezone.now()
    if not Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).update(
        status=Run.Status.RUNNING, started_at=now, heartbeat_at=now, worker=WORKER[:200]
    ):
        logger.info("Run %s is not queued any more; nothing to do", run_id)
        return None
    run = (
        Run.objects.select_related("connection__customer", "schedule")
        .annotate(excluded_owner_ids=Subquery(_excluded_ids))
        .get(pk=run_id)
    )
    connection = run.connection
    connection.excluded_owner_ids = run.excluded_owner_ids or ""  # read with the run: see mirroring
    if not connection.may_call_xledger:
        _finish(
            run,
            Run.Status.FAILED,
            kind="connection",
            message=f"The connection is {connection.get_status_display()}: Xledger was not called.",
        )
        return run

    client = None
    try:
        client = client_for(connection)
        with client:
            try:
                dataset_module(run.dataset).sync(run=run, client=client, full=run.full)
            except Unavailable as exc:
                raise _token_or(exc, client) from exc
    except RunLost:
        logger.warning("Run %s was taken away while running; stopping", run_id)
        return run
    except XledgerError as exc:
        _record_requests(run, client)
        status = Run.Status.DEFERRED if isinstance(exc, Unavailable) else Run.Status.FAILED
        if _finish(run, status, kind=exc.kind, message=str(exc)):
            _after_failure(run, exc)
    except Exception as exc:  # a bug or a database failure: the run must still end
        logger.exception("Run %s crashed", run_id)
        _record_requests(run, client)
        message = f"{type(exc).__name__}: {exc}"
        if _finish(run, Run.Status.FAILED, kind="internal", message=message):
            _after_failure(run, exc)
    else:
        _record_requests(run, client)
        partial = run.rejected or run.error_kind
        # The run's end and what it moves on the schedule (watermark, last full sync) commit
        # together: a dispatcher that finds the dataset free again also finds them.
        with transaction.atomic():
            if _finish(run, Run.Status.PARTIAL if partial else Run.Status.SUCCEEDED):
                _after_success(run)
    return run


class _IdList(Aggregate):
    """The ids as one comma-separated text ("" or NULL when there are none)."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "STRING_AGG(%(expressions)s::text, ',')"
        return self.as_sql(compiler, connection, template=template, **extra)


# The client entities out of scope, read in the run's own SELECT: a quiet run costs one
# statement less (see test_quiet_runs.py).
_excluded_ids = (
    ClientEntity.objects.filter(
        connection_id=OuterRef("connection_id"), in_scope=False, is_owner=False
    )
    .values("connection_id")
    .annotate(ids=_IdList("db_id"))
    .values("ids")
)


def _token_or(exc: Unavailable, client) -> XledgerError:
    """An error Xledger did not explain might be a revoked token worded in a way we do not know:
    ask the cheapest question only a valid token gets answered, once, before deciding. A refused
    token is an AuthenticationError (the connection needs attention); anything else leaves the
    error as it was (deferred: Xledger is unavailable)."""
    try:
        client.execute(queries.TOKEN_CHECK, attempts=1)
    except AuthenticationError as auth:
        return auth
    except XledgerError:
        return exc
    return exc


def _record_requests(run, client) -> None:
    if client is not None:
        run.requests = client.request_count


def _finish(run, status, *, kind="", message="") -> bool:
    """End the run (only if it is still ours) and count its requests on the customer's month."""
    now = timezone.now()
    fields = {
        "status": status,
        "finished_at": now,
        "heartbeat_at": now,
        "error_kind": kind or run.error_kind,
        "error_message": (message or run.error_message)[:5000],
        # What the run counted and reached, in the same UPDATE (pages may not have written it:
        # see Run.record_page).
        **{name: getattr(run, name) for name in Run.PROGRESS_FIELDS},
        "watermark": run.watermark,
        "delta_cursor": run.delta_cursor,
    }
    ours = Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)
    if ours and run.requests:  # a reaped run's requests were counted by the reaper
        usage_add(connection_id=run.connection_id, requests=run.requests, when=now)
    return bool(ours)


def _after_success(run) -> None:
    """The schedule moves on, in one UPDATE: watermark and delta cursor (only ever after a
    completed run, and a watermark never moves back), the last full sync, the last success, and
    the failure streak back to zero.

    A `partial` run completed too (every page was read and written): its watermark moves, or
    one unmappable record would make every later incremental run re-read everything since.
    The rejected records are counted on the run and read again by the next full sync.

    Issues that a success resolves can only be open after a failure of this dataset (each of
    them counted on its failure streak), so a run after a clean streak asks nothing more.
    """
    schedule = run.schedule
    if schedule is None:
        return
    changes = {"failure_streak": 0, "last_success_at": run.finished_at}
    if run.watermark is not None:
        changes["watermark"] = Case(
            When(
                Q(watermark__isnull=True) | Q(watermark__lt=run.watermark),
                then=Value(run.watermark),
            ),
            default=F("watermark"),
        )
    if run.delta_cursor:
        changes["delta_cursor"] = run.delta_cursor
    if run.full:
        changes["last_full_sync_at"] = run.started_at
    # Stopped by a schema mismatch (no next run): back on its grid.
    changes["next_run_at"] = Case(
        When(
            enabled=True,
            next_run_at__isnull=True,
            then=Value(schedule.next_due_after(run.finished_at)),
        ),
        default=F("next_run_at"),
    )
    Schedule.objects.filter(pk=schedule.pk).update(**changes)
    if schedule.failure_streak:
        Issue.objects.filter(
            Q(
                kind__in=[Issue.Kind.SCHEMA_MISMATCH, Issue.Kind.DATASET_FAILING],
                dataset=run.dataset,
            )
            | Q(kind=Issue.Kind.CREDITS_EXHAUSTED),
            connection=run.connection,
        ).exclude(status=Issue.Status.RESOLVED).update(
            status=Issue.Status.RESOLVED, resolved_at=timezone.now()
        )


def _after_failure(run, exc) -> None:
    connection = run.connection
    if isinstance(exc, AuthenticationError | PermissionDenied):
        connection_needs_attention(connection=connection, error=exc)
        return
    schedule = run.schedule
    if schedule is None:
        return
    now = timezone.now()
    schedule.refresh_from_db()
    if isinstance(exc, SchemaMismatch):
        _schema_mismatch(run, schedule, exc)
        return
    if isinstance(exc, CreditsExhausted):
        next_at = max(exc.reset_at, now)
        issues.issue_open(
            connection=connection,
            kind=Issue.Kind.CREDITS_EXHAUSTED,
            title="Xledger credits are used up",
            detail=f"Xledger refuses requests until {exc.reset_at.isoformat()}; syncs wait.",
        )
        Schedule.objects.filter(pk=schedule.pk).update(
            next_run_at=next_at, failure_streak=F("failure_streak") + 1
        )
        return
    schedule.failure_streak += 1
    retry_at = schedule.retry_after_failure(now)
    if schedule.next_run_at is None or retry_at < schedule.next_run_at:
        schedule.next_run_at = retry_at
    Schedule.objects.filter(pk=schedule.pk).update(
        failure_streak=schedule.failure_streak, next_run_at=schedule.next_run_at
    )
    if isinstance(exc, Unavailable):
        _unavailable_for_long(run, schedule, now)
    elif schedule.failure_streak >= FAILING_AFTER:
        _dataset_failing(run, schedule.failure_streak)


def _unavailable_for_long(run, schedule, now) -> None:
    """Deferred runs are not failures: a maintenance window opens no Issue. Only when Xledger
    has answered this dataset with errors it did not explain for longer than
    XLEDGER_UNAVAILABLE_GRACE_HOURS (since the dataset's last completed run) is a person told."""
    grace = timedelta(hours=float(getattr(settings, "XLEDGER_UNAVAILABLE_GRACE_HOURS", 6)))
    last_done = (
        Run.objects.filter(schedule=schedule, status__in=(Run.Status.SUCCEEDED, Run.Status.PARTIAL))
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    since = Run.objects.filter(schedule=schedule, status=Run.Status.DEFERRED)
    if last_done is not None:
        since = since.filter(finished_at__gt=last_done)
    first = since.order_by("finished_at").values_list("finished_at", flat=True).first()
    if first is not None and now - first >= grace:
        hours = (now - first).total_seconds() / 3600
        issues.issue_open(
            connection=run.connection,
            kind=Issue.Kind.DATASET_FAILING,
            dataset=run.dataset,
            title=f"{run.get_dataset_display()}: Xledger unavailable for {hours:.0f} hours",
            detail=(
                f"Runs were deferred for {hours:.1f} hours: Xledger answered with errors it did "
                f"not explain, and the token check still passed. Latest: {run.error_message}"
            ),
        )


def _schema_mismatch(run, schedule, exc: SchemaMismatch) -> None:
    """Xledger refused our query as invalid for its schema: retrying cannot help and would spend
    the customer's requests, so the dataset's scheduled runs stop (its schedule is not due
    again) and SEMINE's staff get one Issue with the server's words and the query's name. A
    resync that succeeds (after the query is corrected) puts the schedule back on its grid."""
    Schedule.objects.filter(pk=schedule.pk).update(
        next_run_at=None, failure_streak=F("failure_streak") + 1
    )
    issues.issue_open(
        connection=run.connection,
        kind=Issue.Kind.SCHEMA_MISMATCH,
        dataset=run.dataset,
        title=f"{run.get_dataset_display()}: Xledger refuses our query {exc.operation}".strip(),
        detail=(
            f"Query {exc.operation or '(unnamed)'}: {exc.message} Scheduled runs of this dataset "
            "are stopped; correct the query (integrations/xledger/queries.py), then resync."
        ),
        data={"operation": exc.operation, "message": exc.message},
    )


def _dataset_failing(run, streak: int) -> None:
    """Ask a person to look at a dataset whose runs keep failing: one Issue per problem.

    The invoices dataset's problem is the outbox's `invoices_failing` Issue (the outbox knows
    which invoices fail, counts each failed send on it and resolves it when an invoice is sent).
    Failed runs only open that Issue when the outbox has not (a lookup that keeps failing, a
    crash), so a failing invoices run never opens a second, `dataset_failing` one.
    """
    title = f"{run.get_dataset_display()}: {streak} failed runs in a row"
    if run.dataset == Dataset.INVOICES:
        kind = Issue.Kind.INVOICES_FAILING
        already = Issue.objects.filter(connection=run.connection, kind=kind, dataset=run.dataset)
        if already.exclude(status=Issue.Status.RESOLVED).exists():
            return  # the outbox counted this failure on its Issue
    else:
        kind = Issue.Kind.DATASET_FAILING
    issues.issue_open(
        connection=run.connection,
        kind=kind,
        dataset=run.dataset,
        title=title,
        detail=run.error_message,
    )


def connection_needs_attention(*, connection, error) -> Issue:
    """Stop calling Xledger for this connection and ask for a new/fixed token: one Issue per
    connection, one e-mail (not one per run)."""
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).exclude(
        status=Connection.Status.NEEDS_ATTENTION
    ).update(status=Connection.Status.NEEDS_ATTENTION, status_changed_at=now)
    connection.status = Connection.Status.NEEDS_ATTENTION
    if isinstance(error, PermissionDenied):
        kind, title = Issue.Kind.PERMISSION_MISSING, "The Xledger API token lacks a permission"
    else:
        kind, title = Issue.Kind.AUTH_FAILED, "Xledger no longer accepts the API token"
    issue = issues.issue_open(connection=connection, kind=kind, title=title, detail=str(error))
    transaction.on_commit(lambda: issues.issue_notify(issue))
    return issue


def run_release(*, run, by) -> bool:
    """A person frees a stuck run: abandoned, and the dataset is due again."""
    now = timezone.now()
    who = getattr(by, "get_username", lambda: "")() or "a person"
    released = Run.objects.filter(pk=run.pk, status__in=Run.ACTIVE_STATUSES).update(
        status=Run.Status.ABANDONED,
        finished_at=now,
        error_kind="released",
        error_message=f"Released by {who}.",
    )
    if released and run.schedule_id:
        Schedule.objects.filter(pk=run.schedule_id, enabled=True).update(next_run_at=now)
    if released and run.requests:
        usage_add(connection_id=run.connection_id, requests=run.requests, when=now)
    return bool(released)


def usage_add(*, connection_id, requests: int, when=None) -> None:
    """Add to the customer's monthly Xledger request figure (atomic increment, or insert)."""
    if not requests:
        return
    month = timezone.localdate(when or timezone.now()).replace(day=1)
    usage = RequestUsage.objects.filter(connection_id=connection_id, month=month)
    if usage.update(requests=F("requests") + requests):
        return
    try:
        with transaction.atomic():
            RequestUsage.objects.create(connection_id=connection_id, month=month, requests=requests)
    except IntegrityError:
        usage.update(requests=F("requests") + requests)


# --- Connections --------------------------------------------------------------------------------


@transaction.atomic
def connection_go_live(*, connection, by) -> list[Run]:
    """Enable the schedules (on their grid from now), mark the connection live, and queue the
    initial full syncs in INITIAL_SYNC_ORDER. Returns the queued runs."""
    now = timezone.now()
    schedules = {s.dataset: s for s in Schedule.ensure_for(connection)}
    connection.live_since = connection.live_since or now
    connection.save(update_fields=["live_since", "updated_at"])
    for schedule in schedules.values():
        schedule.enabled = dataset_applies(schedule.dataset, connection)
        schedule.next_run_at = schedule.next_due_after(now)
    Schedule.objects.bulk_update(schedules.values(), ["enabled", "next_run_at"])
    runs = []
    for dataset in INITIAL_SYNC_ORDER:
        if schedules[dataset].enabled:
            run = run_create(
                schedule=schedules[dataset], trigger=Run.Trigger.GO_LIVE, full=True, by=by
            )
            if run:
                runs.append(run)
    return runs


def resync(*, connection, dataset=None, full=False, by=None) -> list[Run]:
    """Queue a manual run of one dataset, or of every enabled mirror dataset. A dataset that is
    already running is not queued twice: its active run is returned instead."""
    if not connection.may_call_xledger:
        raise ValidationError(
            f"The connection is {connection.get_status_display()}; fix that before a resync."
        )
    datasets = [dataset] if dataset else list(INITIAL_SYNC_ORDER)
    schedules = {s.dataset: s for s in Schedule.ensure_for(connection)}
    runs = []
    for name in datasets:
        schedule = schedules[name]
        if not dataset_applies(name, connection):
            continue
        if dataset is None and connection.is_live and not schedule.enabled:
            continue
        run = run_create(schedule=schedule, trigger=Run.Trigger.MANUAL, full=full, by=by)
        if run is None:
            run = Run.objects.filter(
                connection=connection, dataset=name, status__in=Run.ACTIVE_STATUSES
            ).first()
        if run:
            runs.append(run)
    return runs


def connection_rescoped(*, connection, datasets) -> list[Schedule]:
    """The scope of a connection changed (client entities in or out, fixed assets per entity,
    dimensions): the next run of each of `datasets` is a full one, which reads what is now in
    scope and tombstones what no longer is. On a live connection each of those schedules is
    then on exactly when its dataset applies. Returns the schedules touched."""
    now = timezone.now()
    schedules = list(Schedule.objects.filter(connection=connection, dataset__in=list(datasets)))
    for schedule in schedules:
        schedule.last_full_sync_at = None
        if not connection.is_live:
            continue
        applies = dataset_applies(schedule.dataset, connection)
        if applies and not schedule.enabled:
            schedule.next_run_at = schedule.next_due_after(now)
        elif not applies and schedule.enabled:
            schedule.next_run_at = None
        schedule.enabled = applies
    Schedule.objects.bulk_update(schedules, ["last_full_sync_at", "enabled", "next_run_at"])
    return schedules


def connection_pause(*, connection, by) -> None:
    """No more Xledger calls for this connection (runs already going finish)."""
    connection.status = Connection.Status.PAUSED
    connection.status_changed_at = timezone.now()
    connection.save(update_fields=["status", "status_changed_at", "updated_at"])


def connection_resume(*, connection, by) -> None:
    """Back to `ok` unless a token problem is still open (then `needs_attention`). Schedules
    whose time passed while paused are due at the next tick, once."""
    token_problem = (
        connection.issues.filter(kind__in=[Issue.Kind.AUTH_FAILED, Issue.Kind.PERMISSION_MISSING])
        .exclude(status=Issue.Status.RESOLVED)
        .exists()
    )
    if token_problem or not connection.has_token:
        connection.status = Connection.Status.NEEDS_ATTENTION
    else:
        connection.status = Connection.Status.OK
    connection.status_changed_at = timezone.now()
    connection.save(update_fields=["status", "status_changed_at", "updated_at"])


def connection_reverify(*, connection, by=None):
    """Check the token against Xledger again, store the checklist, and set the status: a good
    token resolves the token Issues and resumes the schedules (due now); a bad one stops them.
    A paused connection stays paused."""
    from integrations.xledger.verify import Check, Verification, verify

    try:
        with client_for(connection) as client:
            verification = verify(
                client,
                connection.owner_entity_id,
                **connection.verify_options(),
            )
            requests = client.request_count
    except AuthenticationError as exc:  # a token of the wrong shape: refused before sending
        verification = Verification(ok=False)
        verification.checks.append(
            Check.make("token", False, problem="rejected", message=exc.message)
        )
        requests = 0
    usage_add(connection_id=connection.pk, requests=requests)

    now = timezone.now()
    with transaction.atomic():
        connection.refresh_from_db()
        connection.verification = verification.to_dict()
        connection.verified_at = now
        was = connection.status
        if verification.ok:
            _token_works(connection, verification, was=was, now=now)
        elif was != Connection.Status.PAUSED:
            connection.status = Connection.Status.NEEDS_ATTENTION
            failed = {check.key for check in verification.failed_checks}
            kind = Issue.Kind.AUTH_FAILED if "token" in failed else Issue.Kind.PERMISSION_MISSING
            issue = issues.issue_open(
                connection=connection,
                kind=kind,
                title="The Xledger API token needs attention",
                detail="; ".join(f"{c.label}: {c.fix}" for c in verification.failed_checks),
            )
            transaction.on_commit(lambda: issues.issue_notify(issue))
        if connection.status != was:
            connection.status_changed_at = now
        connection.save()
    return verification


def connection_token_replaced(*, connection, verification) -> None:
    """A new token that passed every check was stored on `connection` (by the caller, in this
    transaction): record the checklist and resume as `connection_reverify` does after a good
    check. Call `connection.set_token(...)` first; this saves the connection."""
    if not verification.ok:
        raise ValueError("Only a token that passed every check replaces the working one.")
    now = timezone.now()
    was = Connection.objects.values_list("status", flat=True).get(pk=connection.pk)
    connection.verification = verification.to_dict()
    connection.verified_at = now
    connection.status = was  # set_token marked it unverified; the check just proved otherwise
    _token_works(connection, verification, was=was, now=now)
    if connection.status != was:
        connection.status_changed_at = now
    connection.save()


def _token_works(connection, verification, *, was, now) -> None:
    """A check passed: OK again (a connection SEMINE paused stays paused), the token Issues are
    resolved, the entities kept in step, and on a live connection whatever waited while the
    token was broken (syncs, held invoices) runs at the next tick."""
    if was != Connection.Status.PAUSED:
        connection.status = Connection.Status.OK
    for kind in (Issue.Kind.AUTH_FAILED, Issue.Kind.PERMISSION_MISSING):
        issues.issue_resolve(connection=connection, kind=kind)
    _store_entities(connection, verification)
    if connection.is_live and was in (
        Connection.Status.NEEDS_ATTENTION,
        Connection.Status.UNVERIFIED,
    ):
        connection.schedules.filter(enabled=True).update(next_run_at=now)


def _store_entities(connection, verification) -> None:
    """Keep ClientEntity rows in step with what the token sees (one upsert); in_scope choices
    are kept.

    A client entity that appears on a live connection (one whose scope was chosen) stays out
    of scope until someone decides: one NEW_CLIENT_ENTITY Issue asks, and the people concerned
    are told once, after the commit."""
    known = set(ClientEntity.objects.filter(connection=connection).values_list("db_id", flat=True))
    watching = connection.is_live and bool(known)
    new = [
        entity
        for entity in verification.entities
        if watching and entity["dbId"] not in known and not entity.get("is_owner")
    ]
    new_ids = {entity["dbId"] for entity in new}
    entities = {
        entity["dbId"]: ClientEntity(
            connection=connection,
            db_id=entity["dbId"],
            code=entity.get("code") or "",
            description=entity.get("description") or "",
            company_number=entity.get("companyNumber") or "",
            is_owner=bool(entity.get("is_owner")),
            in_scope=entity["dbId"] not in new_ids,  # for new rows; existing ones keep theirs
        )
        for entity in verification.entities
    }
    ClientEntity.objects.bulk_create(
        entities.values(),
        update_conflicts=True,
        unique_fields=["connection", "db_id"],
        update_fields=["code", "description", "company_number", "is_owner"],
    )
    if new:
        issue = issues.new_client_entities_found(connection=connection, entities=new)
        transaction.on_commit(lambda: issues.issue_notify(issue))


# --- Mass deletions -----------------------------------------------------------------------------


def mass_deletion_confirm(*, issue, by) -> Run | None:
    """A person confirms the held deletion: it is applied by a full run queued now (or, if the
    dataset is running, by its next full run)."""
    if issue.kind != Issue.Kind.MASS_DELETION or issue.is_resolved:
        raise ValidationError("Only an unresolved mass-deletion issue can be confirmed.")
    issue.status = Issue.Status.ACKNOWLEDGED
    issue.acknowledged_by = by
    issue.data = {
        **issue.data,
        "confirmed": True,
        "confirmed_by": getattr(by, "pk", None),
        "confirmed_at": timezone.now().isoformat(),
    }
    issue.save(update_fields=["status", "acknowledged_by", "data"])
    schedule = Schedule.objects.get(connection=issue.connection, dataset=issue.dataset)
    return run_create(schedule=schedule, trigger=Run.Trigger.MANUAL, full=True, by=by)
