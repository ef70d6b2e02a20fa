"""Scope after go-live: a client entity that appears in Xledger is asked about (one Issue, one
e-mail); the customer changes the scope of a live connection; the project manager applies or
declines it (or it applies at once where the customer is set so); the next run of each dataset
it touches is a full one. Token checks are live against the in-process sandbox."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations import dispatch
from integrations.datasets import ENTITY_SCOPED
from integrations.models import ClientEntity, Connection, Issue, Run, Schedule, ScopeChange
from integrations.services import connection_reverify
from portal.models import AuditEntry
from portal.scope_changes import scope_change_decide, scope_change_request
from tests.factories import make_connection, make_customer
from tests.portal.conftest import complete_setup, dimension_keys, make_customer_user

pytestmark = pytest.mark.xledger

NEW_NAME = "Nytt Datter AS"
LONG_AGO = timedelta(hours=2)


def go_live(customer):
    """The customer's connection, live since an hour, every dataset synced in full two hours
    ago (so an incremental run is what comes next, unless something says otherwise)."""
    connection = Connection.objects.get(customer=customer)
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        live_since=now - timedelta(hours=1), status=Connection.Status.OK
    )
    Schedule.objects.filter(connection=connection).update(
        enabled=True, last_full_sync_at=now - LONG_AGO, next_run_at=now + timedelta(hours=1)
    )
    connection.refresh_from_db()
    return connection


@pytest.fixture
def live(customer_client, customer, sandbox):
    complete_setup(customer_client, sandbox)
    mail.outbox.clear()
    return go_live(customer)


def add_client_entity(sandbox, description=NEW_NAME, code="1400") -> int:
    owner = sandbox.owner_db_id
    return sandbox.store.insert(
        "entities",
        dbId=None,
        code=code,
        description=description,
        companyNumber="999888777",
        ownerDbId=owner,
        parentDbId=owner,
    ).dbId


def reverify(connection, capture):
    with capture(execute=True):
        connection_reverify(connection=connection)


def scope_url(connection):
    return reverse("xledger_connection_scope", args=[connection.pk])


def scope_post(connection, *, include=(), exclude=(), dimensions=("Avdeling", "Prosjekt"), **extra):
    """POST data for the scope form: what is in scope now, plus `include`, minus `exclude`."""
    connection.refresh_from_db()
    in_scope = set(
        ClientEntity.objects.filter(connection=connection, in_scope=True).values_list(
            "db_id", flat=True
        )
    )
    in_scope = (in_scope | set(include)) - set(exclude)
    data = {f"entity_{db_id}_in_scope": "on" for db_id in in_scope}
    data["dimensions"] = dimension_keys(connection.verification, *dimensions)
    data["transaction_source_code"] = connection.transaction_source_code or "SEMINE"
    data.update(extra)
    return data


def full_sync_marks(connection) -> dict[str, bool]:
    """Per dataset: is the next run's full sync owed (last_full_sync_at reset)?"""
    return {
        s.dataset: s.last_full_sync_at is None
        for s in Schedule.objects.filter(connection=connection)
    }


def pm_client(pm_user):
    client = Client()
    client.force_login(pm_user)
    return client


def decide_url(connection, change):
    return f"/admin/integrations/connection/{connection.pk}/scope-changes/{change.pk}/"


# --- A client entity new in Xledger ---------------------------------------------------------------


