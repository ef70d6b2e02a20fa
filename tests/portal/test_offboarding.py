"""Offboarding a connection or a whole customer: a reason and a typed confirmation, everything
stops at once, the token is destroyed (not marked), unsent invoices end cancelled with the reason
(still readable in the status feed), the intake refuses with 410, logins, invitations and API
keys end, people are told in their language; bad input changes nothing."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from integrations.models import ApiKey, Connection, Invoice, Issue
from portal import offboarding
from portal.invitations import Invitation
from portal.models import AuditEntry, Contact, Membership
from tests.admin_builders import make_issue
from tests.api.conftest import ApiClient, make_live_connection
from tests.api.test_metrics import make_invoice
from tests.integrations.invoices.test_intake_api import body

REASON = "The contract ended on 30 November."


@pytest.fixture
def live(db, pm_user):
    """A live customer with two owner entities, invoices in every state, a user, a contact, a
    pending invitation and an API key of its own."""
    first = make_live_connection("Nordgruppen AS")
    customer = first.customer
    customer.project_manager = pm_user
    customer.save()
    second = make_live_connection(customer=customer)
    user = User.objects.create_user("kari@nordgruppen.example", "kari@nordgruppen.example", "pw")
    Membership.objects.create(user=user, customer=customer, language="nb")
    Contact.objects.create(
        customer=customer, role="finance", name="Ola", email="ola@nordgruppen.example"
    )
    invitation = Invitation(customer=customer, email="ny@nordgruppen.example", created_by=pm_user)
    invitation_token = invitation.issue_token()
    invitation.save()
    key, plaintext = ApiKey.issue(name="SEMINE", customer=customer)
    invoices = {
        status: make_invoice(first, n, status=status)
        for n, status in enumerate(
            ["pending", "rejected", "in_doubt", "sent", "cancelled"], start=1
        )
    }
    make_issue(first)
    return {
        "customer": customer,
        "first": first,
        "second": second,
        "user": user,
        "invitation_token": invitation_token,
        "key": plaintext,
        "invoices": invoices,
    }


def status_of(invoice):
    invoice.refresh_from_db()
    return invoice.status


def test_offboarding_one_connection_leaves_the_other_running(
    live, pm_user, django_capture_on_commit_callbacks
):
    first, second = live["first"], live["second"]
    second.schedules.update(enabled=True, next_run_at=timezone.now())
    before = list(second.schedules.values_list("dataset", "enabled", "next_run_at"))
    with django_capture_on_commit_callbacks(execute=True):
        offboarding.connection_offboard(
            connection=first, by=pm_user, reason=REASON, confirmation=str(first.owner_entity_id)
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_removed and not first.schedules.filter(enabled=True).exists()
    assert Connection.objects.filter(pk=first.pk, api_token__isnull=True).exists()
    assert second.has_token and not second.is_removed
    assert list(second.schedules.values_list("dataset", "enabled", "next_run_at")) == before
    invoices = live["invoices"]
    for status in ("pending", "rejected", "in_doubt"):
        assert status_of(invoices[status]) == "cancelled"
        assert REASON in invoices[status].last_error
    assert "may have reached Xledger" in invoices["in_doubt"].last_error
    assert "may have reached" not in invoices["pending"].last_error
    assert status_of(invoices["sent"]) == "sent"
    assert not Issue.objects.filter(connection=first).exclude(status="resolved").exists()
    entry = AuditEntry.objects.get(action="connection_offboarded")
    assert entry.actor == pm_user and entry.comment == REASON
    assert entry.after["cancelled"] == 2 and entry.after["cancelled_maybe_in_xledger"] == 1
    # The customer, in Norwegian, and the project manager, in English, with the revoke steps.
    by_address = {m.to[0]: m for m in mail.outbox}
    assert "Xledger" in by_address["kari@nordgruppen.example"].body
    assert "revoke it in Xledger" in by_address["pm@semine.example"].body
    assert str(first.owner_entity_id) in by_address["pm@semine.example"].body
    # The customer's logins are untouched: only one owner entity left.
    assert User.objects.get(pk=live["user"].pk).is_active


def test_the_intake_refuses_an_offboarded_connection_and_the_feed_shows_why(live, pm_user):
    first, second = live["first"], live["second"]
    offboarding.connection_offboard(
        connection=first, by=pm_user, reason=REASON, confirmation=str(first.owner_entity_id)
    )
    api = ApiClient(live["key"])
    refused = api.post(
        f"/api/connections/{first.pk}/invoices",
        body(),
        content_type="application/json",
    )
    assert refused.status_code == 410
    assert "offboarded" in refused.json()["detail"]
    feed = api.get(f"/api/connections/{first.pk}/invoices?status=cancelled")
    assert feed.status_code == 200
    reasons = {item["externalId"]: item for item in feed.json()["items"]}
    assert len(reasons) == 4  # three cancelled now, one before
    assert api.get(f"/api/connections/{first.pk}/suppliers").status_code == 410
    assert api.get(f"/api/connections/{second.pk}/suppliers").status_code == 200


@pytest.mark.parametrize(
    "confirmation, reason, message",
    [
        ("12345", REASON, "Type the owner entity ID"),
        ("", REASON, "Type the owner entity ID"),
        (None, "   ", "Say why"),
    ],
)
def test_bad_input_changes_nothing(live, pm_user, confirmation, reason, message):
    first = live["first"]
    with pytest.raises(ValidationError, match=message):
        offboarding.connection_offboard(
            connection=first,
            by=pm_user,
            reason=reason,
            confirmation=str(first.owner_entity_id) if confirmation is None else confirmation,
        )
    first.refresh_from_db()
    assert first.has_token and not first.is_removed
    assert status_of(live["invoices"]["pending"]) == "pending"


def test_offboarding_twice_says_so(live, pm_user):
    first = live["first"]
    offboarding.connection_offboard(
        connection=first, by=pm_user, reason=REASON, confirmation=str(first.owner_entity_id)
    )
    first.refresh_from_db()
    with pytest.raises(ValidationError, match="already offboarded"):
        offboarding.connection_offboard(
            connection=first, by=pm_user, reason=REASON, confirmation=str(first.owner_entity_id)
        )
    offboarding.customer_offboard(
        customer=live["customer"], by=pm_user, reason=REASON, confirmation="nordgruppen as"
    )
    with pytest.raises(ValidationError, match="already offboarded"):
        offboarding.customer_offboard(
            customer=live["customer"], by=pm_user, reason=REASON, confirmation="Nordgruppen AS"
        )


def test_an_invoice_being_sent_right_now_makes_it_wait(live, pm_user):
    first = live["first"]
    sending = make_invoice(first, 99, status="sending")
    Invoice.objects.filter(pk=sending.pk).update(
        claimed_by="worker:1", claimed_until=timezone.now() + timedelta(minutes=5)
    )
    with pytest.raises(ValidationError, match="being sent to Xledger right now"):
        offboarding.customer_offboard(
            customer=live["customer"], by=pm_user, reason=REASON, confirmation="Nordgruppen AS"
        )
    first.refresh_from_db()
    assert first.has_token and status_of(live["invoices"]["pending"]) == "pending"
    assert User.objects.get(pk=live["user"].pk).is_active


def test_offboarding_the_customer_ends_everything(
    live, pm_user, settings, django_capture_on_commit_callbacks
):
    settings.OFFBOARD_RETENTION_DAYS, settings.OFFBOARD_ERASURE_REQUESTED_DAYS = 90, 30
    customer, user = live["customer"], live["user"]
    signed_in = Client()
    signed_in.post("/accounts/login/", {"username": user.username, "password": "pw"})
    assert signed_in.get("/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        offboarding.customer_offboard(
            customer=customer,
            by=pm_user,
            reason=REASON,
            confirmation=" nordgruppen  AS ",
            erasure_requested=True,
        )
    customer.refresh_from_db()
    assert customer.is_offboarded and customer.offboarded_by == pm_user
    assert timedelta(days=29) < customer.erase_after - customer.offboarded_at <= timedelta(days=30)
    assert not Connection.objects.filter(customer=customer, api_token__isnull=False).exists()
    assert not Connection.objects.current().filter(customer=customer).exists()
    # Logins end: the open session, and a new sign-in.
    assert signed_in.get("/")["Location"].startswith("/accounts/login/")
    again = Client().post("/accounts/login/", {"username": user.username, "password": "pw"})
    assert again.status_code == 200 and "_auth_user_id" not in again.wsgi_request.session
    # The pending invitation no longer works, nor the API key.
    page = Client().get(f"/invitation/{live['invitation_token']}/")
    assert Invitation.objects.get(customer=customer).revoked_at is not None
    assert page.status_code in (200, 404, 410) and "password1" not in page.content.decode()
    assert ApiClient(live["key"]).get("/api/customers").status_code == 401
    assert not ApiKey.objects.filter(customer=customer, revoked_at__isnull=True).exists()
    # The contact and the user (read before they were signed out) were told.
    told = {address for message in mail.outbox for address in message.to}
    assert {"kari@nordgruppen.example", "ola@nordgruppen.example", "pm@semine.example"} <= told
    entry = AuditEntry.objects.get(action="customer_offboarded")
    assert entry.after["users_signed_out"] == 1 and entry.after["api_keys_revoked"] == 1
    assert entry.after["invitations_revoked"] == 1 and len(entry.after["connections"]) == 2


def test_an_all_customer_key_reads_the_feed_and_is_refused_the_intake(live, pm_user):
    customer = live["customer"]
    offboarding.customer_offboard(
        customer=customer, by=pm_user, reason=REASON, confirmation="Nordgruppen AS"
    )
    _key, plaintext = ApiKey.issue(name="SEMINE production")
    api = ApiClient(plaintext)
    refused = api.post(
        f"/api/customers/{customer.pk}/invoices",
        body(),
        content_type="application/json",
    )
    assert refused.status_code == 410 and "offboarded" in refused.json()["detail"]
    first = live["first"]
    feed = api.get(f"/api/connections/{first.pk}/invoices?status=cancelled")
    assert feed.status_code == 200 and len(feed.json()["items"]) == 4


def test_only_a_project_manager_or_superuser_may(live, support_user):
    with pytest.raises(Exception, match="not allowed|permission"):
        offboarding.customer_offboard(
            customer=live["customer"], by=support_user, reason=REASON, confirmation="Nordgruppen AS"
        )
    assert not live["customer"].__class__.objects.get(pk=live["customer"].pk).is_offboarded


# --- The token's ciphertext is gone from the database itself --------------------------------------


def _ciphertext(connection) -> bytes:
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute(
            "SELECT api_token FROM integrations_connection WHERE id = %s", [connection.pk]
        )
        (value,) = cursor.fetchone()
    return (value or "").encode()


def _raw_database() -> bytes:
    """Every byte the database keeps: the SQLite file and its log, or a pg_dump."""
    import shutil
    import subprocess
    from pathlib import Path

    from django.db import connection as db

    settings_dict = db.settings_dict
    if db.vendor == "sqlite":
        path = Path(settings_dict["NAME"])
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    env = {"PGPASSWORD": settings_dict.get("PASSWORD") or ""}
    result = subprocess.run(
        [
            pg_dump,
            "--data-only",
            "-h",
            str(settings_dict.get("HOST") or "localhost"),
            "-p",
            str(settings_dict.get("PORT") or 5432),
            "-U",
            str(settings_dict.get("USER") or "postgres"),
            settings_dict["NAME"],
        ],  # fmt: skip
        capture_output=True,
        env=env,
        check=True,
        timeout=120,
    )
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_the_tokens_ciphertext_is_in_no_byte_of_the_database(pm_user):
    first = make_live_connection("Nordgruppen AS")
    second = make_live_connection(customer=first.customer)
    gone, kept = _ciphertext(first), _ciphertext(second)
    assert len(gone) > 40 and gone in _raw_database() and kept in _raw_database()
    offboarding.connection_offboard(
        connection=first, by=pm_user, reason=REASON, confirmation=str(first.owner_entity_id)
    )
    raw = _raw_database()
    assert gone not in raw
    assert kept in raw  # the search finds a ciphertext that is there


def _sqlite_reader_of_the_log():
    """Another process's reader (its own connection) holding a snapshot older than the last
    write: until it ends, the log cannot be emptied."""
    import sqlite3

    from django.db import connection as db

    if db.vendor != "sqlite":
        pytest.skip("the write-ahead log is SQLite's")
    path = db.settings_dict["NAME"]
    make_live_connection("Lesar AS")  # frames in the log
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM integrations_connection").fetchall()
    make_live_connection("Skrivar AS")  # a frame the reader does not see
    return path, reader


def _writer_goes_through_at_once(path):
    """A writer that would not wait a moment (busy timeout 0) gets the write lock."""
    import sqlite3

    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("ROLLBACK")
    finally:
        writer.close()


@pytest.mark.django_db(transaction=True)
def test_the_log_is_emptied_once_its_reader_lets_go_and_writers_go_first_meanwhile():
    from pathlib import Path

    from django.db import connection as db

    path, reader = _sqlite_reader_of_the_log()
    pauses = []

    def pause(seconds):
        pauses.append(seconds)
        _writer_goes_through_at_once(path)  # the checkpoint holds no lock between attempts
        if len(pauses) == 2:
            reader.execute("COMMIT")

    try:
        assert offboarding.forget_freed_pages(sleep=pause) is True
    finally:
        reader.close()
    assert len(pauses) == 2  # blocked twice by the reader, then done
    assert Path(f"{path}-wal").stat().st_size == 0
    with db.cursor() as cursor:  # the connection's own busy timeout is back
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 20000


@pytest.mark.django_db(transaction=True)
def test_a_reader_that_never_lets_go_is_given_up_on_and_said(caplog):
    path, reader = _sqlite_reader_of_the_log()
    pauses = []

    def pause(seconds):
        pauses.append(seconds)
        _writer_goes_through_at_once(path)

    try:
        assert offboarding.forget_freed_pages(attempts=3, sleep=pause) is False
    finally:
        reader.close()
    assert len(pauses) == 2
    assert "Could not empty the SQLite log" in caplog.text


# --- The staff pages ------------------------------------------------------------------------------


def test_the_customer_page_offboards_after_a_typed_name_and_keeps_what_was_typed(
    live, client, pm_user
):
    customer = live["customer"]
    client.force_login(pm_user)
    change = client.get(f"/admin/portal/customer/{customer.pk}/change/").content.decode()
    url = f"/admin/portal/customer/{customer.pk}/offboard/"
    assert f'href="{url}"' in change
    page = client.get(url).content.decode()
    assert "stops its 2 connections" in page and "d01-01.xlsx" in page
    wrong = client.post(url, {"reason": REASON, "confirmation": "Nordgruppen"})
    assert wrong.status_code == 200
    text = wrong.content.decode()
    assert "Type the customer&#x27;s legal name" in text and REASON in text
    customer.refresh_from_db()
    assert not customer.is_offboarded
    done = client.post(url, {"reason": REASON, "confirmation": "Nordgruppen AS"})
    assert done.status_code == 302
    customer.refresh_from_db()
    assert customer.is_offboarded and not customer.erasure_requested
    page = client.get(f"/admin/portal/customer/{customer.pk}/change/").content.decode()
    assert "Offboarded" in page and f'href="{url}"' not in page
    again = client.post(url, {"reason": REASON, "confirmation": "Nordgruppen AS"}, follow=True)
    assert "already offboarded" in again.content.decode()


def test_support_cannot_offboard_a_customer(live, client, support_user):
    client.force_login(support_user)
    url = f"/admin/portal/customer/{live['customer'].pk}/offboard/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": REASON, "confirmation": "Nordgruppen AS"}).status_code == 403


def test_the_connection_page_asks_for_the_owner_entity_id(live, client, pm_user):
    first = live["first"]
    client.force_login(pm_user)
    url = f"/admin/integrations/connection/{first.pk}/remove/"
    wrong = client.post(url, {"reason": REASON, "confirmation": "1"})
    assert wrong.status_code == 200 and "Type the owner entity ID" in wrong.content.decode()
    first.refresh_from_db()
    assert first.has_token
    done = client.post(url, {"reason": REASON, "confirmation": str(first.owner_entity_id)})
    assert done.status_code == 302
    first.refresh_from_db()
    assert first.is_removed and not first.has_token


def test_the_customer_is_told_in_norwegian_how_to_revoke_the_token(
    live, pm_user, django_capture_on_commit_callbacks
):
    first = live["first"]
    with django_capture_on_commit_callbacks(execute=True):
        offboarding.connection_offboard(
            connection=first, by=pm_user, reason=REASON, confirmation=str(first.owner_entity_id)
        )
    norwegian = next(m for m in mail.outbox if "kari@nordgruppen.example" in m.to)
    assert "er koblet fra" in norwegian.subject
    assert "Trekk det også tilbake i Xledger" in norwegian.body
    assert f"Eierenhet {first.owner_entity_id}" in norwegian.body


# --- Taking a customer back before erasure ----------------------------------------------------


def test_a_customer_taken_back_signs_in_again_and_needs_new_tokens_and_approval(
    live, client, pm_user
):
    customer, user, first = live["customer"], live["user"], live["first"]
    offboarding.customer_offboard(
        customer=customer, by=pm_user, reason=REASON, confirmation="Nordgruppen AS"
    )
    client.force_login(pm_user)
    url = f"/admin/portal/customer/{customer.pk}/reactivate/"
    assert (
        f'href="{url}"'
        in client.get(f"/admin/portal/customer/{customer.pk}/change/").content.decode()
    )
    assert client.post(url, {"reason": "They signed again."}).status_code == 302
    customer.refresh_from_db()
    assert not customer.is_offboarded and customer.erase_after is None
    assert customer.onboarding_status == "in_progress"
    user.refresh_from_db()
    assert user.is_active
    signed_in = Client()
    signed_in.post("/accounts/login/", {"username": user.username, "password": "pw"})
    assert signed_in.get("/").status_code == 200
    # The destroyed tokens stay destroyed; the old connections stay offboarded.
    first.refresh_from_db()
    assert first.is_removed and not first.has_token
    assert not Connection.objects.current().filter(customer=customer).exists()
    assert AuditEntry.objects.filter(action="customer_reactivated", actor=pm_user).exists()
    with pytest.raises(ValidationError, match="not offboarded"):
        offboarding.customer_reactivate(customer=customer, by=pm_user, reason="again")


def test_a_customer_whose_erasure_has_begun_cannot_be_taken_back(live, pm_user):
    customer = live["customer"]
    offboarding.customer_offboard(
        customer=customer, by=pm_user, reason=REASON, confirmation="Nordgruppen AS"
    )
    customer.__class__.objects.filter(pk=customer.pk).update(erasure_started_at=timezone.now())
    with pytest.raises(ValidationError, match="being erased"):
        offboarding.customer_reactivate(customer=customer, by=pm_user, reason="Back")
    customer.refresh_from_db()
    assert customer.is_offboarded


def test_a_customer_in_the_middle_of_a_run_is_offboarded_and_the_run_released(live, pm_user):
    from integrations.models import Run
    from tests.admin_builders import make_run

    first = live["first"]
    running = make_run(first, "suppliers", status="running", ago=timedelta(seconds=30))
    queued = make_run(first, "accounts", status="queued", ago=timedelta(seconds=5))
    offboarding.customer_offboard(
        customer=live["customer"], by=pm_user, reason=REASON, confirmation="Nordgruppen AS"
    )
    for run in (running, queued):
        run.refresh_from_db()
        assert run.status == Run.Status.ABANDONED  # the worker on it stops at its next heartbeat
    removal = AuditEntry.objects.get(action="connection_removed", target__contains="10001")
    assert sorted(removal.after["runs_released"]) == sorted([running.pk, queued.pk])
