"""Text from Xledger that no database stores (a NUL, an unpaired surrogate escape) costs one
odd character, never a page, a run or a verification: the client makes it U+FFFD where it
enters. On PostgreSQL a single NUL in a supplier's name used to fail the whole page."""

import httpx
import pytest

from integrations.models import Run, Supplier
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import QueryError
from integrations.xledger.storable import REPLACEMENT, may_hold_unstorable, storable

from .conftest import sync_now

TOKEN = "abcdefghijklmnopqrstuvwxyz0123456789"


def test_a_nul_and_an_unpaired_surrogate_from_xledger_are_stored_as_replacement_characters(
    connection, sandbox
):
    nul = sandbox.add_record("suppliers", code="NUL1", description="Rør\x00legger AS")
    lone = sandbox.add_record("suppliers", code="SUR1", description="Broken \ud800 AS")
    emoji = sandbox.add_record("suppliers", code="EMO1", description="Kaffe \U0001f600 AS")

    run = sync_now(connection, "suppliers", full=True)

    assert run.status == Run.Status.SUCCEEDED, (run.error_message, run.rejections)
    assert run.rejected == 0
    stored = dict(
        Supplier.objects.filter(connection=connection, db_id__in=[nul, lone, emoji]).values_list(
            "db_id", "description"
        )
    )
    assert stored == {
        nul: f"Rør{REPLACEMENT}legger AS",
        lone: f"Broken {REPLACEMENT} AS",
        emoji: "Kaffe \U0001f600 AS",  # a real character outside the BMP is kept as it is
    }


def test_an_error_message_with_a_nul_is_stored_with_the_run(connection, sandbox, monkeypatch):
    """A failed run keeps Xledger's message: its NUL must not make the run's own save fail."""
    from integrations import clients

    def answer(request):
        return httpx.Response(
            200, content=b'{"errors":[{"message":"bad\\u0000field \\udc00"}],"data":null}'
        )

    monkeypatch.setattr(clients, "transport_factory", lambda c: httpx.MockTransport(answer))

    run = sync_now(connection, "currencies", full=True)

    assert run.status in (Run.Status.FAILED, Run.Status.DEFERRED)  # finished, not stuck
    assert f"bad{REPLACEMENT}field {REPLACEMENT}" in run.error_message


def test_the_client_hands_back_storable_data_and_errors():
    body = (
        b'{"data":{"x":{"edges":[{"node":{"name":"a\\u0000b","k\\ud800":"\\ud83d\\ude00"}}]}},'
        b'"errors":null}'
    )
    client = XledgerClient(
        TOKEN, url="https://xledger.test/graphql",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)),
    )  # fmt: skip
    with client:
        data = client.execute("query { x { edges { node { name } } } }")
    node = data["x"]["edges"][0]["node"]
    assert node == {"name": f"a{REPLACEMENT}b", f"k{REPLACEMENT}": "\U0001f600"}


def test_a_body_that_is_not_json_stays_a_query_error_with_a_storable_excerpt():
    client = XledgerClient(
        TOKEN, url="https://xledger.test/graphql",
        transport=httpx.MockTransport(lambda r: httpx.Response(400, content=b"oops\x00 \\u0000")),
    )  # fmt: skip
    with client, pytest.raises(QueryError) as caught:
        client.execute("query { x }")
    assert "\x00" not in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a":"plain"}', False),
        (b'{"a":"\\u00e6"}', False),
        (b'{"a":"\\u0000"}', True),
        (b'{"a":"\\uD800"}', True),
        (b'{"a":"\\udfff"}', True),
        (b'{"a":"x\x00"}', True),
    ],
)
def test_only_bodies_that_can_hold_one_are_walked(raw, expected):
    assert may_hold_unstorable(raw) is expected


def test_storable_leaves_everything_else_alone():
    value = {"n": 1, "f": 1.5, "t": True, "z": None, "l": ["æ", {"k": "\t\n"}]}
    assert storable(value) == value
