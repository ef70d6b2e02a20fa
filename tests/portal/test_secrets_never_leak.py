"""The API token appears in no page, e-mail, log line or audit entry produced by the journey."""

import logging
import re

import httpx
from django.core import mail
from django.db import connection as db
from django.test import Client

from integrations.models import Connection
from portal import services
from portal.models import AuditEntry
from tests.portal.conftest import client_information, token_form


def test_the_token_never_leaks(customer, pm_user, sandbox, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    bodies = []

    def keep(response):
        bodies.append(response.content.decode(errors="replace"))
        return response

    services.invitation_create(customer=customer, email="kari@fjordbat.example", by=pm_user)
    raw = re.search(r"/invitation/(\S+)/", mail.outbox[-1].body).group(1)
    client = Client()
    keep(client.get(f"/invitation/{raw}/"))
    password = "Fjord-Sailing-2026!"
    keep(client.post(f"/invitation/{raw}/", {"password1": password, "password2": password}))
    keep(client.post("/client-information/", client_information()))
    tokens = [sandbox.demo_tokens["no_suppliers"], sandbox.demo_tokens["full"]]
    keep(client.post("/xledger/token/", token_form(sandbox, "no_suppliers")))
    keep(client.get("/xledger/token/"))
    keep(client.post("/xledger/token/", token_form(sandbox, "full", owner_entity_id="777")))
    keep(client.post("/xledger/token/", token_form(sandbox, "full")))

    def broken(request):
        raise httpx.ConnectError(f"refused {request.headers.get('Authorization')}")

    monkeypatch.setattr(
        "integrations.clients.transport_factory", lambda c: httpx.MockTransport(broken)
    )
    keep(client.post("/xledger/token/", token_form(sandbox, token="")))
    monkeypatch.setattr("integrations.clients.transport_factory", lambda c: sandbox.transport())
    keep(client.post("/xledger/token/", token_form(sandbox, token="")))
    conn = Connection.objects.get(customer=customer)
    data = {f"entity_{e['dbId']}_in_scope": "on" for e in conn.verification["entities"]}
    keep(client.post("/xledger/scope/", data))
    for url in ("/", "/xledger/scope/", "/xledger/instructions/", "/client-information/"):
        keep(client.get(url))
    keep(client.post("/confirm/", follow=True))
    keep(client.post("/client-information/", client_information(city="Oslo"), follow=True))

    staff = Client()
    staff.force_login(pm_user)
    for url in (
        f"/admin/portal/customer/{customer.pk}/change/",
        "/admin/portal/customer/",
        f"/admin/integrations/connection/{conn.pk}/change/",
        "/admin/portal/auditentry/",
        "/admin/portal/invitation/",
    ):
        response = staff.get(url)
        assert response.status_code == 200, url
        keep(response)
    export = staff.get(f"/staff/customers/{customer.pk}/d01-01.xlsx")
    assert export.status_code == 200

    assert Connection.objects.get(customer=customer).reveal_token() == tokens[1]
    assert len(mail.outbox) >= 3
    log_text = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    audit = str(list(AuditEntry.objects.values()))
    with db.cursor() as cursor:
        cursor.execute("SELECT api_token FROM integrations_connection")
        stored = str(cursor.fetchall())
    for token in tokens:
        for body in bodies:
            assert token not in body
        for message in mail.outbox:
            assert token not in message.subject and token not in message.body
        assert token not in log_text
        assert token not in audit
        assert token not in stored  # encrypted at rest
        assert token.encode() not in export.content
