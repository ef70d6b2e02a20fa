"""Onboarding actions: what a customer (or a project manager) does to a customer's setup.

Plain keyword-only functions; views only parse input and show results. Every action that matters
leaves an AuditEntry, and none of them ever puts an API token into a message, an e-mail, an audit
entry or a log line: the token goes from the form straight into `connection.set_token`.

Editing after the setup was confirmed: the customer may keep editing until go-live. Each change
e-mails the project manager. If the setup is still complete, the status stays "submitted" (the
e-mail says what changed); if the change left something incomplete, the status goes back to
"in progress" and the customer must confirm again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations import clients
from integrations.models import ClientEntity, Connection, Schedule
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import (
    AuthenticationError,
    CreditsExhausted,
    RateLimited,
    TransientError,
    XledgerError,
)
from integrations.xledger.verify import Check, Verification, verify
from portal import emails, selectors, throttle
from portal.invitations import Invitation
from portal.models import AuditEntry, Contact, Customer, Membership
from portal.roles import CustomerRole
from portal.token_links import TokenLink

logger = logging.getLogger("portal.onboarding")


class OnboardingError(Exception):
    """An action that is not allowed in the customer's current state (the message says why)."""


class OwnerEntityTaken(OnboardingError):
    """The owner entity is connected already, in the same environment (never stored twice)."""

    def __init__(self, *, same_customer: bool):
        self.same_customer = same_customer
        super().__init__(
            "This owner entity is connected already."
            if same_customer
            else "This owner entity is already connected to another SEMINE customer."
        )


# --- Invitations ---------------------------------------------------------------------------------


class InvitationsThrottled(OnboardingError):
    """The customer sent as many IT partner invitations as a day allows."""


class AccountOfAnotherCustomer(OnboardingError):
    """The invited address is a user of another customer already (one user, one customer)."""


def invitation_create(
    *, customer: Customer, email: str, by, language: str = "", role: str = CustomerRole.MEMBER
) -> Invitation:
    """Invite `email` to `customer` and send the link, in `language` (blank: every language)."""
    invitation = Invitation(
        customer=customer, email=email.strip(), created_by=by, language=language or "", role=role
    )
    raw = invitation.issue_token()
    invitation.sent_at = timezone.now()
    invitation.save()
    AuditEntry.record(
        actor=by,
        action="invitation_create",
        customer=customer,
        target=invitation.email,
        after={"role": role} if role != CustomerRole.MEMBER else None,
    )
    emails.send_invitation(invitation, raw)
    return invitation


def it_partner_invite(*, customer: Customer, email: str, language: str, by) -> Invitation:
    """A customer user invites their IT partner to the token step (token, owner IDs, scope;
    nothing else), so that the customer need not wait for SEMINE to do it. The project manager
    is told; a customer may send THROTTLE_IT_PARTNER_INVITATIONS in a window."""
    membership = getattr(by, "membership", None)
    if membership is None or membership.customer_id != customer.pk or membership.is_it_partner:
        raise OnboardingError("Only the customer's own users invite an IT partner.")
    limit, window = settings.THROTTLE_IT_PARTNER_INVITATIONS
    if throttle.is_limited("it_partner_invitation", customer.pk, limit):
        raise InvitationsThrottled("Too many IT partner invitations; try again tomorrow.")
    throttle.hit("it_partner_invitation", customer.pk, window)
    invitation = invitation_create(
        customer=customer, email=email, by=by, language=language, role=CustomerRole.IT_PARTNER
    )
    emails.send_it_partner_invited(invitation)
    return invitation


def invitation_resend(*, invitation: Invitation, by) -> Invitation:
    """A new link with a new expiry; the old link stops working."""
    if invitation.accepted_at:
        raise OnboardingError("This invitation was already accepted.")
    raw = invitation.issue_token()
    invitation.revoked_at = None
    invitation.revoked_by = None
    invitation.sent_at = timezone.now()
    invitation.save()
    AuditEntry.record(
        actor=by,
        action="invitation_resend",
        customer=invitation.customer,
        target=invitation.email,
    )
    emails.send_invitation(invitation, raw)
    return invitation


