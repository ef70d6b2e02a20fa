"""The API token never leaves the Authorization header: not in logs, exceptions or reprs."""

import logging
import traceback

import httpx
import pytest

from integrations.xledger import queries
from integrations.xledger.client import XledgerClient
from integrations.xledger.errors import XledgerError

TOKEN = "SeCrEtToKeNvAlUe0123456789abcdefghij"
QUERY = "query currencies { currencies(first: 1) { edges { node { dbId } } } }"


def echoing(status, message):
    """A server that (badly) echoes the token back in its error message."""

    def handler(request):
        token = request.headers["Authorization"].split(" ", 1)[1]
        return httpx.Response(status, json={"errors": [{"message": message.format(token=token)}]})

    return handler


FAILURES = {
    "401": echoing(401, "Invalid API token {token}"),
    "bad-format": echoing(200, "Bad format for API Token: 'token {token}'"),
    "revoked-on-200": echoing(200, "Access denied. The API token {token} is not valid."),
    "forbidden": lambda r: httpx.Response(
        200, json={"errors": [{"message": "no", "code": "FORBIDDEN", "path": ["currencies"]}]}
    ),
    "500-echo": echoing(500, "Crashed while handling {token}"),
    "500-text": lambda r: httpx.Response(500, text=f"boom {r.headers['Authorization']}"),
    "validation": echoing(200, "Cannot query field {token}"),
    "unknown-type": echoing(200, "Unknown type '{token}'."),
    "burst": lambda r: httpx.Response(
        200, json={"errors": [{"message": "x", "code": "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"}]}
    ),
    "connect": lambda r: (_ for _ in ()).throw(httpx.ConnectError(f"cannot reach {r.url}")),
    "read-timeout": lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("timed out", request=r)),
}


@pytest.mark.parametrize("name", FAILURES)
def test_it_keeps_the_token_out_of_exceptions(name):
    client = XledgerClient(
        TOKEN,
        url="https://xledger.test/graphql",
        transport=httpx.MockTransport(FAILURES[name]),
        max_attempts=2,
        sleep=lambda s: None,
    )
    with pytest.raises(XledgerError) as info:
        client.execute(QUERY, mutation=name == "read-timeout")
    exc = info.value
    formatted = "".join(traceback.format_exception(exc))
    with_locals = "".join(
        traceback.TracebackException.from_exception(exc, capture_locals=True).format()
    )
    assert TOKEN not in formatted
    assert TOKEN not in with_locals
    assert TOKEN not in str(exc)
    assert TOKEN not in repr(exc.args)
    assert TOKEN not in exc.message


def test_it_keeps_the_token_out_of_the_logs(caplog):
    caplog.set_level(logging.DEBUG)
    handler_calls = []

    def handler(request):
        handler_calls.append(request)
        if len(handler_calls) == 1:
            return httpx.Response(503)
        if len(handler_calls) == 2:
            return httpx.Response(200, json={"errors": [{"message": "Your query timed out."}]})
        return httpx.Response(200, json={"data": {"suppliers": {"edges": [], "pageInfo": {}}}})

    with XledgerClient(
        TOKEN,
        url="https://xledger.test/graphql",
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
    ) as client:
        list(client.paginate(queries.SUPPLIERS))
    assert "asking again with first=5000" in caplog.text  # the page was halved, and logged
    assert caplog.records  # something was logged, at DEBUG and above
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.args)


def test_it_keeps_the_token_out_of_the_repr():
    client = XledgerClient(TOKEN, url="https://xledger.test/graphql")
    assert TOKEN not in repr(client)
    assert TOKEN not in str(client)
    assert TOKEN not in repr(vars(client))
    assert TOKEN not in repr(client._http.headers)
    client.close()


def test_it_sends_the_token_in_the_authorization_header():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"data": {"ok": 1}})

    with XledgerClient(
        TOKEN, url="https://xledger.test/graphql", transport=httpx.MockTransport(handler)
    ) as client:
        client.execute(QUERY)
    assert seen[0].headers["Authorization"] == f"token {TOKEN}"
    assert TOKEN not in seen[0].content.decode()
