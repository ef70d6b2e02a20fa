"""Paging through list queries the way Xledger's own sample does: every value a literal,
`after: <the last edge's cursor>` until `hasNextPage` is false, never `endCursor`, never an
offset; pages halved when Xledger says the query timed out."""

import re
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.xledger import queries, timestamps
from integrations.xledger.client import MIN_PAGE_SIZE, Page, XledgerClient, page_of
from integrations.xledger.errors import QueryError, SchemaMismatch, TransientError

from .documents import LIST_ARGUMENTS, RootField, sent, top_level_fields, variable_names

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
TIMED_OUT = {"errors": [{"message": "Your query timed out."}]}


def cursor_of(db_id: int) -> str:
    """Opaque cursors, nothing like the dbIds, so a client cannot get by on guessing them."""
    return f"c{db_id * 7919:x}=="


class PagedServer:
    """A fake list endpoint over `total` records that reads the document's literals (as a
    GraphQL server does) and answers only what was asked: no `endCursor` unless selected."""

    def __init__(self, total, *, extra_page_info=None, too_heavy=None):
        self.total = total
        self.cursors = {cursor_of(i): i for i in range(1, total + 1)}
        self.extra_page_info = extra_page_info or {}
        self.too_heavy = too_heavy  # (field) -> True when this request "times out"
        self.bodies: list[dict] = []
        self.fields: list[RootField] = []

    def __call__(self, request):
        body, (field,) = sent(request)
        self.bodies.append(body)
        self.fields.append(field)
        if self.too_heavy and self.too_heavy(field):
            return httpx.Response(200, json=TIMED_OUT)
        first = field.arguments["first"]
        start = self.cursors[field.arguments["after"]] if "after" in field.arguments else 0
        ids = range(start + 1, min(start + first, self.total) + 1)
        page_info = {"hasNextPage": start + first < self.total}
        page_info = {k: v for k, v in page_info.items() if k in field.selected("pageInfo")}
        page_info.update(self.extra_page_info)  # a server sending more than it was asked
        connection = {
            "edges": [{"cursor": cursor_of(i), "node": {"dbId": i}} for i in ids],
            "pageInfo": page_info,
        }
        return httpx.Response(200, json={"data": {field.key: connection}})

    @property
    def arguments(self) -> list[dict]:
        return [f.arguments for f in self.fields]


def make_client(handler, **kwargs):
    kwargs.setdefault("sleep", lambda seconds: None)
    return XledgerClient(
        TOKEN, url="https://xledger.test/graphql", transport=httpx.MockTransport(handler), **kwargs
    )


def read_all(query, server, **kwargs):
    with make_client(server) as client:
        pages = list(client.paginate(query, **kwargs))
    return client, pages


def test_it_pages_through_every_record():
    server = PagedServer(25)
    client, pages = read_all(queries.SUPPLIERS, server, first=10)
    assert [len(p.nodes) for p in pages] == [10, 10, 5]
    assert [n["dbId"] for p in pages for n in p.nodes] == list(range(1, 26))
    assert [p.has_next_page for p in pages] == [True, True, False]
    assert isinstance(pages[0], Page)
    assert client.request_count == 3


def test_it_asks_each_page_after_the_last_edges_cursor():
    server = PagedServer(25)
    _, pages = read_all(queries.SUPPLIERS, server, first=10)
    assert [p.end_cursor for p in pages] == [cursor_of(10), cursor_of(20), cursor_of(25)]
    assert [a.get("after") for a in server.arguments] == [None, cursor_of(10), cursor_of(20)]
    assert [a["first"] for a in server.arguments] == [10, 10, 10]


def test_it_never_asks_for_end_cursor_and_ignores_one_it_did_not_ask_for():
    server = PagedServer(25, extra_page_info={"endCursor": "not-a-cursor-of-ours"})
    _, pages = read_all(queries.SUPPLIERS, server, first=10)
    assert sum(len(p.nodes) for p in pages) == 25  # the bogus endCursor was never followed
    for field in server.fields:
        assert field.selected("pageInfo") == {"hasNextPage"}
        assert field.selected("edges") == {"cursor", "node"}
    assert all("endCursor" not in body["query"] for body in server.bodies)