def invitation_revoke(*, invitation: Invitation, by) -> Invitation:
    if invitation.accepted_at:
        raise OnboardingError("This invitation was already accepted.")
    if not invitation.revoked_at:
        invitation.revoked_at = timezone.now()
        invitation.revoked_by = by
        invitation.save(update_fields=["revoked_at", "revoked_by"])
        AuditEntry.record(
            actor=by,
            action="invitation_revoke",
            customer=invitation.customer,
            target=invitation.email,
        )
    return invitation


def invitation_accept(*, invitation: Invitation, password: str, language: str = ""):
    """Create the user (username = e-mail address), bind them to the customer, burn the link.

    `language` is the one the invitation page was read in; e-mails to the user use it."""
    User = get_user_model()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable:
            raise OnboardingError("This invitation link can no longer be used.")
        username = locked.email.lower()
        existing = User.objects.filter(username__iexact=username).first()
        if existing is not None:
            theirs = Membership.objects.filter(user=existing).first()
            if theirs is not None and theirs.customer_id != locked.customer_id:
                raise AccountOfAnotherCustomer(
                    "This e-mail address is a user of another customer already."
                )
            raise OnboardingError("An account with this e-mail address exists already.")
        user = User.objects.create_user(username=username, email=locked.email, password=password)
        membership = Membership(user=user, customer=locked.customer, role=locked.role)
        membership.remember_language(language or locked.language)
        membership.save()
        locked.accepted_at = timezone.now()
        locked.accepted_user = user
        locked.save(update_fields=["accepted_at", "accepted_user"])
        customer = locked.customer
        if customer.onboarding_status == Customer.Status.INVITED:
            customer.onboarding_status = Customer.Status.IN_PROGRESS
            customer.save(update_fields=["onboarding_status", "updated_at"])
        AuditEntry.record(
            actor=user,
            action="invitation_accept",
            customer=customer,
            target=locked.email,
            after={"role": locked.role} if locked.role != CustomerRole.MEMBER else None,
        )
    return user


# --- Client information (D01.01) -----------------------------------------------------------------

CLIENT_FIELDS = (
    "legal_name",
    "organisation_number",
    "country",
    "street_address",
    "postal_code",
    "city",
    "expected_invoice_volume",
    "fixed_assets_apply",
    "fixed_assets_as_dimension",
    "fixed_assets_dimension_code",
    "fixed_assets_dimension_name",
    "supplier_posting_account",
    "customer_posting_account",
    "desired_go_live",
    "notes",
)


def _ensure_editable(customer: Customer) -> None:
    if selectors.is_live(customer):
        raise OnboardingError("The integration is live; ask your project manager for changes.")


def _ensure_connection_editable(connection: Connection) -> None:
    """A connection's owner ID, token and scope are the customer's to change until it is live
    (a connection added after go-live is editable until the project manager approves it)."""
    if connection.is_removed:
        raise OnboardingError("This connection was removed.")
    if connection.is_live:
        raise OnboardingError("The integration is live; ask your project manager for changes.")