def test_it_asks_once_about_a_client_entity_new_in_xledger(
    live, customer_client, sandbox, pm_user, django_capture_on_commit_callbacks
):
    new_id = add_client_entity(sandbox)
    reverify(live, django_capture_on_commit_callbacks)
    reverify(live, django_capture_on_commit_callbacks)  # seen again: no second Issue, no e-mail

    [issue] = Issue.objects.filter(connection=live, kind=Issue.Kind.NEW_CLIENT_ENTITY)
    assert issue.status == Issue.Status.OPEN
    assert issue.data["entities"] == [{"dbId": new_id, "code": "1400", "description": NEW_NAME}]
    assert NEW_NAME in issue.title
    # Nothing of it is synchronised before someone decides.
    assert not ClientEntity.objects.get(connection=live, db_id=new_id).in_scope
    # One e-mail per language; the project manager and the customer's contacts, each once.
    recipients = [address for message in mail.outbox for address in message.to]
    assert sorted(recipients) == sorted(
        ["pm@semine.example", "kari@fjordbat.example", "ola@fjordbat.example"]
    )
    assert len(mail.outbox) == 1
    assert "choose whether SEMINE should synchronise it" in mail.outbox[0].body
    assert "does not ask Xledger" not in mail.outbox[0].body  # the rest keeps syncing

    home = customer_client.get("/").content.decode()
    assert "1 new client entity in Xledger — include it?" in home
    assert f'href="{scope_url(live)}"' in home
    page = customer_client.get(scope_url(live)).content.decode()
    assert "New in Xledger — include it?" in page
    row = page.split(f'name="entity_{new_id}_in_scope"')[0].rsplit("<tr>", 1)[1]
    assert NEW_NAME in row and "New in Xledger" in row


def test_before_go_live_a_new_entity_is_only_listed(
    customer_client, customer, sandbox, django_capture_on_commit_callbacks
):
    complete_setup(customer_client, sandbox)
    connection = Connection.objects.get(customer=customer)
    new_id = add_client_entity(sandbox)
    mail.outbox.clear()
    reverify(connection, django_capture_on_commit_callbacks)
    assert ClientEntity.objects.filter(connection=connection, db_id=new_id).exists()
    assert not Issue.objects.filter(kind=Issue.Kind.NEW_CLIENT_ENTITY).exists()
    assert mail.outbox == []


# --- The customer's change, the project manager's answer ----------------------------------------