@pytest.mark.parametrize(
    "query",
    [
        queries.SUPPLIERS.where(modifiedAt_gte="2025-01-01T00:00:00"),
        queries.SUPPLIER_DELTAS,
        queries.ENTITIES.owned_by("LOWER"),
        queries.gl_import_items_by_ext_identifier(["semine-1", "semine-2"]),
    ],
    ids=["suppliers", "supplier_deltas", "entities", "glImportItems"],
)
def test_it_writes_every_value_as_a_literal(query):
    server = PagedServer(25)
    read_all(query, server, first=10)
    for body in server.bodies:
        assert body["variables"] == {}
        assert variable_names(body["query"]) == []
        assert "$" not in body["query"]


def test_it_never_sends_an_offset():
    server = PagedServer(25)
    read_all(queries.SUPPLIERS.where(modifiedAt_gte="2025-01-01T00:00:00"), server, first=10)
    for arguments in server.arguments:
        assert set(arguments) <= LIST_ARGUMENTS
        assert not {"offset", "skip", "last", "before", "page"} & set(arguments)


def test_it_asks_for_full_pages_by_default():
    server = PagedServer(3)
    read_all(queries.SUPPLIERS, server)
    assert server.arguments[0]["first"] == queries.MAX_PAGE_SIZE == 10_000


def test_it_writes_owner_set_all_as_an_enum_literal_unless_told_otherwise():
    server = PagedServer(3)
    read_all(queries.SUPPLIERS, server)
    read_all(queries.SUPPLIERS.owned_by("CURRENT"), server)
    read_all(queries.SUPPLIERS.owned_by(None), server)
    assert [f.enums.get("ownerSet") for f in server.fields] == ["ALL", "CURRENT", None]
    assert "ownerSet" not in server.arguments[2]
    assert "ownerSet: ALL" in server.bodies[0]["query"]  # bare, not the string "ALL"


@pytest.mark.parametrize(
    "query",
    [queries.SUPPLIER_DELTAS, queries.ENTITIES, queries.GL_IMPORT_ITEMS],
    ids=["supplier_deltas", "entities", "glImportItems"],
)
def test_it_leaves_owner_set_out_of_queries_that_take_none(query):
    server = PagedServer(3)
    read_all(query, server)
    assert "ownerSet" not in server.arguments[0]