def customer_save_client_information(
    *, customer: Customer, data: dict, contacts: dict[str, dict], by, draft: bool
) -> Customer:
    """Store the client information. `contacts` maps a role to {name, email, phone}; a role with
    all three empty removes that contact. Drafts may be incomplete; validation is the form's job."""
    _ensure_editable(customer)
    with transaction.atomic():
        before = {f: _jsonable(getattr(customer, f)) for f in CLIENT_FIELDS}
        contacts_before = _contacts_snapshot(customer)
        for name in CLIENT_FIELDS:
            if name in data:
                setattr(customer, name, data[name])
        if customer.onboarding_status == Customer.Status.INVITED:
            customer.onboarding_status = Customer.Status.IN_PROGRESS
        customer.save()
        for role, values in contacts.items():
            values = {k: (values.get(k) or "").strip() for k in ("name", "email", "phone")}
            if any(values.values()):
                Contact.objects.update_or_create(customer=customer, role=role, defaults=values)
            else:
                Contact.objects.filter(customer=customer, role=role).delete()
        after = {f: _jsonable(getattr(customer, f)) for f in CLIENT_FIELDS}
        changed = {k: v for k, v in after.items() if before[k] != v}
        contacts_after = _contacts_snapshot(customer)
        if contacts_after != contacts_before:
            changed["contacts"] = sorted(
                role
                for role in set(contacts_before) | set(contacts_after)
                if contacts_before.get(role) != contacts_after.get(role)
            )
        AuditEntry.record(
            actor=by,
            action="client_information_draft" if draft else "client_information_save",
            customer=customer,
            target=customer.legal_name,
            before={k: before[k] for k in changed if k in before},
            after=changed,
        )
    _after_change(customer, by=by, section="client_information", changed=bool(changed))
    return customer


def _contacts_snapshot(customer: Customer) -> dict:
    return {c.role: (c.name, c.email, c.phone) for c in Contact.objects.filter(customer=customer)}


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


# --- Owner ID, token and the live check ----------------------------------------------------------


def xledger_client(connection: Connection) -> XledgerClient:
    """A client for an interactive check, built by the engine's one factory (which tests point
    at the sandbox): short timeout, one retry at most, no long waits, so a customer is never
    left looking at a page that does not answer."""
    return clients.client_for(
        connection,
        timeout=min(settings.XLEDGER_TIMEOUT_SECONDS, 20.0),
        max_wait=2.0,
        max_attempts=2,
    )


@dataclass
class TokenCheck:
    """What happened when the customer saved the owner ID and token.

    outcome: "verified" (every check passed), "failed" (Xledger answered; see the checklist),
    "unreachable" (timeout, connection refused, Xledger failing), "busy" (Xledger rate limit or
    used-up credits), "throttled" (too many checks from this customer: we did not ask Xledger),
    "error" (Xledger refused SEMINE's own query: a problem for SEMINE support, logged).
    """

    outcome: str
    verification: Verification | None = None
    retry_after_minutes: int = 0
    connection: Connection | None = None


def owner_entity_taken(
    *, owner_entity_id: int, environment: str, exclude: Connection | None = None
) -> Connection | None:
    """The connection in use that has this owner entity in this environment already, if any."""
    taken = Connection.objects.current().filter(
        owner_entity_id=owner_entity_id, environment=environment
    )
    if exclude is not None and exclude.pk:
        taken = taken.exclude(pk=exclude.pk)
    return taken.first()


