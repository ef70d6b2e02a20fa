import pickle

import pytest
from django.core.exceptions import FieldError
from django.db import connection as db

from integrations.crypto import TokenDecryptionError
from integrations.models import Connection
from tests.factories import TOKEN, make_connection


def raw_token_column(pk):
    with db.cursor() as cursor:
        cursor.execute("SELECT api_token FROM integrations_connection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_it_stores_the_token_encrypted(db):
    conn = make_connection()
    raw = raw_token_column(conn.pk)
    assert raw and TOKEN not in raw
    assert Connection.objects.get(pk=conn.pk).reveal_token() == TOKEN


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_token_out_of_the_sqlite_file():
    if db.vendor != "sqlite":
        pytest.skip("reads the SQLite file itself; the column test covers PostgreSQL")
    make_connection()
    path = db.settings_dict["NAME"]
    checked = 0
    for suffix in ("", "-wal"):
        try:
            with open(f"{path}{suffix}", "rb") as fh:
                assert TOKEN.encode() not in fh.read()
                checked += 1
        except FileNotFoundError:
            continue
    assert checked, "no database file found to inspect"


def test_it_hides_the_token_in_repr_and_str(db):
    conn = Connection.objects.get(pk=make_connection().pk)
    assert TOKEN not in repr(conn.api_token)
    assert TOKEN not in str(conn.api_token)
    assert TOKEN not in repr(conn.__dict__)


def test_it_refuses_to_pickle_a_token(db):
    conn = Connection.objects.get(pk=make_connection().pk)
    with pytest.raises(TypeError):
        pickle.dumps(conn.api_token)


def test_it_refuses_lookups_other_than_isnull(db):
    make_connection()
    assert Connection.objects.filter(api_token__isnull=False).count() == 1
    with pytest.raises(FieldError, match="only 'isnull'"):
        Connection.objects.filter(api_token=TOKEN).count()
    with pytest.raises(FieldError):
        Connection.objects.filter(api_token__contains="Zx9").count()


def test_it_fails_loudly_with_a_wrong_key(db, settings):
    conn = make_connection()
    settings.FIELD_ENCRYPTION_KEYS = ["q1Qd3dNRmzVIrGjWsxaJSm3vTo-Ks6bqn3d2bbKsiRU="]
    with pytest.raises(TokenDecryptionError, match="FIELD_ENCRYPTION_KEYS") as info:
        Connection.objects.get(pk=conn.pk).reveal_token()
    assert TOKEN not in str(info.value)


def test_it_records_fingerprint_and_time_but_not_the_token(db):
    conn = make_connection()
    assert conn.token_fingerprint.startswith("sha256:")
    assert TOKEN not in conn.token_fingerprint
    assert conn.token_set_at is not None


def test_it_overwrites_the_old_token_when_replaced(db):
    conn = make_connection()
    old_raw = raw_token_column(conn.pk)
    conn.set_token("  New-token_0123456789abcdefghijklmnop  ")
    conn.save()
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.reveal_token() == "New-token_0123456789abcdefghijklmnop"
    assert raw_token_column(conn.pk) != old_raw


def test_it_leaves_the_token_out_of_serialised_exports(db):
    from django.core import serializers

    make_connection()
    dumped = serializers.serialize("json", Connection.objects.all())
    assert TOKEN not in dumped