def test_it_sends_the_filter_with_every_page_in_cet_wall_time():
    server = PagedServer(25)
    since = timestamps.modified_since(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    read_all(queries.SUPPLIERS.where(modifiedAt_gte=since), server, first=10)
    assert since == "2026-01-15T12:45:00"  # 12:00 UTC is 13:00 CET, less the 15 minutes
    assert [a["filter"] for a in server.arguments] == [{"modifiedAt_gte": since}] * 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", since)  # no offset, no Z


def test_it_keeps_a_filter_value_that_looks_like_graphql_as_data():
    refs = ['semine-1") { edges { node { secret } } } #', 'x\\"y', "line\nbreak"]
    server = PagedServer(3)
    read_all(queries.gl_import_items_by_ext_identifier(refs), server)
    (field,) = server.fields
    assert field.arguments["filter"] == {"extIdentifier_in": refs}
    assert field.selected("edges", "node") == top_level_fields(queries.GL_IMPORT_ITEM_FIELDS)


@pytest.mark.parametrize("first", [0, -1, 10_001, 50_000, "100", 10.0])
def test_it_refuses_page_sizes_outside_one_to_ten_thousand(first):
    server = PagedServer(3)
    with make_client(server) as client, pytest.raises(ValueError):
        next(client.paginate(queries.SUPPLIERS, first=first))
    assert server.bodies == []


def test_page_of_reads_a_dotted_path_and_keeps_the_other_aliases():
    data = {
        "holder": {
            "suppliers": {
                "edges": [
                    {"cursor": "a", "node": {"dbId": 1}},
                    {"cursor": "b", "node": {"dbId": 2}},
                ],
                "pageInfo": {"hasNextPage": True},
            }
        },
        "other": 1,
    }
    page = page_of(data, "holder.suppliers")
    assert page.nodes == [{"dbId": 1}, {"dbId": 2}]
    assert page.end_cursor == "b"
    assert page.has_next_page
    assert page.data["other"] == 1


def test_page_of_an_empty_or_null_connection():
    empty = page_of({"suppliers": None}, "suppliers")
    assert (empty.nodes, empty.end_cursor, empty.has_next_page) == ([], None, False)
    with pytest.raises(QueryError):
        page_of({"currencies": None}, "suppliers")


def test_it_yields_page_by_page():
    server = PagedServer(30)
    with make_client(server) as client:
        pages = client.paginate(queries.SUPPLIERS, first=10)
        next(pages)
        assert len(server.bodies) == 1
        next(pages)
        assert len(server.bodies) == 2


def test_it_stops_when_a_server_repeats_its_cursor():
    def handler(request):
        return httpx.Response(
            200,
            json={
                "data": {
                    "suppliers": {
                        "edges": [{"cursor": "1", "node": {"dbId": 1}}],
                        "pageInfo": {"hasNextPage": True},
                    }
                }
            },
        )

    with make_client(handler) as client, pytest.raises(QueryError):
        list(client.paginate(queries.SUPPLIERS, first=1))
    assert client.request_count == 2


def test_it_stops_when_a_server_promises_more_but_sends_no_edge():
    def handler(request):
        return httpx.Response(
            200, json={"data": {"suppliers": {"edges": [], "pageInfo": {"hasNextPage": True}}}}
        )

    with make_client(handler) as client, pytest.raises(QueryError, match="no new cursor"):
        list(client.paginate(queries.SUPPLIERS, first=10))
    assert client.request_count == 1


def test_it_asks_for_smaller_pages_when_the_query_times_out_and_keeps_that_size():
    server = PagedServer(1000, too_heavy=lambda f: f.arguments["first"] > 250)
    client, pages = read_all(queries.SUPPLIERS, server, first=1000)
    assert sum(len(p.nodes) for p in pages) == 1000
    assert [a["first"] for a in server.arguments] == [1000, 500, 250, 250, 250, 250]
    assert client.request_count == 6


def test_it_asks_the_same_page_again_when_it_shrinks_mid_way():
    # The second page times out at 400: it is asked again at 200, after the same cursor.
    server = PagedServer(
        1000, too_heavy=lambda f: "after" in f.arguments and f.arguments["first"] > 200
    )
    _, pages = read_all(queries.SUPPLIERS, server, first=400)
    assert [n["dbId"] for p in pages for n in p.nodes] == list(range(1, 1001))
    sizes_and_cursors = [(a["first"], a.get("after")) for a in server.arguments]
    assert sizes_and_cursors[:4] == [
        (400, None),
        (400, cursor_of(400)),
        (200, cursor_of(400)),
        (200, cursor_of(600)),
    ]


def test_it_gives_up_shrinking_at_one_hundred():
    def handler(request):
        return httpx.Response(200, json=TIMED_OUT)

    with make_client(handler) as client, pytest.raises(TransientError) as info:
        list(client.paginate(queries.SUPPLIERS, first=400))
    assert info.value.query_timed_out
    assert client.request_count == 3  # 400, 200, 100


# --- read_shrinking ---------------------------------------------------------------------------


def sizing_server(too_heavy_above):
    """Answers `{ x(first: N) }` unless N is above the limit; records the sizes asked."""
    sizes = []

    def handler(request):
        _, (field,) = sent(request)
        sizes.append(field.arguments["first"])
        if field.arguments["first"] > too_heavy_above:
            return httpx.Response(200, json=TIMED_OUT)
        return httpx.Response(200, json={"data": {"x": field.arguments["first"]}})

    return handler, sizes


def render(size):
    return f"query q {{ x(first: {size}) }}"


def test_read_shrinking_halves_the_page_down_to_the_floor_then_gives_up():
    handler, sizes = sizing_server(too_heavy_above=0)
    with make_client(handler, max_attempts=5) as client, pytest.raises(TransientError) as info:
        client.read_shrinking(render, first=1000)
    assert MIN_PAGE_SIZE == 100
    assert sizes == [1000, 500, 250, 125, 100]
    assert info.value.query_timed_out
    assert client.request_count == 5


def test_read_shrinking_stops_at_a_given_floor():
    handler, sizes = sizing_server(too_heavy_above=0)
    with make_client(handler) as client, pytest.raises(TransientError):
        client.read_shrinking(render, first=10, floor=3)
    assert sizes == [10, 5, 3]


def test_read_shrinking_returns_the_data_and_the_size_that_worked():
    handler, sizes = sizing_server(too_heavy_above=300)
    with make_client(handler) as client:
        assert client.read_shrinking(render, first=1000) == ({"x": 250}, 250)
    assert sizes == [1000, 500, 250]


def test_read_shrinking_sends_a_small_enough_page_once():
    handler, sizes = sizing_server(too_heavy_above=10_000)
    with make_client(handler) as client:
        assert client.read_shrinking(render, first=50) == ({"x": 50}, 50)
    assert sizes == [50]


def test_read_shrinking_retries_other_transient_errors_at_the_same_size():
    answers = [httpx.Response(503), httpx.Response(200, json={"data": {"x": 1}})]
    sizes, sleeps = [], []

    def handler(request):
        sizes.append(sent(request)[1][0].arguments["first"])
        return answers.pop(0)

    with make_client(handler, max_attempts=3, sleep=sleeps.append) as client:
        assert client.read_shrinking(render, first=1000) == ({"x": 1}, 1000)
    assert sizes == [1000, 1000]
    assert len(sleeps) == 1


def test_read_shrinking_never_shrinks_or_retries_a_schema_mismatch():
    sizes = []

    def handler(request):
        sizes.append(sent(request)[1][0].arguments["first"])
        return httpx.Response(
            200, json={"errors": [{"message": 'Cannot query field "x" on type "Query".'}]}
        )

    with make_client(handler, max_attempts=4) as client, pytest.raises(SchemaMismatch):
        client.read_shrinking(render, first=1000)
    assert sizes == [1000]


@settings(max_examples=150, deadline=None)
@given(
    first=st.integers(1, queries.MAX_PAGE_SIZE),
    floor=st.integers(1, 500),
    limit=st.integers(0, queries.MAX_PAGE_SIZE),
)
def test_read_shrinking_halves_until_a_page_fits_or_the_floor_is_reached(first, floor, limit):
    handler, sizes = sizing_server(too_heavy_above=limit)
    with make_client(handler) as client:
        try:
            data, size = client.read_shrinking(render, first=first, floor=floor)
        except TransientError as exc:
            assert exc.query_timed_out
            assert sizes[-1] > limit
            assert sizes[-1] == (first if first <= floor else floor)
        else:
            assert size == sizes[-1] <= limit
            assert data == {"x": size}
    assert sizes[0] == first
    for before, after in zip(sizes, sizes[1:], strict=False):
        assert after == max(floor, before // 2)  # halved, never below the floor
        assert after < before  # never the same size twice
    assert all(size > limit for size in sizes[:-1])  # only the last one may have fitted


def test_paginate_never_resends_a_timed_out_page_at_the_same_size():
    # `execute` resends a timed-out query as it is (up to max_attempts); a page is only halved.
    sizes = []

    def handler(request):
        sizes.append(sent(request)[1][0].arguments["first"])
        return httpx.Response(200, json=TIMED_OUT)

    with make_client(handler, max_attempts=4) as client, pytest.raises(TransientError):
        next(client.paginate(queries.CURRENCIES, first=200))
    assert sizes == [200, 100]
