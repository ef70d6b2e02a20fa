"""Fixtures for the customer onboarding tests: a customer with a PM, a logged-in customer user,
and the Xledger sandbox wired into the portal's live token check."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from portal.models import Membership
from tests.factories import make_customer


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def customer(pm_user):
    return make_customer("Fjordbåt Shipping AS", country="NO", project_manager=pm_user)


def make_customer_user(customer, email="kari@fjordbat.example"):
    user = User.objects.create_user(email, email, "correct-horse-battery-9")
    Membership.objects.create(user=user, customer=customer)
    return user


@pytest.fixture
def customer_user(customer):
    return make_customer_user(customer)


@pytest.fixture
def customer_client(customer_user):
    client = Client()
    client.force_login(customer_user)
    return client


@pytest.fixture
def sandbox(settings, monkeypatch):
    """An in-process Xledger sandbox answering the portal's token checks."""
    from integrations.xledger.sandbox import Sandbox

    sb = Sandbox(suppliers=20, burst_limit=False)
    settings.XLEDGER_API_URL = sb.url
    settings.XLEDGER_DEMO_API_URL = sb.url
    monkeypatch.setattr("integrations.clients.transport_factory", lambda connection: sb.transport())
    return sb


def client_information(**overrides):
    """POST data for a complete, valid client information form."""
    data = {
        "legal_name": "Fjordbåt Shipping AS",
        "country": "NO",
        "organisation_number": "974760673",
        "street_address": "Strandgata 1",
        "postal_code": "5013",
        "city": "Bergen",
        "expected_invoice_volume": "400",
        "supplier_posting_account": "2400",
        "customer_posting_account": "1500",
        "desired_go_live": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "notes": "",
        "fixed_assets_dimension_code": "35",
        "fixed_assets_dimension_name": "",
        "contact_project-name": "Kari Nordmann",
        "contact_project-email": "kari@fjordbat.example",
        "contact_project-phone": "+47 22 33 44 55",
        "contact_finance-name": "Ola Nordmann",
        "contact_finance-email": "ola@fjordbat.example",
        "contact_finance-phone": "",
        "contact_it_partner-name": "",
        "contact_it_partner-email": "",
        "contact_it_partner-phone": "",
        "contact_erp_partner-name": "",
        "contact_erp_partner-email": "",
        "contact_erp_partner-phone": "",
        "save": "1",
    }
    data.update(overrides)
    return data


def token_form(sb=None, token_name="full", **overrides):
    data = {
        "environment": "production",
        "owner_entity_id": str(sb.owner_db_id if sb else 10001),
        "token": sb.demo_tokens[token_name] if sb else "",
    }
    data.update(overrides)
    return data


def complete_setup(client, sb):
    """Drive a customer through all three tasks (not the confirmation)."""
    response = client.post("/client-information/", client_information())
    assert response.status_code == 302, response.content.decode()[:3000]
    response = client.post("/xledger/token/", token_form(sb))
    assert response.status_code == 302, response.content.decode()[:3000]
    entities = [e["dbId"] for e in _verification(client)["entities"]]
    data = {f"entity_{db_id}_in_scope": "on" for db_id in entities}
    data["dimensions"] = dimension_keys(_verification(client), "Avdeling", "Prosjekt")
    response = client.post("/xledger/scope/", data)
    assert response.status_code == 302, response.content.decode()[:3000]


def dimension_keys(verification, *names) -> list[str]:
    """The keys (dbIds as text) of the object kinds with these names, as the check listed them."""
    by_name = {k["name"]: k["code"] for k in verification.get("object_kinds", [])}
    return [by_name[name] for name in names]


def _verification(client):
    from integrations.models import Connection

    user_id = int(client.session["_auth_user_id"])
    return Connection.objects.get(customer__memberships__user_id=user_id).verification


@pytest.fixture(scope="session")
def compiled_catalog():
    """`make` compiles the nb catalogue; compile here too when it is missing or stale."""
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command
    from django.utils.translation import trans_real

    po = Path(settings.BASE_DIR) / "locale" / "nb" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["nb"], ignore_patterns=[".venv"], verbosity=0)
        trans_real._translations = {}  # forget catalogues loaded before the compile


@pytest.fixture
def live(customer_client, customer, sandbox, pm_user, monkeypatch):
    """A customer live on the sandbox (set up through the pages, approved by the project
    manager); the go-live syncs are queued, not run, and marked abandoned. Outbox cleared."""
    from django.core import mail

    from integrations.models import Connection, Run
    from portal.golive import customer_approve_golive

    monkeypatch.setattr("integrations.dispatch._async_task", lambda run_id, name: None)
    complete_setup(customer_client, sandbox)
    customer_client.post("/confirm/")
    customer_approve_golive(customer=customer, by=pm_user)
    Run.objects.filter(status__in=Run.ACTIVE_STATUSES).update(status=Run.Status.ABANDONED)
    connection = Connection.objects.get(customer=customer)
    assert connection.is_live and connection.status == Connection.Status.OK
    mail.outbox.clear()
    return connection
