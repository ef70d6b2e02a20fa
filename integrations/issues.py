"""Issues: problems on a connection that a person must act on, kept once per problem.

An Issue is opened (or, if one is already open for the same connection × kind × dataset, seen
again: `occurrences` + 1) and resolved when the problem goes away. The people concerned are
told once per issue (`notified_at`), not once per failed run.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.models import Issue

# Issues the customer can fix (their token) or must decide (a new client entity), so their
# contacts are told as well as SEMINE.
CUSTOMER_ACTIONABLE = {
    Issue.Kind.AUTH_FAILED,
    Issue.Kind.PERMISSION_MISSING,
    Issue.Kind.NEW_CLIENT_ENTITY,
}
CONTACT_ROLES = ("project", "finance")
# Issues a new token fixes: their e-mail links to the connection's token page.
TOKEN_KINDS = {Issue.Kind.AUTH_FAILED, Issue.Kind.PERMISSION_MISSING}

# What the customer reads about an issue, in their language. The stored `title` and `detail`
# are English and written for SEMINE's staff (they may quote Xledger's own error messages).
CUSTOMER_TEXTS = {
    Issue.Kind.AUTH_FAILED: _(
        "Xledger no longer accepts the API token, so SEMINE cannot fetch your data. Create a new "
        "token in Xledger and enter it in the portal."
    ),
    Issue.Kind.PERMISSION_MISSING: _(
        "The API token lacks a permission SEMINE needs. Check the token in the portal to see "
        "exactly what to tick in Xledger."
    ),
    Issue.Kind.DATASET_FAILING: _(
        "Synchronising this data has failed several times in a row. SEMINE is looking into it."
    ),
    Issue.Kind.MASS_DELETION: _(
        "A synchronisation of this data would delete many records at once, so nothing was "
        "deleted. SEMINE will check with you before anything is removed."
    ),
    Issue.Kind.INVOICES_FAILING: _(
        "Sending approved invoices to Xledger keeps failing. SEMINE is looking into it."
    ),
    Issue.Kind.SCHEMA_MISMATCH: _(
        "Xledger no longer accepts how SEMINE asks for this data, so it is not being "
        "synchronised. SEMINE has been told and is correcting it; you need not do anything."
    ),
    Issue.Kind.CREDITS_EXHAUSTED: _(
        "Your Xledger request credits are used up for now. Synchronisation waits until Xledger "
        "accepts requests again."
    ),
    Issue.Kind.NEW_CLIENT_ENTITY: _(
        "A new client entity appeared in Xledger: choose whether SEMINE should synchronise it."
    ),
}

# Issues that do not stop the synchronisation (the e-mail must not say it stopped).
KEEPS_SYNCING = {Issue.Kind.NEW_CLIENT_ENTITY}


def issue_customer_text(issue: Issue) -> str:
    """What the issue means for the customer, in the active language. Pages show it after the
    kind and dataset (both translated choices) instead of the stored English title."""
    return str(CUSTOMER_TEXTS.get(issue.kind) or issue.get_kind_display())


def issue_open(*, connection, kind, title, detail="", dataset="", data=None) -> Issue:
    """Open the issue, or count one more occurrence of the unresolved one."""
    now = timezone.now()
    for _attempt in range(2):
        issue = (
            Issue.objects.filter(connection=connection, kind=kind, dataset=dataset)
            .exclude(status=Issue.Status.RESOLVED)
            .first()
        )
        if issue is not None:
            Issue.objects.filter(pk=issue.pk).update(
                occurrences=F("occurrences") + 1, last_seen_at=now, detail=detail or issue.detail
            )
            issue.refresh_from_db()
            return issue
        try:
            with transaction.atomic():
                return Issue.objects.create(
                    connection=connection,
                    kind=kind,
                    dataset=dataset,
                    title=title,
                    detail=detail,
                    data=data or {},
                    opened_at=now,
                    last_seen_at=now,
                )
        except IntegrityError:
            continue  # another worker opened it a moment ago: count on that one
    raise RuntimeError("Could not open or find the issue.")


def issue_resolve(*, connection, kind, dataset=None) -> int:
    """Resolve the unresolved issues of that kind (any dataset when `dataset` is None)."""
    issues = Issue.objects.filter(connection=connection, kind=kind).exclude(
        status=Issue.Status.RESOLVED
    )
    if dataset is not None:
        issues = issues.filter(dataset=dataset)
    return issues.update(status=Issue.Status.RESOLVED, resolved_at=timezone.now())


def issue_notify(issue: Issue) -> bool:
    """E-mail the people concerned, once per issue (guarded by a conditional UPDATE on
    `notified_at`, so two workers failing at once still send one e-mail)."""
    if not Issue.objects.filter(pk=issue.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    ):
        return False
    issue.refresh_from_db()
    customer = issue.connection.customer
    by_language: dict[str, set[str]] = {}
    if issue.kind in CUSTOMER_ACTIONABLE:  # the customer's contacts, each in their language
        for email in customer.contacts.filter(role__in=CONTACT_ROLES).values_list(
            "email", flat=True
        ):
            if email:
                by_language.setdefault(customer.language_for(email), set()).add(email)
    if customer.project_manager_id and customer.project_manager.email:
        by_language.setdefault("en", set()).add(customer.project_manager.email)
    if not by_language:
        return False
    for language, recipients in sorted(by_language.items()):
        with translation.override(language):
            subject, body = _notice(issue, customer)
        send_mail(subject, body, None, sorted(recipients))
    return True


def _notice(issue: Issue, customer) -> tuple[str, str]:
    """The issue e-mail in the active language. The stored title and detail are English (they
    may quote Xledger) and follow as the technical detail."""
    base_url = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    kind = str(issue.get_kind_display())
    if issue.dataset:
        kind = f"{kind} ({issue.get_dataset_display()})"
    lines = [
        gettext("Hello,"),
        "",
        gettext("The Xledger integration for %(customer)s needs attention:")
        % {"customer": customer.legal_name},
        "",
        f"{kind}: {issue_customer_text(issue)}",
        "",
        gettext("Technical detail: %(title)s") % {"title": issue.title},
    ]
    if issue.detail:
        lines.append(issue.detail)
    lines.append("")
    if issue.kind not in KEEPS_SYNCING:
        lines.append(
            gettext("Until this is fixed, SEMINE does not ask Xledger for this customer's data.")
        )
    if issue.kind in TOKEN_KINDS and issue.connection_id:
        # The customer fixes it themselves: straight to that connection's token page.
        page = reverse("xledger_connection_token", args=[issue.connection_id])
        lines.append(gettext("Replace the token here: %(url)s") % {"url": f"{base_url}{page}"})
    else:
        lines.append(gettext("Details: %(url)s") % {"url": f"{base_url}/"})
    lines += [
        "",
        "— Semine Connect",
    ]
    subject = f"[Semine Connect] {customer.legal_name}: {kind}"
    return subject, "\n".join(lines) + "\n"


# --- Mass deletions ------------------------------------------------------------------------------


def mass_deletion_hold(*, run, missing: int, live: int) -> Issue:
    """A sync would tombstone `missing` of `live` rows: hold it and ask a person. A confirmed
    deletion is applied by a full run, which sees for itself what Xledger still has."""
    share = missing / live if live else 1.0
    how = (
        "A full sync no longer saw"
        if run.full
        else "Xledger's supplier changes (deltas) say it deleted"
    )
    issue = issue_open(
        connection=run.connection,
        kind=Issue.Kind.MASS_DELETION,
        dataset=run.dataset,
        title=f"{run.get_dataset_display()}: {missing} of {live} records would be deleted",
        detail=(
            f"{how} {missing} of {live} records ({share:.0%}). Nothing was "
            "deleted. If Xledger really lost them, confirm the deletion; if a token permission "
            "changed, fix the token instead."
        ),
        data={"missing": missing, "live": live, "run": run.pk},
    )
    run.error_kind = "mass_deletion"
    run.error_message = issue.title + " — held for confirmation, nothing deleted."
    run.save(update_fields=["error_kind", "error_message"])
    return issue


def mass_deletion_confirmed(*, connection, dataset) -> bool:
    return Issue.objects.filter(
        connection=connection,
        kind=Issue.Kind.MASS_DELETION,
        dataset=dataset,
        status=Issue.Status.ACKNOWLEDGED,
        data__confirmed=True,
    ).exists()


def mass_deletion_cleared(*, connection, dataset) -> None:
    """A full sync applied its deletions (confirmed, or small enough): the question is closed."""
    issue_resolve(connection=connection, kind=Issue.Kind.MASS_DELETION, dataset=dataset)


# --- New client entities -------------------------------------------------------------------------


def _entity_name(entity: dict) -> str:
    return f"{entity.get('code') or ''} {entity.get('description') or ''}".strip() or str(
        entity["dbId"]
    )


def new_client_entities_found(*, connection, entities: list[dict]) -> Issue:
    """Re-verification of a live connection listed client entities it did not know: one Issue
    (kept open while any of them waits for a decision) asks whether to synchronise them. Its
    `data["entities"]` lists those still undecided ({dbId, code, description})."""
    rows = [
        {
            "dbId": entity["dbId"],
            "code": entity.get("code") or "",
            "description": entity.get("description") or "",
        }
        for entity in entities
    ]
    issue = issue_open(
        connection=connection,
        kind=Issue.Kind.NEW_CLIENT_ENTITY,
        title="",
        data={"entities": rows},
    )
    known = {row["dbId"] for row in issue.data.get("entities", [])}
    waiting = list(issue.data.get("entities", [])) + [r for r in rows if r["dbId"] not in known]
    _describe_new_entities(issue, waiting)
    return issue


def new_client_entities_decided(*, connection, db_ids) -> Issue | None:
    """The scope now says, for each of `db_ids`, whether it is synchronised: those are no longer
    waiting; the Issue is resolved when none is."""
    issue = (
        Issue.objects.filter(connection=connection, kind=Issue.Kind.NEW_CLIENT_ENTITY)
        .exclude(status=Issue.Status.RESOLVED)
        .first()
    )
    if issue is None:
        return None
    decided = {int(db_id) for db_id in db_ids}
    waiting = [row for row in issue.data.get("entities", []) if row["dbId"] not in decided]
    if not waiting:
        issue.data = {**issue.data, "entities": []}
        issue.status = Issue.Status.RESOLVED
        issue.resolved_at = timezone.now()
        issue.save(update_fields=["data", "status", "resolved_at"])
        return issue
    _describe_new_entities(issue, waiting)
    return issue


def new_client_entities_waiting(connection) -> list[dict]:
    """The client entities of `connection` that appeared after go-live and wait for a decision."""
    issue = (
        Issue.objects.filter(connection=connection, kind=Issue.Kind.NEW_CLIENT_ENTITY)
        .exclude(status=Issue.Status.RESOLVED)
        .first()
    )
    return list(issue.data.get("entities", [])) if issue else []


def _describe_new_entities(issue: Issue, waiting: list[dict]) -> None:
    names = ", ".join(_entity_name(row) for row in waiting)
    one = len(waiting) == 1
    issue.title = (f"New client entit{'y' if one else 'ies'} in Xledger: {names}")[:300]
    issue.detail = (
        f"Xledger lists {'this client entity' if one else 'these client entities'} since go-live "
        f"({names}). {'It is' if one else 'They are'} not synchronised until the customer "
        "chooses on the scope page and the scope change is applied."
    )
    issue.data = {**issue.data, "entities": waiting}
    issue.save(update_fields=["title", "detail", "data"])
