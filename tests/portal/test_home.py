import re

from django.utils import timezone

from integrations.models import Issue
from portal.models import Customer
from tests.admin_builders import make_issue, make_run
from tests.factories import make_connection


def test_it_lists_the_three_tasks_to_do(customer_client):
    body = customer_client.get("/").content.decode()
    assert body.count('class="task todo"') == 3
    for text in ("client information", "API token for the owner entity", "owner entity ID"):
        assert text in body


def test_it_shows_the_health_once_live(customer_client, customer):
    connection = make_connection(customer, live_since=timezone.now())
    Customer.objects.filter(pk=customer.pk).update(onboarding_status=Customer.Status.LIVE)
    make_run(connection, dataset="suppliers")
    make_issue(connection, dataset="currencies", title="Currencies have failed 3 times")
    make_issue(
        connection,
        kind=Issue.Kind.AUTH_FAILED,
        dataset="",
        title="Old problem",
        status=Issue.Status.RESOLVED,
    )
    body = customer_client.get("/").content.decode()
    assert "Your integration is live" in body
    suppliers = re.search(r"Supplier register</th><td>(.*?)</td>", body).group(1)
    assert suppliers != "Never" and "Never" in body  # only suppliers have synced
    assert "Dataset failing" in body and "(Currencies)" in body
    assert "Synchronising this data has failed several times in a row" in body
    assert "Currencies have failed 3 times" not in body  # the stored title is for staff
    assert "Old problem" not in body
    assert "Your tasks" not in body


def test_staff_are_sent_to_the_admin(pm_user):
    from django.test import Client

    client = Client()
    client.force_login(pm_user)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_strangers_must_log_in(db):
    from django.test import Client

    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_counts_what_is_missing(customer_client):
    from tests.portal.conftest import client_information

    data = client_information(city="", postal_code="", save_draft="1")
    del data["save"]
    customer_client.post("/client-information/", data)
    assert "2 required answers are still missing." in customer_client.get("/").content.decode()


def test_switching_on_fixed_assets_asks_for_a_new_check(customer_client, customer, sandbox):
    from tests.portal.conftest import complete_setup, token_form

    complete_setup(customer_client, sandbox)
    assert customer_client.get("/").content.decode().count('class="task done"') == 3
    Customer.objects.filter(pk=customer.pk).update(fixed_assets_apply=True)
    body = customer_client.get("/").content.decode()
    assert "Fixed assets now apply: check the token again" in body
    assert "Confirm that the setup is done" not in body
    customer_client.post("/xledger/token/", token_form(sandbox, token=""))
    body = customer_client.get("/").content.decode()
    assert body.count('class="task done"') == 3
