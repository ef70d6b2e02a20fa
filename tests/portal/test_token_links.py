"""Staff never handle a token: they e-mail a replace-token link, a single-use, expiring way to the
token page of one live connection that works without logging in (the IT partner may have no
account). The new token is checked with Xledger before it replaces the working one."""

import logging
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection as db
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from integrations.models import Connection, Issue
from portal import token_requests
from portal.invitations import hash_token
from portal.models import AuditEntry, Contact
from portal.token_links import TokenLink
from tests.factories import make_connection, make_customer
from tests.portal.conftest import complete_setup, make_customer_user

pytestmark = pytest.mark.xledger

IT_PARTNER = "drift@it-partner.example"


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send_page(connection) -> str:
    return reverse("admin:integrations_connection_token_link", args=[connection.pk])


def send(client, connection, **fields):
    data = {"recipient": "", "other_email": IT_PARTNER, "language": "en", "message": ""}
    data.update(fields)
    return client.post(send_page(connection), data)


def raw_link(message) -> str:
    return re.search(r"https?://\S+/xledger/replace/([^/\s]+)/", message.body).group(1)


def link_url(raw) -> str:
    return reverse("token_link", args=[raw])


def sent_link(pm_user, connection, **fields) -> str:
    response = send(staff_client(pm_user), connection, **fields)
    assert response.status_code == 302, response.content.decode()[:3000]
    return raw_link(mail.outbox[-1])


# --- Sending -------------------------------------------------------------------------------------