def connection_save_token(
    *,
    customer: Customer,
    by,
    owner_entity_id: int,
    environment: str,
    token: str | None = None,
    connection: Connection | None = None,
) -> TokenCheck:
    """Store the owner ID, environment and (when given) the new token of one of the customer's
    connections, then check them live. Without `connection`, a new connection is added (the
    customer's first, or another owner entity); it needs a token.

    The token is stored encrypted before the check, so a failed or impossible check never makes
    the customer paste it again. A new token overwrites the old one, which is not kept anywhere.
    `token` must already be format-checked (`integrations.xledger.client.clean_token`). An owner
    entity connected already (on this customer or another, same environment) is refused with
    `OwnerEntityTaken` and nothing is stored.
    """
    if connection is None:
        if not token:
            raise OnboardingError("A new owner entity needs its API token.")
        connection = Connection(customer=customer)
    elif connection.customer_id != customer.pk:
        raise OnboardingError("This is not the customer's connection.")
    _ensure_connection_editable(connection)
    taken = owner_entity_taken(
        owner_entity_id=owner_entity_id, environment=environment, exclude=connection
    )
    if taken is not None:
        raise OwnerEntityTaken(same_customer=taken.customer_id == customer.pk)
    added = connection.pk is None
    before = {
        "owner_entity_id": connection.owner_entity_id,
        "environment": connection.environment,
        "token_fingerprint": connection.token_fingerprint,
    }
    connection.owner_entity_id = owner_entity_id
    connection.environment = environment
    if token:
        connection.set_token(token, by=by)
        connection.verification = {}
        connection.verified_at = None
    elif before["owner_entity_id"] != owner_entity_id or before["environment"] != environment:
        connection.verification = {}
        connection.status = Connection.Status.UNVERIFIED
        connection.status_changed_at = timezone.now()
    if connection.approval_requested_at and before != {
        "owner_entity_id": owner_entity_id,
        "environment": environment,
        "token_fingerprint": connection.token_fingerprint,
    }:
        connection.approval_requested_at = None  # asked for another setup: ask again
    try:
        with transaction.atomic():
            connection.save()
            if added:
                Schedule.ensure_for(connection)
    except IntegrityError:
        # Another request connected the same owner entity a moment ago (the database's
        # uniqueness holds under races; the check above is for the message).
        if added:
            connection.pk = None
        taken = owner_entity_taken(
            owner_entity_id=owner_entity_id, environment=environment, exclude=connection
        )
        raise OwnerEntityTaken(
            same_customer=taken is not None and taken.customer_id == customer.pk
        ) from None
    after = {
        "owner_entity_id": connection.owner_entity_id,
        "environment": connection.environment,
        "token_fingerprint": connection.token_fingerprint,
    }
    if added:
        AuditEntry.record(
            actor=by,
            action="connection_add",
            customer=customer,
            target=f"connection {connection.pk}",
            after={"owner_entity_id": owner_entity_id, "environment": environment},
        )
    if token:
        AuditEntry.record(
            actor=by,
            action="token_set",
            customer=customer,
            target=f"connection {connection.pk}",
            before={"token_fingerprint": before["token_fingerprint"]},
            after={"token_fingerprint": connection.token_fingerprint},
            comment="The token value is never recorded.",
        )
    if before != after and not added:
        AuditEntry.record(
            actor=by,
            action="connection_save",
            customer=customer,
            target=f"connection {connection.pk}",
            before={k: v for k, v in before.items() if k != "token_fingerprint"},
            after={k: v for k, v in after.items() if k != "token_fingerprint"},
        )
    result = connection_check(connection=connection, by=by)
    result.connection = connection
    _after_change(customer, by=by, section="token", changed=bool(token) or before != after)
    return result