def test_a_change_on_a_live_connection_waits_for_the_project_manager(
    live, customer_client, customer_user, sandbox, django_capture_on_commit_callbacks
):
    new_id = add_client_entity(sandbox)
    reverify(live, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    before = full_sync_marks(live)

    page = customer_client.get(scope_url(live)).content.decode()
    assert "<fieldset disabled" not in page and "Ask your project manager for this scope" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(
            scope_url(live),
            scope_post(live, include=[new_id], dimensions=("Avdeling", "Prosjekt", "Kostnadssted")),
        )
    assert response.status_code == 302 and response["Location"] == reverse("home")

    change = ScopeChange.objects.get(connection=live)
    assert change.status == ScopeChange.Status.PENDING and change.requested_by == customer_user
    assert change.entities[str(new_id)] == {"in_scope": True, "fixed_assets": False}
    assert NEW_NAME in change.summary and "Kostnadssted" in change.summary
    # Nothing changes before the project manager applies it.
    assert not ClientEntity.objects.get(connection=live, db_id=new_id).in_scope
    live.refresh_from_db()
    assert live.selected_dimensions == dimension_keys(live.verification, "Avdeling", "Prosjekt")
    assert full_sync_marks(live) == before
    assert Issue.objects.get(kind=Issue.Kind.NEW_CLIENT_ENTITY).status == Issue.Status.OPEN
    [message] = mail.outbox
    assert message.to == ["pm@semine.example"]
    assert NEW_NAME in message.body and f"/admin/integrations/connection/{live.pk}/" in message.body
    assert AuditEntry.objects.filter(action="scope_change_requested", actor=customer_user).exists()

    page = customer_client.get(scope_url(live)).content.decode()
    assert "Waiting for your project manager since" in page
    pending = page.split('class="panel scope-pending"')[1].split("</section>")[0]
    assert NEW_NAME in pending and "Kostnadssted" in pending
    home = customer_client.get("/").content.decode()
    assert "Your scope change is waiting for your project manager" in home


def test_asking_again_replaces_the_waiting_change(live, customer_client, customer_user):
    ids = sorted(
        ClientEntity.objects.filter(connection=live, is_owner=False).values_list("db_id", flat=True)
    )
    first = scope_change_request(
        connection=live,
        by=customer_user,
        entities={db_id: {"in_scope": db_id != ids[0]} for db_id in _listed(live)},
        dimensions=dimension_keys(live.verification, "Avdeling", "Prosjekt"),
        transaction_source="",
    )
    response = customer_client.post(scope_url(live), scope_post(live, exclude=[ids[1]]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == ScopeChange.Status.WITHDRAWN
    [pending] = ScopeChange.objects.filter(status=ScopeChange.Status.PENDING)
    assert pending.entities[str(ids[1])]["in_scope"] is False
    assert pending.entities[str(ids[0])]["in_scope"] is True


def test_applying_changes_the_scope_and_the_next_run_is_full(
    live, customer_client, customer_user, pm_user, sandbox, django_capture_on_commit_callbacks
):
    new_id = add_client_entity(sandbox)
    reverify(live, django_capture_on_commit_callbacks)
    customer_client.post(scope_url(live), scope_post(live, include=[new_id]))
    change = ScopeChange.objects.get(connection=live)
    mail.outbox.clear()

    client = pm_client(pm_user)
    page = client.get(f"/admin/integrations/connection/{live.pk}/change/").content.decode()
    assert "Scope change asked for by the customer" in page and NEW_NAME in page
    assert decide_url(live, change) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(decide_url(live, change), {"apply": "1", f"s{change.pk}-answer": ""})
    assert response.status_code == 302

    change.refresh_from_db()
    assert change.status == ScopeChange.Status.APPLIED and change.decided_by == pm_user
    assert ClientEntity.objects.get(connection=live, db_id=new_id).in_scope
    marks = full_sync_marks(live)
    assert {dataset for dataset, owed in marks.items() if owed} == set(ENTITY_SCOPED)
    issue = Issue.objects.get(kind=Issue.Kind.NEW_CLIENT_ENTITY)
    assert issue.status == Issue.Status.RESOLVED
    [message] = mail.outbox
    assert message.to == [customer_user.email] and "applied" in message.subject
    assert AuditEntry.objects.filter(action="scope_change_applied", actor=pm_user).exists()

    # The dispatcher's next suppliers run is a full one (and the new entity's records come in).
    Schedule.objects.filter(connection=live).update(next_run_at=timezone.now() - LONG_AGO)
    runs = {run.dataset: run for run in dispatch.claim_due(timezone.now())}
    assert runs["suppliers"].full and runs["accounts"].full and runs["dimensions"].full
    assert "invoices" not in runs  # an empty outbox is not due
    assert "new client entit" not in customer_client.get("/").content.decode()


def test_declining_leaves_everything_as_it_was(
    live, customer_client, customer_user, pm_user, django_capture_on_commit_callbacks
):
    owner_less = ClientEntity.objects.filter(connection=live, is_owner=False).first()
    entities_before = list(
        ClientEntity.objects.filter(connection=live).values_list("db_id", "in_scope")
    )
    marks_before = full_sync_marks(live)
    customer_client.post(
        scope_url(live),
        scope_post(live, exclude=[owner_less.db_id], transaction_source_code="LEV"),
    )
    change = ScopeChange.objects.get(connection=live)
    mail.outbox.clear()

    client = pm_client(pm_user)
    refused = client.post(decide_url(live, change), {"decline": "1", f"s{change.pk}-answer": ""})
    assert refused.status_code == 302
    change.refresh_from_db()
    assert change.is_pending  # declining needs a word to the customer

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            decide_url(live, change),
            {"decline": "1", f"s{change.pk}-answer": "Keep it until the year end."},
        )
    change.refresh_from_db()
    assert change.status == ScopeChange.Status.DECLINED
    assert change.answer == "Keep it until the year end."
    assert (
        list(ClientEntity.objects.filter(connection=live).values_list("db_id", "in_scope"))
        == entities_before
    )
    live.refresh_from_db()
    assert live.transaction_source_code != "LEV"
    assert full_sync_marks(live) == marks_before
    [message] = mail.outbox
    assert message.to == [customer_user.email]
    assert "declined" in message.subject and "Keep it until the year end." in message.body


def test_a_customer_set_to_apply_at_once_changes_at_once(
    live, customer, customer_client, django_capture_on_commit_callbacks
):
    customer.scope_changes_apply_at_once = True
    customer.save(update_fields=["scope_changes_apply_at_once"])
    assert "Apply this scope now" in customer_client.get(scope_url(live)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(
            scope_url(live), scope_post(live, dimensions=("Avdeling", "Prosjekt", "Kostnadssted"))
        )
    assert response.status_code == 302
    change = ScopeChange.objects.get(connection=live)
    assert change.status == ScopeChange.Status.APPLIED
    live.refresh_from_db()
    assert live.selected_dimensions == dimension_keys(
        live.verification, "Avdeling", "Prosjekt", "Kostnadssted"
    )
    # Only the dimensions changed: only their next run is full.
    assert {dataset for dataset, owed in full_sync_marks(live).items() if owed} == {"dimensions"}
    [message] = mail.outbox
    assert message.to == ["pm@semine.example"]
    assert "changed the scope" in message.subject and "Kostnadssted" in message.body
    home = customer_client.get("/")
    assert "The new scope applies now" in home.content.decode()


# --- Who may, and what is refused ----------------------------------------------------------------


def test_another_customers_user_can_neither_see_nor_decide(
    live, customer_client, customer_user, sandbox, pm_user
):
    customer_client.post(scope_url(live), scope_post(live, transaction_source_code="LEV"))
    change = ScopeChange.objects.get(connection=live)
    other_customer = make_customer("Annen Kunde AS")
    make_connection(other_customer)
    stranger = make_customer_user(other_customer, "ola@annen.example")
    client = Client()
    client.force_login(stranger)

    assert client.get(scope_url(live)).status_code == 404
    assert client.post(scope_url(live), scope_post(live)).status_code == 404
    assert "Waiting for your project manager" not in client.get("/").content.decode()
    assert client.post(decide_url(live, change), {"apply": "1"}).status_code in (302, 403)
    with pytest.raises(PermissionDenied):
        scope_change_request(
            connection=live, by=stranger, entities={}, dimensions=[], transaction_source="X"
        )
    with pytest.raises(PermissionDenied):
        scope_change_decide(change=change, apply=True, answer="", by=stranger)
    with pytest.raises(PermissionDenied):  # nor the customer's own user
        scope_change_decide(change=change, apply=True, answer="", by=customer_user)
    change.refresh_from_db()
    live.refresh_from_db()
    assert change.is_pending and live.transaction_source_code != "LEV"


def test_support_sees_the_change_but_may_not_decide_it(live, customer_client, support_user):
    customer_client.post(scope_url(live), scope_post(live, transaction_source_code="LEV"))
    change = ScopeChange.objects.get(connection=live)
    client = Client()
    client.force_login(support_user)
    page = client.get(f"/admin/integrations/connection/{live.pk}/change/").content.decode()
    assert "Scope change asked for by the customer" in page
    assert decide_url(live, change) not in page
    assert client.post(decide_url(live, change), {"apply": "1"}).status_code == 403
    change.refresh_from_db()
    assert change.is_pending


def test_a_bad_post_gets_a_400_with_the_form_kept(live, customer_client):
    data = scope_post(live, exclude=_listed(live), dimensions=("Prosjekt",))
    response = customer_client.post(scope_url(live), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose at least one entity to synchronise." in body
    [prosjekt] = dimension_keys(live.verification, "Prosjekt")
    assert f'value="{prosjekt}"' in body
    kept = body.split(f'value="{prosjekt}"')[1].split(">")[0]
    assert "checked" in kept
    assert not ScopeChange.objects.exists()


def test_a_change_that_changes_nothing_is_refused(live, customer_client, customer_user):
    response = customer_client.post(scope_url(live), scope_post(live))
    assert response.status_code == 400
    assert "nothing would change" in response.content.decode()
    assert not ScopeChange.objects.exists()
    assert not Run.objects.filter(connection=live).exists()


def _listed(connection) -> list[int]:
    return [entity["dbId"] for entity in connection.verification["entities"]]


@pytest.mark.parametrize(
    "extra",
    [
        {"transaction_source_code": "\x00"},
        {"dimensions": ["99999999999999999999999"]},
        {f"entity_{2**70}_in_scope": "on", "entity_x_in_scope": "on"},
    ],
)
def test_hostile_input_on_a_live_scope_is_a_400_or_ignored(live, customer_client, extra):
    response = customer_client.post(scope_url(live), {**scope_post(live), **extra})
    assert response.status_code == 400
    assert not ScopeChange.objects.exists()