def test_it_sends_a_link_in_the_chosen_language(pm_user, live, customer_user):
    response = send(
        staff_client(pm_user),
        live,
        recipient=customer_user.email,
        other_email="",
        language="nb",
        message="Kari har sluttet; lag et nytt token.",
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    [message] = mail.outbox
    assert message.to == [customer_user.email]
    link = TokenLink.objects.get()
    assert (link.email, link.language, link.created_by) == (customer_user.email, "nb", pm_user)
    raw = raw_link(message)
    assert f"/xledger/replace/{raw}/" in message.body
    assert str(live.owner_entity_id) in message.subject + message.body
    assert "Kari har sluttet; lag et nytt token." in message.body
    # The expiry is written as Norwegian dates are (Django's own nb catalogue and formats).
    with translation.override("nb"):
        when_nb = formats.date_format(timezone.localtime(link.expires_at), "DATETIME_FORMAT")
    with translation.override("en"):
        when_en = formats.date_format(timezone.localtime(link.expires_at), "DATETIME_FORMAT")
    assert when_nb != when_en
    assert when_nb in message.body and when_en not in message.body
    # No API token in the e-mail: neither the working one nor any of the sandbox's.
    assert live.reveal_token() not in message.body
    entry = AuditEntry.objects.get(action="token_link_send")
    assert entry.actor == pm_user and entry.customer == live.customer
    assert raw not in str(entry.before) + str(entry.after) + entry.comment + entry.target


def test_it_offers_the_customers_users_and_contacts_and_sends_to_a_typed_address(
    pm_user, live, customer_user
):
    page = staff_client(pm_user).get(send_page(live)).content.decode()
    assert customer_user.email in page and "ola@fjordbat.example" in page  # a user, a contact

    response = send(staff_client(pm_user), live, language="en")

    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [IT_PARTNER]
    assert str(live.owner_entity_id) in message.subject
    assert "Never send the API token by e-mail" in message.body
    assert f"/xledger/replace/{raw_link(message)}/" in message.body


def test_support_may_send_too(support_user, live):
    assert send(staff_client(support_user), live).status_code == 302
    assert TokenLink.objects.get().created_by == support_user


def test_the_connection_page_offers_it_and_lists_the_links(pm_user, live):
    client = staff_client(pm_user)
    change = reverse("admin:integrations_connection_change", args=[live.pk])
    assert send_page(live) in client.get(change).content.decode()
    sent_link(pm_user, live)

    page = client.get(change).content.decode()

    assert IT_PARTNER in page and "Waiting for the new token" in page
    link = TokenLink.objects.get()
    revoke = reverse("admin:integrations_connection_token_link_revoke", args=[live.pk, link.pk])
    assert revoke in page


def test_it_needs_one_recipient(pm_user, live, customer_user):
    both = send(staff_client(pm_user), live, recipient=customer_user.email)
    neither = send(staff_client(pm_user), live, other_email="")
    assert both.status_code == neither.status_code == 200
    assert not TokenLink.objects.exists() and not mail.outbox


def test_a_connection_not_live_gets_no_link(pm_user, customer_client, customer, sandbox):
    complete_setup(customer_client, sandbox)
    connection = Connection.objects.get(customer=customer)
    assert not connection.is_live
    response = send(staff_client(pm_user), connection)
    assert response.status_code == 200 and "not live" in response.content.decode()
    assert not TokenLink.objects.exists() and not mail.outbox


def test_a_customer_user_cannot_send_or_see_the_links(live, pm_user, sandbox):
    sent_link(pm_user, live)
    other = make_customer("Annen Kunde AS")
    stranger = Client()
    stranger.force_login(make_customer_user(other, "ola@annen.example"))
    own = Client()
    own.force_login(make_customer_user(live.customer, "per@fjordbat.example"))
    link = TokenLink.objects.get()
    revoke = reverse("admin:integrations_connection_token_link_revoke", args=[live.pk, link.pk])
    change = reverse("admin:integrations_connection_change", args=[live.pk])
    for client in (stranger, own):
        for url in (send_page(live), change):
            response = client.get(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert send(client, live).status_code == 302
        assert client.post(revoke).status_code == 302
        assert IT_PARTNER not in client.get("/").content.decode()
    assert TokenLink.objects.count() == 1 and TokenLink.objects.get().is_usable


def test_staff_without_the_permission_cannot_send(db, live):
    viewer = User.objects.create_user("viewer", "viewer@semine.example", "x", is_staff=True)
    with pytest.raises(PermissionDenied):
        token_requests.token_link_send(
            connection=live, email=IT_PARTNER, language="en", message="", by=viewer
        )
    assert send(staff_client(viewer), live).status_code == 403
    assert not TokenLink.objects.exists()


# --- Using the link ------------------------------------------------------------------------------


def test_the_link_opens_the_token_page_without_login_with_the_owner_entity_fixed(
    pm_user, live, sandbox
):
    raw = sent_link(pm_user, live)

    response = Client().get(link_url(raw))

    body = response.content.decode()
    assert response.status_code == 200
    assert f"Replace the API token of owner entity {live.owner_entity_id}" in body
    assert 'name="token"' in body and "Check and replace the token" in body
    assert re.search(r'<input[^>]*name="owner_entity_id"[^>]*disabled', body)
    assert f'action="{link_url(raw)}"' in body
    assert "no-store" in response["Cache-Control"]  # never_cache


def test_a_bad_token_is_refused_and_the_link_still_works(pm_user, live, sandbox):
    raw = sent_link(pm_user, live)
    before = live.token_fingerprint
    client = Client(enforce_csrf_checks=True)
    page = client.get(link_url(raw))

    response = client.post(
        link_url(raw),
        {
            "token": sandbox.demo_tokens["revoked"],
            "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
        },
    )

    assert response.status_code == 200
    assert "The new token was not accepted" in response.content.decode()
    live.refresh_from_db()
    assert live.token_fingerprint == before
    assert TokenLink.objects.get().is_usable
    assert client.get(link_url(raw)).status_code == 200


def test_the_link_is_csrf_protected(pm_user, live, sandbox):
    raw = sent_link(pm_user, live)
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    response = Client(enforce_csrf_checks=True).post(link_url(raw), {"token": new_token})
    assert response.status_code == 403
    live.refresh_from_db()
    assert live.reveal_token() != new_token


def test_a_good_token_replaces_the_working_one_and_uses_the_link_up(
    pm_user, live, sandbox, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    raw = sent_link(pm_user, live)
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    client = Client()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link_url(raw), {"token": new_token, "owner_entity_id": "999"})

    assert response.status_code == 302 and response["Location"] == link_url(raw)
    live.refresh_from_db()
    assert live.reveal_token() == new_token and live.owner_entity_id == sandbox.owner_db_id
    link = TokenLink.objects.get()
    assert link.used_at is not None and link.state() == TokenLink.State.USED
    entry = AuditEntry.objects.get(action="token_replace")
    assert entry.actor is None and IT_PARTNER in entry.comment  # the holder of the link
    [notice] = mail.outbox  # to the project manager
    assert notice.to == [pm_user.email] and IT_PARTNER in notice.body
    # Used: a page that says so, and nothing more to do.
    after = client.get(link_url(raw))
    body = after.content.decode()
    assert after.status_code == 410
    assert "The token has been replaced" in body and "nothing more to do" in body
    assert 'name="token"' not in body
    again = client.post(link_url(raw), {"token": sandbox.demo_tokens["full"]})
    assert again.status_code == 410
    live.refresh_from_db()
    assert live.reveal_token() == new_token
    # The raw link is in no log line; the database holds only its hash.
    log_text = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert raw not in log_text
    assert link.token_hash == hash_token(raw) and raw not in link.token_hash
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_tokenlink")
        stored = str(cursor.fetchall())
        cursor.execute("SELECT * FROM portal_auditentry")
        stored += str(cursor.fetchall())
    assert raw not in stored and hash_token(raw) in stored


def test_a_link_used_while_its_token_was_being_checked_changes_nothing(pm_user, live, sandbox):
    """Two good tokens through one link at once: the one that stores second finds the link used
    (under the connection's lock) and changes nothing."""
    from portal import services

    raw = sent_link(pm_user, live)
    link = TokenLink.find(raw)
    first, second = (sandbox.add_token(entity_db_id=sandbox.owner_db_id) for _ in range(2))
    assert services.connection_replace_token(connection=live, token=first, link=link).outcome == (
        "replaced"
    )
    with pytest.raises(services.OnboardingError):
        services.connection_replace_token(connection=live, token=second, link=link)
    live.refresh_from_db()
    assert live.reveal_token() == first
    assert AuditEntry.objects.filter(action="token_replace").count() == 1


def test_a_replaced_token_ends_the_other_links_of_the_connection(pm_user, live, sandbox):
    used, other = sent_link(pm_user, live), sent_link(pm_user, live, other_email="b@x.example")
    response = Client().post(
        link_url(used), {"token": sandbox.add_token(entity_db_id=sandbox.owner_db_id)}
    )
    assert response.status_code == 302
    assert TokenLink.find(other).state() == TokenLink.State.REVOKED
    assert Client().get(link_url(other)).status_code == 410


def test_the_customers_own_user_is_recorded_as_who_replaced_it(
    pm_user, live, sandbox, customer_client, customer_user
):
    raw = sent_link(pm_user, live)
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    customer_client.post(link_url(raw), {"token": new_token})
    assert AuditEntry.objects.get(action="token_replace").actor == customer_user


def test_a_user_of_another_customer_is_not_recorded_as_the_replacer(pm_user, live, sandbox):
    raw = sent_link(pm_user, live)
    stranger = Client()
    stranger.force_login(make_customer_user(make_customer("Annen Kunde AS"), "ola@annen.example"))
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    stranger.post(link_url(raw), {"token": new_token})
    assert AuditEntry.objects.get(action="token_replace").actor is None


def test_an_expired_link_is_refused(pm_user, live, sandbox):
    raw = sent_link(pm_user, live)
    TokenLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)

    page = Client().get(link_url(raw))
    post = Client().post(link_url(raw), {"token": new_token})

    assert page.status_code == post.status_code == 410
    body = page.content.decode()
    assert "expired" in body and "Ask your SEMINE project manager" in body
    assert 'name="token"' not in body
    live.refresh_from_db()
    assert live.reveal_token() != new_token


def test_a_revoked_link_is_refused(pm_user, live, sandbox):
    raw = sent_link(pm_user, live)
    link = TokenLink.objects.get()
    revoke = reverse("admin:integrations_connection_token_link_revoke", args=[live.pk, link.pk])
    assert staff_client(pm_user).post(revoke).status_code == 302
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)

    page = Client().get(link_url(raw))
    post = Client().post(link_url(raw), {"token": new_token})

    assert page.status_code == post.status_code == 410
    assert "withdrawn" in page.content.decode()
    live.refresh_from_db()
    assert live.reveal_token() != new_token
    link.refresh_from_db()
    assert link.state() == TokenLink.State.REVOKED
    entry = AuditEntry.objects.get(action="token_link_revoke")
    assert entry.actor == pm_user and entry.customer == live.customer