def connection_replace_token(
    *, connection: Connection, token: str, by=None, link=None
) -> TokenCheck:
    """Replace the token of a live connection, checked live BEFORE it replaces the working one.

    The new token is checked with the connection's owner entity (fixed: it is not changed here)
    from an unsaved copy of the connection. Only when every check passes is it stored: the old
    token is overwritten, the checklist stored, the token Issues resolved, and a connection
    Xledger had stopped accepting resumes at once (missed syncs and held invoices run at the
    next tick) without a new go-live approval; a connection SEMINE paused stays paused. A
    failing new token changes nothing (outcome "failed", with the checklist's fixes) and the
    old one keeps working. `by` is the user, or None for the holder of a replace-token `link`
    (which a successful replacement uses up). The project manager is e-mailed; the audit log
    has it (fingerprints only). Before go-live use `connection_save_token` (store, then check).
    """
    from integrations.services import connection_token_replaced

    if connection.is_removed:
        raise OnboardingError("This connection was removed.")
    if not connection.is_live:
        raise OnboardingError("Before go-live the token is saved and checked on the token page.")
    refused = _throttled(connection.customer_id)
    if refused is not None:
        return refused
    candidate = Connection(
        pk=connection.pk,
        customer_id=connection.customer_id,
        environment=connection.environment,
        owner_entity_id=connection.owner_entity_id,
        transaction_source_code=connection.transaction_source_code,
    )
    candidate.customer = connection.customer
    candidate.set_token(token)  # never saved: only the check's client sees it
    outcome = _run_check(candidate)
    if outcome.verification is None or not outcome.verification.ok:
        AuditEntry.record(
            actor=by,
            action="token_replace_refused",
            customer=connection.customer,
            target=f"connection {connection.pk}",
            after={
                "outcome": outcome.outcome,
                "failed_checks": [c.key for c in outcome.verification.checks if not c.ok]
                if outcome.verification
                else [],
                "via_link": link.email if link is not None else "",
            },
            comment="The working token was kept. The token value is never recorded.",
        )
        outcome.connection = connection
        return outcome
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if not locked.is_live:  # removed meanwhile
            raise OnboardingError("This connection is no longer live.")
        now = timezone.now()
        if link is not None:
            # Single use under the connection's lock: of two good tokens sent through one
            # link at the same moment, the second finds it used and changes nothing.
            if not TokenLink.objects.filter(
                pk=link.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
            ).update(used_at=now):
                raise OnboardingError("This link can no longer be used.")
        was = locked.status
        before = locked.token_fingerprint
        locked.set_token(token, by=by)
        connection_token_replaced(connection=locked, verification=outcome.verification)
        # The token is replaced: other links that ask for one are moot and stop working.
        TokenLink.objects.filter(
            connection=locked, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        AuditEntry.record(
            actor=by,
            action="token_replace",
            customer=locked.customer,
            target=f"connection {locked.pk}",
            before={"token_fingerprint": before, "status": was},
            after={"token_fingerprint": locked.token_fingerprint, "status": locked.status},
            comment=(f"Through the replace-token link sent to {link.email}. " if link else "")
            + "The token value is never recorded.",
        )
        resumed = was in (Connection.Status.NEEDS_ATTENTION, Connection.Status.UNVERIFIED)
        who = (
            (getattr(by, "email", "") or by.get_username())
            if by is not None
            else f"the holder of the replace-token link sent to {link.email}"
            if link is not None
            else "a person"
        )
        transaction.on_commit(lambda: emails.send_token_replaced(locked, who=who, resumed=resumed))
    return TokenCheck("replaced", verification=outcome.verification, connection=locked)


def _throttled(customer_id) -> TokenCheck | None:
    """Count one token check for the customer; "throttled" when too many were made lately."""
    limit, window = settings.THROTTLE_TOKEN_CHECKS
    if throttle.is_limited("token_check", customer_id, limit):
        return TokenCheck("throttled", retry_after_minutes=int(window.total_seconds() // 60))
    throttle.hit("token_check", customer_id, window)
    return None


def _run_check(connection: Connection) -> TokenCheck:
    """verify() with the connection's token (stored, or a candidate not stored yet), nothing
    saved; the requests count for the connection. `verification` is None unless Xledger
    answered the check."""
    try:
        with xledger_client(connection) as client:
            try:
                result = verify(client, connection.owner_entity_id, **connection.verify_options())
            finally:
                _count_requests(connection, client.request_count)
    except (RateLimited, CreditsExhausted) as exc:
        logger.info("Token check for connection %s: Xledger busy (%s)", connection.pk, exc.kind)
        return TokenCheck("busy")
    except AuthenticationError:
        # A token of a shape Xledger's client refuses (should not happen after the form's
        # check); reported like a rejected token.
        result = Verification(ok=False, checks=[Check.make("token", False, problem="rejected")])
    except TransientError as exc:
        logger.info(
            "Token check for connection %s: Xledger unreachable (%s)", connection.pk, exc.kind
        )
        return TokenCheck("unreachable")
    except XledgerError as exc:
        # Xledger refused our own query (a schema change): ours to fix, not the customer's.
        logger.error("Token check for connection %s failed: %s", connection.pk, exc)
        return TokenCheck("error")
    return TokenCheck("verified" if result.ok else "failed", verification=result)


def connection_discard(*, connection: Connection, by) -> None:
    """The customer takes back an owner entity that never went live (added by mistake, or one
    they will not connect after all). A connection that was live is removed by staff only."""
    if connection.live_since is not None:
        raise OnboardingError("A connection that was live is removed by SEMINE staff only.")
    customer = connection.customer
    with transaction.atomic():
        AuditEntry.record(
            actor=by,
            action="connection_discard",
            customer=customer,
            target=f"connection {connection.pk}",
            before={
                "owner_entity_id": connection.owner_entity_id,
                "environment": connection.environment,
            },
        )
        connection.delete()
    _after_change(customer, by=by, section="token", changed=True)


def connection_request_approval(*, connection: Connection, by) -> Connection:
    """After go-live: the customer asks SEMINE to take one more owner entity live. The project
    manager is told and approves it on its own (`portal.golive.connection_approve_golive`)."""
    from portal.golive import connection_golive_blockers

    customer = connection.customer
    if customer.onboarding_status != Customer.Status.LIVE:
        raise OnboardingError("Confirm the whole setup instead: the customer is not live yet.")
    _ensure_connection_editable(connection)
    if connection.approval_requested_at:
        return connection
    if connection_golive_blockers(connection, asked=False):
        raise OnboardingError("Check the token and choose the scope of this owner entity first.")
    connection.approval_requested_at = timezone.now()
    connection.save(update_fields=["approval_requested_at", "updated_at"])
    AuditEntry.record(
        actor=by,
        action="connection_submit",
        customer=customer,
        target=f"connection {connection.pk}",
        after={"owner_entity_id": connection.owner_entity_id},
    )
    emails.send_connection_submitted(connection, by=by)
    return connection


def connection_check(*, connection: Connection, by) -> TokenCheck:
    """Run verify() against Xledger, throttled per customer, and store the checklist."""
    refused = _throttled(connection.customer_id)
    if refused is not None:
        return refused
    customer = connection.customer
    outcome = _run_check(connection)
    if outcome.verification is None:
        return outcome
    result = outcome.verification
    now = timezone.now()
    connection.verification = result.to_dict()
    connection.verified_at = now
    new_status = Connection.Status.OK if result.ok else Connection.Status.UNVERIFIED
    if connection.status != new_status:
        connection.status = new_status
        connection.status_changed_at = now
    connection.save(update_fields=["verification", "verified_at", "status", "status_changed_at"])
    if result.ok:
        known = [e["dbId"] for e in result.entities]
        ClientEntity.objects.filter(connection=connection).exclude(db_id__in=known).delete()
    AuditEntry.record(
        actor=by,
        action="token_check",
        customer=customer,
        target=f"connection {connection.pk}",
        after={
            "ok": result.ok,
            "failed_checks": [c.key for c in result.checks if not c.ok],
            "requests": result.requests,
        },
    )
    return TokenCheck("verified" if result.ok else "failed", verification=result)


def _count_requests(connection: Connection, requests: int) -> None:
    """Checks cost the customer Xledger requests too: count them with the engine's usage."""
    if requests:
        from integrations.services import usage_add

        usage_add(connection_id=connection.pk, requests=requests)


def connection_save_scope(
    *,
    customer: Customer,
    connection: Connection,
    by,
    entities: dict[int, dict],
    dimensions: list[str],
    transaction_source: str | None = None,
) -> Connection:
    """Store which entities are in scope (with fixed assets per entity) and which dimensions
    (object kind keys) to sync, and the transaction source invoices are filed under. `entities`
    maps dbId -> {"in_scope": bool, "fixed_assets": bool} for every entity the last check listed."""
    if connection.customer_id != customer.pk:
        raise OnboardingError("This is not the customer's connection.")
    _ensure_connection_editable(connection)
    verification = connection.verification or {}
    if not verification.get("ok"):
        raise OnboardingError("Check the token successfully before choosing the scope.")
    listed = {e["dbId"]: e for e in verification.get("entities", [])}
    kinds = {k["code"] for k in verification.get("object_kinds", [])}
    with transaction.atomic():
        entities_before = _entities_snapshot(connection)
        for db_id, row in listed.items():
            choice = entities.get(db_id, {})
            ClientEntity.objects.update_or_create(
                connection=connection,
                db_id=db_id,
                defaults={
                    "code": row.get("code") or "",
                    "description": row.get("description") or "",
                    "company_number": row.get("companyNumber") or "",
                    "is_owner": bool(row.get("is_owner")),
                    "in_scope": bool(choice.get("in_scope")),
                    "fixed_assets": bool(choice.get("in_scope") and choice.get("fixed_assets")),
                },
            )
        ClientEntity.objects.filter(connection=connection).exclude(db_id__in=listed).delete()
        before = list(connection.selected_dimensions or [])
        source_before = connection.transaction_source_code
        connection.selected_dimensions = [d for d in dimensions if d in kinds]
        if transaction_source:
            connection.transaction_source_code = transaction_source
        entities_after = _entities_snapshot(connection)
        changed = (
            before != connection.selected_dimensions
            or entities_before != entities_after
            or source_before != connection.transaction_source_code
        )
        if changed:
            connection.approval_requested_at = None  # a changed scope is asked for again
        connection.save(
            update_fields=[
                "selected_dimensions",
                "transaction_source_code",
                "approval_requested_at",
                "updated_at",
            ]
        )
        AuditEntry.record(
            actor=by,
            action="scope_save",
            customer=customer,
            target=f"connection {connection.pk}",
            before={"dimensions": before, "transaction_source": source_before},
            after={
                "dimensions": connection.selected_dimensions,
                "transaction_source": connection.transaction_source_code,
                "entities_in_scope": sorted(
                    db_id for db_id, c in entities.items() if c.get("in_scope")
                ),
            },
        )
    _after_change(customer, by=by, section="scope", changed=changed)
    return connection


def _entities_snapshot(connection: Connection) -> dict:
    return {
        e.db_id: (e.in_scope, e.fixed_assets)
        for e in ClientEntity.objects.filter(connection=connection)
    }


# --- Confirmation --------------------------------------------------------------------------------


def customer_confirm_setup(*, customer: Customer, by) -> Customer:
    """The customer says the setup is done: record it and tell the project manager."""
    _ensure_editable(customer)
    if not selectors.all_tasks_done(customer):
        raise OnboardingError("Finish every task before confirming.")
    if customer.onboarding_status == Customer.Status.SUBMITTED:
        return customer
    before = customer.onboarding_status
    customer.onboarding_status = Customer.Status.SUBMITTED
    customer.submitted_at = timezone.now()
    customer.submitted_by = by
    customer.save(update_fields=["onboarding_status", "submitted_at", "submitted_by", "updated_at"])
    AuditEntry.record(
        actor=by,
        action="setup_confirm",
        customer=customer,
        target=customer.legal_name,
        before={"onboarding_status": before},
        after={"onboarding_status": customer.onboarding_status},
    )
    emails.send_setup_submitted(customer, by=by)
    return customer


def _after_change(customer: Customer, *, by, section: str, changed: bool) -> None:
    """After a confirmed setup is edited: tell the project manager; reopen it if incomplete.

    Saving without changing anything tells nobody, unless a re-check found the setup broken."""
    customer.refresh_from_db()
    if customer.onboarding_status != Customer.Status.SUBMITTED:
        return
    still_complete = selectors.all_tasks_done(customer)
    if still_complete and not changed:
        return
    if not still_complete:
        customer.onboarding_status = Customer.Status.IN_PROGRESS
        customer.save(update_fields=["onboarding_status", "updated_at"])
        AuditEntry.record(
            actor=by,
            action="setup_reopened",
            customer=customer,
            target=customer.legal_name,
            before={"onboarding_status": Customer.Status.SUBMITTED},
            after={"onboarding_status": Customer.Status.IN_PROGRESS},
            comment=f"Changed after confirmation ({section}); the setup is no longer complete.",
        )
    emails.send_setup_changed(customer, by=by, section=section, still_complete=still_complete)
