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
from django.utils import timezone

from integrations.models import Issue

# Issues the customer can fix (their token), so their contacts are told as well as SEMINE.
CUSTOMER_ACTIONABLE = {Issue.Kind.AUTH_FAILED, Issue.Kind.PERMISSION_MISSING}
CONTACT_ROLES = ("project", "finance")


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
    recipients = []
    if issue.kind in CUSTOMER_ACTIONABLE:
        recipients += list(
            customer.contacts.filter(role__in=CONTACT_ROLES).values_list("email", flat=True)
        )
    if customer.project_manager_id and customer.project_manager.email:
        recipients.append(customer.project_manager.email)
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        return False
    base_url = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    body = (
        f"Hello,\n\nThe Xledger integration for {customer.legal_name} needs attention:\n\n"
        f"{issue.title}\n\n{issue.detail}\n\n"
        "Until this is fixed, SEMINE does not ask Xledger for this customer's data.\n"
        f"Details: {base_url}/\n\n— Semine Connect\n"
    )
    send_mail(f"[Semine Connect] {customer.legal_name}: {issue.title}", body, None, recipients)
    return True


# --- Mass deletions ------------------------------------------------------------------------------


def mass_deletion_hold(*, run, missing: int, live: int) -> Issue:
    """A full sync would tombstone `missing` of `live` rows: hold it and ask a person."""
    share = missing / live if live else 1.0
    issue = issue_open(
        connection=run.connection,
        kind=Issue.Kind.MASS_DELETION,
        dataset=run.dataset,
        title=f"{run.get_dataset_display()}: {missing} of {live} records would be deleted",
        detail=(
            f"A full sync no longer saw {missing} of {live} records ({share:.0%}). Nothing was "
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
