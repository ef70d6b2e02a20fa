"""The project manager answers a customer's interval request on the connection's intervals page,
with the monthly request estimate now and if accepted."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.core import mail

from integrations.models import IntervalRequest, Schedule
from portal.interval_requests import interval_request_create
from portal.models import AuditEntry
from tests.admin_builders import make_customer_user, make_submitted_customer


def _setup(pm=None, *, dataset="suppliers", interval=timedelta(minutes=5)):
    customer = make_submitted_customer(pm=pm)
    user = make_customer_user(customer)
    request = interval_request_create(
        connection=customer.connections.get(),
        dataset=dataset,
        interval=interval,
        reason="Suppliers are added all day",
        by=user,
    )
    mail.outbox.clear()
    return customer.connections.get(), request


def _url(connection):
    return f"/admin/integrations/connection/{connection.pk}/intervals/"


def _decide(client, connection, request, button, answer=""):
    return client.post(
        f"{_url(connection)}requests/{request.pk}/", {button: "1", f"r{request.pk}-answer": answer}
    )


def test_the_pm_sees_the_request_with_both_estimates(db, client, pm_user):
    connection, request = _setup(pm_user)
    client.force_login(pm_user)
    html = client.get(_url(connection)).content.decode()
    assert "Requests from the customer" in html and "Suppliers are added all day" in html
    assert "every 5 min instead of every 30 min" in html
    budget = client.get(_url(connection)).context["requests"][0]["budget"]
    current = client.get(_url(connection)).context["current"]
    assert budget["estimate"] > current["estimate"]
    assert f"Now: <strong>{current['estimate']:,}</strong>" in html
    assert f"If accepted: <strong>{budget['estimate']:,}</strong>" in html
    assert 'name="accept"' in html and 'name="decline"' in html
    change = client.get(f"/admin/integrations/connection/{connection.pk}/change/")
    assert "1 request waiting" in change.content.decode()


def test_accepting_sets_the_override_and_tells_everyone(
    db, client, pm_user, django_capture_on_commit_callbacks
):
    connection, request = _setup(pm_user)
    client.force_login(pm_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(client, connection, request, "accept", "Fine for a month.")
    assert response.status_code == 302
    schedule = Schedule.objects.get(connection=connection, dataset="suppliers")
    assert schedule.interval == timedelta(minutes=5)
    assert schedule.override_by == pm_user
    assert schedule.override_reason == "Customer request: Suppliers are added all day"
    request.refresh_from_db()
    assert request.status == "accepted" and request.decided_by == pm_user
    assert request.answer == "Fine for a month." and request.decided_at is not None
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"interval_requested", "interval_changed", "interval_request_accepted"} <= actions
    to_pm = [m for m in mail.outbox if m.to == ["pm@semine.example"]]
    assert len(to_pm) == 1 and "interval changed" in to_pm[0].subject  # the usual override e-mail
    to_customer = [m for m in mail.outbox if "kunde@fjordbat.example" in m.to]
    assert len(to_customer) == 1
    assert "accepted" in to_customer[0].subject and "Fine for a month." in to_customer[0].body
    contacts = {a for m in mail.outbox for a in m.to}
    assert {"ase@fjordbat.example", "per@fjordbat.example"} <= contacts


def test_declining_keeps_the_interval_and_tells_the_customer(
    db, client, pm_user, django_capture_on_commit_callbacks
):
    connection, request = _setup(pm_user)
    client.force_login(pm_user)
    response = _decide(client, connection, request, "decline")  # an answer is required
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        _decide(client, connection, request, "decline", "Too many requests for your price.")
    request.refresh_from_db()
    assert request.status == "declined"
    assert (
        Schedule.objects.get(connection=connection, dataset="suppliers").interval_override is None
    )
    assert AuditEntry.objects.filter(action="interval_request_declined").count() == 1
    assert not AuditEntry.objects.filter(action="interval_changed").exists()
    assert mail.outbox and all("declined" in m.subject for m in mail.outbox)
    assert "Too many requests for your price." in mail.outbox[0].body
    assert not [m for m in mail.outbox if "pm@semine.example" in m.to]


def test_an_answered_request_cannot_be_answered_again(db, client, pm_user):
    connection, request = _setup(pm_user)
    client.force_login(pm_user)
    _decide(client, connection, request, "decline", "No.")
    _decide(client, connection, request, "accept")
    request.refresh_from_db()
    assert request.status == "declined"
    assert (
        Schedule.objects.get(connection=connection, dataset="suppliers").interval_override is None
    )


def test_a_user_without_the_permission_cannot_decide(db, client):
    connection, request = _setup()
    viewer = User.objects.create_user("viewer", "v@semine.example", "pw-123456789", is_staff=True)
    client.force_login(viewer)
    assert _decide(client, connection, request, "accept").status_code == 403
    request.refresh_from_db()
    assert request.status == IntervalRequest.Status.PENDING
    assert not AuditEntry.objects.exclude(action="interval_requested").exists()


def test_a_request_of_another_connection_is_not_found_here(db, client, pm_user):
    connection, _request = _setup(pm_user)
    other = make_submitted_customer("Other AS")
    client.force_login(pm_user)
    assert _decide(client, other.connections.get(), _request, "accept").status_code == 404
