from datetime import timedelta

from django.core import mail

from integrations.models import Schedule
from portal.models import AuditEntry
from tests.admin_builders import make_submitted_customer


def _url(connection):
    return f"/admin/integrations/connection/{connection.pk}/intervals/"


def _post(client, connection, **data):
    return client.post(_url(connection), {"unit": "minutes", **data})


def test_the_page_shows_intervals_and_the_monthly_request_estimate(db, client, support_user):
    customer = make_submitted_customer()
    client.force_login(support_user)
    html = client.get(_url(customer.connections.get())).content.decode()
    assert "Supplier register" in html and "30 min" in html
    assert "Estimated Xledger requests a month" in html
    assert "5,000" in html


def test_support_overrides_an_interval_and_the_pm_is_told(
    db, client, support_user, pm_user, django_capture_on_commit_callbacks
):
    customer = make_submitted_customer(pm=pm_user)
    conn = customer.connections.get()
    client.force_login(support_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client,
            conn,
            dataset="currencies",
            amount="12",
            unit="hours",
            reason="Rates change twice a day for this customer",
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = Schedule.objects.get(connection=conn, dataset="currencies")
    assert schedule.interval_override == timedelta(hours=12)
    assert schedule.override_by == support_user
    assert schedule.override_reason == "Rates change twice a day for this customer"
    entry = AuditEntry.objects.get(action="interval_changed")
    assert entry.actor == support_user
    assert entry.before["interval"] == "1 d" and entry.after["interval"] == "12 h"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pm@semine.example"]
    assert "Rates change twice a day" in mail.outbox[0].body
    assert "1 d" in mail.outbox[0].body and "12 h" in mail.outbox[0].body


def test_it_warns_before_saving_an_override_that_goes_over_the_included_requests(
    db, client, pm_user, django_capture_on_commit_callbacks
):
    customer = make_submitted_customer(pm=pm_user)
    conn = customer.connections.get()
    client.force_login(pm_user)
    data = {"dataset": "suppliers", "amount": "5", "reason": "Wants suppliers fast"}
    response = _post(client, conn, **data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tick the box to save anyway" in html
    assert 'name="confirm_over_budget"' in html
    assert Schedule.objects.get(connection=conn, dataset="suppliers").interval_override is None
    assert not AuditEntry.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, conn, confirm_over_budget="on", **data)
    assert response.status_code == 302
    assert Schedule.objects.get(connection=conn, dataset="suppliers").interval == timedelta(
        minutes=5
    )
    assert AuditEntry.objects.filter(action="interval_changed").count() == 1
    assert len(mail.outbox) == 1


def test_it_refuses_intervals_out_of_range_and_a_missing_reason(db, client, pm_user):
    conn = make_submitted_customer().connections.get()
    client.force_login(pm_user)
    for data in [
        {"dataset": "suppliers", "amount": "2", "reason": "x"},
        {"dataset": "suppliers", "amount": "8", "unit": "days", "reason": "x"},
        {"dataset": "suppliers", "amount": "60", "reason": ""},
    ]:
        assert _post(client, conn, **data).status_code == 200
    assert not Schedule.objects.filter(connection=conn, interval_override__isnull=False).exists()
    assert not AuditEntry.objects.exists()


def test_going_back_to_the_default_is_audited(db, client, pm_user):
    conn = make_submitted_customer().connections.get()
    Schedule.objects.filter(connection=conn, dataset="accounts").update(
        interval_override=timedelta(hours=1), override_reason="trial"
    )
    client.force_login(pm_user)
    response = _post(client, conn, dataset="accounts", use_default="on", reason="Trial over")
    assert response.status_code == 302
    schedule = Schedule.objects.get(connection=conn, dataset="accounts")
    assert schedule.interval_override is None and schedule.override_reason == ""
    entry = AuditEntry.objects.get(action="interval_changed")
    assert entry.before["interval"] == "1 h" and entry.after["interval"] == "1 d"


def test_a_user_without_the_permission_cannot_override(db, client):
    from django.contrib.auth.models import User

    staff = User.objects.create_user("viewer", "v@semine.example", "pw-123456789", is_staff=True)
    conn = make_submitted_customer().connections.get()
    client.force_login(staff)
    assert client.get(_url(conn)).status_code == 403


def test_it_refuses_an_interval_too_large_for_a_duration_with_a_field_error(db, client, pm_user):
    conn = make_submitted_customer().connections.get()
    client.force_login(pm_user)
    for unit in ["days", "hours", "minutes"]:
        response = _post(
            client, conn, dataset="suppliers", amount=str(10**12), unit=unit, reason="x"
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert "at most 7 days" in str(errors["amount"]), errors
    assert not Schedule.objects.filter(connection=conn, interval_override__isnull=False).exists()
    assert not AuditEntry.objects.exists()
