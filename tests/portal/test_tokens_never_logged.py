"""An invitation link is a password until it is used: its token is never written to a log, not
even when a request to the link fails (CSRF, 410 Gone) and Django logs the path."""

import logging
import re

import pytest
from django.core import mail
from django.test import Client

from portal import services
from portal.log_redaction import redact


@pytest.fixture
def every_log_record(monkeypatch):
    """Every record any logger hands to its handlers (whatever the handlers and propagation),
    with its text as a formatter would write it, traceback included."""
    records = []
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    handle = logging.Logger.callHandlers

    def capture(logger, record):
        records.append((record, formatter.format(record)))
        return handle(logger, record)

    monkeypatch.setattr(logging.Logger, "callHandlers", capture)
    logging.disable(logging.NOTSET)
    return records


def _invite(customer, pm_user):
    services.invitation_create(customer=customer, email="kari@fjordbat.example", by=pm_user)
    return re.search(r"http\S+/invitation/(\S+)/", mail.outbox[-1].body).group(1)


def test_a_csrf_failure_on_an_invitation_link_logs_no_token(customer, pm_user, every_log_record):
    raw = _invite(customer, pm_user)
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/invitation/{raw}/", {"password1": "x", "password2": "x"})
    assert response.status_code == 403

    texts = [text for _, text in every_log_record]
    assert any("/invitation/" in text and "CSRF" in text for text in texts), texts
    for record, text in every_log_record:
        assert raw not in text
        assert raw not in str(record.msg) and raw not in repr(record.args)


def test_a_used_invitation_link_logs_no_token(customer, pm_user, every_log_record):
    raw = _invite(customer, pm_user)
    invitation = customer.invitations.get()
    services.invitation_revoke(invitation=invitation, by=pm_user)
    assert Client().get(f"/invitation/{raw}/").status_code == 410

    assert any("/invitation/" in text for _, text in every_log_record)
    assert not any(raw in text for _, text in every_log_record)


def test_it_redacts_invitation_and_password_reset_tokens_wherever_they_appear():
    line = (
        'Forbidden (CSRF token missing.): /invitation/AbC-123_x/ and "POST /invitation/AbC-123_x/'
        ' HTTP/1.1" https://connect.semine.no/accounts/reset/MQ/cb7x-9f1e2d/'
    )
    assert redact(line) == (
        "Forbidden (CSRF token missing.): /invitation/[redacted]/ and "
        '"POST /invitation/[redacted]/ HTTP/1.1" https://connect.semine.no/accounts/reset/MQ/'
        "[redacted]/"
    )
    assert redact('"GET /xledger/replace/AbC-123_x/ HTTP/1.1" 410') == (
        '"GET /xledger/replace/[redacted]/ HTTP/1.1" 410'
    )
    assert redact("/accounts/reset/MQ/set-password/") == "/accounts/reset/MQ/set-password/"
    assert redact("nothing to hide") == "nothing to hide"
    admin_page = "GET /admin/portal/invitation/12/change/"  # a pk, not a token
    assert redact(admin_page) == admin_page
