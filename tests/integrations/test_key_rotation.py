import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from integrations.crypto import TokenDecryptionError
from integrations.models import Connection
from tests.factories import make_connection, make_customer


def test_it_reencrypts_every_token_with_the_newest_key(db, settings, capsys):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    tokens = [f"Token-{i}-abcdefghijklmnopqrstuvwxyz012" for i in range(3)]
    for i, token in enumerate(tokens):
        make_connection(make_customer(f"Kunde {i} AS"), token=token)

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_token_keys")
    assert "Re-encrypted 3 token(s)" in capsys.readouterr().out

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone now
    revealed = sorted(c.reveal_token() for c in Connection.objects.all())
    assert revealed == sorted(tokens)

    call_command("rotate_token_keys")
    assert "Re-encrypted 0 token(s)" in capsys.readouterr().out


def test_an_old_key_only_deployment_fails_loudly(db, settings):
    make_connection()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(TokenDecryptionError):
        Connection.objects.get().reveal_token()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_token_keys")
