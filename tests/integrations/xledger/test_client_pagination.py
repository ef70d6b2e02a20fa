"""Paging through list queries: full pages, cursors followed, owner set explicit."""

import json

import httpx
import pytest

from integrations.xledger import queries
from integrations.xledger.client import Page, XledgerClient
from integrations.xledger.errors import QueryError, TransientError

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"


def paged_server(total, root="suppliers", *, wrap=None):
    """A fake list endpoint over `total` records, honouring first/after. Records what it got."""
    seen = []

    def handler(request):
        body = json.loads(request.content)
        variables = body["variables"]
        seen.append(variables)
        first = variables["first"]
        start = int(variables.get("after") or 0)
        ids = range(start + 1, min(start + first, total) + 1)
        connection = {
            "edges": [{"cursor": str(i), "node": {"dbId": i}} for i in ids],
            "pageInfo": {
                "hasNextPage": start + first < total,
                "endCursor": str(ids[-1]) if ids else None,
            },
        }
        data = {root: connection}
        if wrap:
            data = {wrap: data, "other": 1}
        return httpx.Response(200, json={"data": data})

    return handler, seen


def make_client(handler, **kwargs):
    return XledgerClient(
        TOKEN,
        url="https://xledger.test/graphql",
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        **kwargs,
    )


def test_it_pages_through_every_record():
    handler, seen = paged_server(25)
    with make_client(handler) as client:
        pages = list(client.paginate(queries.SUPPLIERS, first=10))
    assert [len(p.nodes) for p in pages] == [10, 10, 5]
    assert [n["dbId"] for p in pages for n in p.nodes] == list(range(1, 26))
    assert [p.has_next_page for p in pages] == [True, True, False]
    assert isinstance(pages[0], Page)
    assert client.request_count == 3


def test_it_sends_first_every_time_and_follows_the_end_cursor():
    handler, seen = paged_server(25)
    with make_client(handler) as client:
        list(client.paginate(queries.SUPPLIERS, first=10))
    assert [v["first"] for v in seen] == [10, 10, 10]
    assert [v.get("after") for v in seen] == [None, "10", "20"]


def test_it_asks_for_full_pages_by_default():
    handler, seen = paged_server(3)
    with make_client(handler) as client:
        list(client.paginate(queries.SUPPLIERS))
    assert seen[0]["first"] == 10_000


def test_it_sends_owner_set_all_unless_told_otherwise():
    handler, seen = paged_server(3)
    with make_client(handler) as client:
        list(client.paginate(queries.SUPPLIERS))
        list(client.paginate(queries.SUPPLIERS, variables={"ownerSet": "CURRENT"}))
    assert [v["ownerSet"] for v in seen] == ["ALL", "CURRENT"]


def test_it_sends_filters_with_every_page():
    handler, seen = paged_server(15)
    since = "2025-01-01T00:00:00+01:00"
    with make_client(handler) as client:
        list(
            client.paginate(
                queries.SUPPLIERS_MODIFIED_SINCE, variables={"modifiedSince": since}, first=10
            )
        )
    assert [v["modifiedSince"] for v in seen] == [since, since]


def test_it_leaves_owner_set_out_of_queries_that_take_none():
    handler, seen = paged_server(3, root="supplier_deltas")
    with make_client(handler) as client:
        list(client.paginate(queries.SUPPLIER_DELTAS, path="supplier_deltas"))
    assert "ownerSet" not in seen[0]


@pytest.mark.parametrize("first", [0, -1, 10_001, 50_000, "100"])
def test_it_refuses_page_sizes_outside_one_to_ten_thousand(first):
    handler, seen = paged_server(3)
    with make_client(handler) as client, pytest.raises(ValueError):
        next(client.paginate(queries.SUPPLIERS, first=first))
    assert seen == []


def test_it_reads_a_dotted_path():
    handler, _ = paged_server(5, wrap="holder")
    with make_client(handler) as client:
        pages = list(client.paginate(queries.SUPPLIERS, path="holder.suppliers", first=2))
    assert sum(len(p.nodes) for p in pages) == 5
    assert pages[0].data["other"] == 1


def test_it_yields_page_by_page():
    handler, seen = paged_server(30)
    with make_client(handler) as client:
        pages = client.paginate(queries.SUPPLIERS, first=10)
        next(pages)
        assert len(seen) == 1
        next(pages)
        assert len(seen) == 2


def test_it_stops_when_a_server_repeats_its_cursor():
    def handler(request):
        return httpx.Response(
            200,
            json={
                "data": {
                    "suppliers": {
                        "edges": [{"cursor": "1", "node": {"dbId": 1}}],
                        "pageInfo": {"hasNextPage": True, "endCursor": "1"},
                    }
                }
            },
        )

    with make_client(handler) as client, pytest.raises(QueryError):
        list(client.paginate(queries.SUPPLIERS, first=1))
    assert client.request_count == 2


def test_it_asks_for_smaller_pages_when_the_query_times_out():
    handler, seen = paged_server(1000)

    def heavy(request):
        if json.loads(request.content)["variables"]["first"] > 250:
            return httpx.Response(200, json={"errors": [{"message": "Your query timed out."}]})
        return handler(request)

    with make_client(heavy) as client:
        pages = list(client.paginate(queries.SUPPLIERS, first=1000))
    assert sum(len(p.nodes) for p in pages) == 1000
    assert [v["first"] for v in seen] == [250, 250, 250, 250]


def test_it_gives_up_shrinking_at_one_hundred():
    def handler(request):
        return httpx.Response(200, json={"errors": [{"message": "Your query timed out."}]})

    with make_client(handler) as client, pytest.raises(TransientError):
        list(client.paginate(queries.SUPPLIERS, first=400))
    assert client.request_count == 3  # 400, 200, 100