def test_the_link_of_a_removed_connection_is_refused(pm_user, live, sandbox):
    raw = sent_link(pm_user, live)
    Connection.objects.filter(pk=live.pk).update(removed_at=timezone.now(), api_token=None)
    response = Client().get(link_url(raw))
    assert response.status_code == 410 and 'name="token"' not in response.content.decode()


def test_an_unknown_link_is_not_found(db):
    response = Client().get(link_url("no-such-link-" + "x" * 30))
    assert response.status_code == 404
    assert "We do not recognise this link" in response.content.decode()


def test_the_link_is_never_logged(pm_user, live, caplog):
    """Django logs the path of a refused request ("Gone: /xledger/replace/..."): redacted."""
    caplog.set_level(logging.DEBUG)
    raw = sent_link(pm_user, live)
    TokenLink.objects.update(revoked_at=timezone.now())
    Client().get(link_url(raw))
    Client(enforce_csrf_checks=True).post(link_url(raw), {"token": "x"})

    texts = [r.getMessage() + str(r.exc_info or "") for r in caplog.records]
    assert any("/xledger/replace/" in text for text in texts), texts
    assert not any(raw in text for text in texts)


# --- The token-revoked e-mail --------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Issue.Kind.AUTH_FAILED, Issue.Kind.PERMISSION_MISSING])
def test_the_token_issue_email_links_to_the_connections_token_page(customer, pm_user, kind):
    from integrations.issues import issue_notify, issue_open

    Contact.objects.create(customer=customer, role="project", name="Kari", email="kari@f.example")
    connection = make_connection(customer)
    issue = issue_open(connection=connection, kind=kind, title="Token trouble")

    assert issue_notify(issue)

    page = settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "xledger_connection_token", args=[connection.pk]
    )
    assert {to for m in mail.outbox for to in m.to} == {"kari@f.example", pm_user.email}
    for message in mail.outbox:
        assert f"Replace the token here: {page}\n" in message.body
        assert "Details: " not in message.body
        assert connection.reveal_token() not in message.body


def test_another_issue_email_keeps_the_overview_link(customer, pm_user):
    from integrations.issues import issue_notify, issue_open

    connection = make_connection(customer)
    issue = issue_open(
        connection=connection, kind=Issue.Kind.DATASET_FAILING, dataset="suppliers", title="x"
    )
    assert issue_notify(issue)
    [message] = mail.outbox
    assert "/xledger/connections/" not in message.body and "Details: " in message.body
