"""Break glass: only an active superuser, at the server, may set a token, typed at a hidden prompt
(`manage.py set_token`), checked like the customer's own, and audited with the reason."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from integrations.models import Connection
from portal.models import AuditEntry
from tests.portal.conftest import complete_setup

pytestmark = pytest.mark.xledger

REASON = "Customer's Xledger admin on leave; PM asked by phone (ticket 4711)."


@pytest.fixture
def typed(monkeypatch):
    """What the superuser types at the hidden prompt (and the prompts shown)."""
    prompts = []
    typing = {"token": ""}

    def fake_getpass(prompt="Password: ", stream=None):
        prompts.append(prompt)
        return typing["token"]

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    typing["prompts"] = prompts
    return typing


def set_token(connection, *, by="root", reason=REASON, **kwargs):
    out, err = StringIO(), StringIO()
    try:
        call_command(
            "set_token", str(connection.pk), by=by, reason=reason, stdout=out, stderr=err, **kwargs
        )
    finally:
        set_token.out, set_token.err = out.getvalue(), err.getvalue()
    return set_token.out


def test_it_refuses_anybody_but_an_active_superuser(live, typed, superuser, pm_user, sandbox):
    typed["token"] = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    User.objects.create_superuser("gone", "gone@semine.example", "x", is_active=False)
    before = live.token_fingerprint
    for who in ("pm", "gone", "nobody"):
        with pytest.raises(CommandError, match="not an active superuser"):
            set_token(live, by=who)
    assert typed["prompts"] == []  # refused before asking for the token
    live.refresh_from_db()
    assert live.token_fingerprint == before
    assert not AuditEntry.objects.filter(action__in=["break_glass_token", "token_replace"]).exists()


def test_it_never_takes_the_token_as_an_argument(live, typed, superuser, sandbox):
    token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    with pytest.raises(CommandError):
        call_command("set_token", str(live.pk), token, by="root", reason=REASON)
    with pytest.raises(TypeError):
        call_command("set_token", str(live.pk), by="root", reason=REASON, token=token)
    assert typed["prompts"] == []


def test_it_needs_a_reason(live, typed, superuser, sandbox):
    typed["token"] = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    with pytest.raises(CommandError, match="reason"):
        set_token(live, reason="   ")
    assert typed["prompts"] == []


def test_it_replaces_a_live_connections_token_read_from_the_hidden_prompt(
    live, typed, superuser, sandbox, capsys
):
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    typed["token"] = f"  {new_token}\n"

    out = set_token(live)

    assert len(typed["prompts"]) == 1 and "not shown" in typed["prompts"][0]
    assert "Replaced" in out
    live.refresh_from_db()
    assert live.reveal_token() == new_token and live.is_live
    assert live.token_set_by == superuser
    captured = capsys.readouterr()
    for text in (set_token.out, set_token.err, captured.out, captured.err):
        assert new_token not in text
    entry = AuditEntry.objects.get(action="break_glass_token")
    assert entry.actor == superuser and entry.customer == live.customer
    assert REASON in entry.comment and entry.after["outcome"] == "replaced"
    assert entry.after["token_fingerprint"] == live.token_fingerprint
    assert AuditEntry.objects.get(action="token_replace").actor == superuser
    assert new_token not in str(list(AuditEntry.objects.values()))


def test_a_token_that_fails_the_check_replaces_nothing(live, typed, superuser, sandbox, capsys):
    before = (live.token_fingerprint, live.reveal_token())
    typed["token"] = sandbox.demo_tokens["no_suppliers"]

    with pytest.raises(CommandError, match="failed"):
        set_token(live)

    assert "Not replaced" in set_token.out and "working token is kept" in set_token.out
    assert "✗" in set_token.out  # the failed check, with its fix
    live.refresh_from_db()
    assert (live.token_fingerprint, live.reveal_token()) == before
    entry = AuditEntry.objects.get(action="break_glass_token")
    assert entry.after["outcome"] == "failed" and REASON in entry.comment
    captured = capsys.readouterr()
    for text in (set_token.out, set_token.err, captured.out, captured.err):
        assert sandbox.demo_tokens["no_suppliers"] not in text


def test_a_malformed_token_changes_nothing(live, typed, superuser):
    before = live.token_fingerprint
    typed["token"] = "not a token at all"
    with pytest.raises(CommandError, match="does not look like"):
        set_token(live)
    live.refresh_from_db()
    assert live.token_fingerprint == before
    assert "not a token at all" not in set_token.out + set_token.err


def test_before_go_live_it_stores_then_checks(customer_client, customer, sandbox, typed, superuser):
    complete_setup(customer_client, sandbox)
    connection = Connection.objects.get(customer=customer)
    assert not connection.is_live
    new_token = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    typed["token"] = new_token

    out = set_token(connection)

    assert "Saved" in out
    connection.refresh_from_db()
    assert connection.reveal_token() == new_token
    assert connection.status == Connection.Status.OK and not connection.is_live
    assert AuditEntry.objects.filter(action="token_set").latest("pk").actor == superuser
    assert AuditEntry.objects.get(action="break_glass_token").after["outcome"] == "verified"


def test_a_removed_connection_is_refused(live, typed, superuser, sandbox):
    Connection.objects.filter(pk=live.pk).update(removed_at=live.live_since)
    typed["token"] = sandbox.add_token(entity_db_id=sandbox.owner_db_id)
    with pytest.raises(CommandError, match="removed"):
        set_token(live)
    assert typed["prompts"] == []
