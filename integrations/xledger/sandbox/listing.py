"""Choosing the records of one list field: scope, ownerSet, filter, and the page.

Both the plain executor's resolvers and the fast path call ``list_page``, so the two can
only differ in how they turn the chosen records into JSON.
"""

import base64
import binascii
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from graphql import GraphQLError

from .auth import forbidden_message
from .clock import parse_datetime, parse_wall_time
from .context import RequestContext
from .dialects import Dialect
from .store import shuffled_key

MAX_PAGE_SIZE = 10_000  # [known]
DEFAULT_PAGE_SIZE = 1_000  # when neither first nor last is given [ours]


def page_size_error(argument: str) -> GraphQLError:
    """Asking for more than 10,000 nodes is an error [ours]."""
    return GraphQLError(
        f"Argument '{argument}' must be between 0 and {MAX_PAGE_SIZE}.",
        extensions={"code": "BAD_REQUEST"},
    )


def forbidden_error(field_name: str) -> GraphQLError:
    return GraphQLError(forbidden_message(field_name), extensions={"code": "FORBIDDEN"})


def owner_set_ids(ctx: RequestContext, owner_set: str | None) -> set[int]:
    """The entities whose records a token sees for an ``ownerSet`` [ours, by the names].

    CURRENT/MINE: the token's entity. LOWER: the entities below it. UPPER: those above it.
    ALL or left out: the token's entity and everything below it.
    """
    store = ctx.store
    own = ctx.token.entity_db_id
    if owner_set in ("CURRENT", "MINE"):
        return {own}
    if owner_set == "LOWER":
        return store.children_of(own)
    if owner_set == "UPPER":
        return store.ancestors_of(own)
    return {own} | store.children_of(own)


def db_id_cursor(db_id: int) -> str:
    """The cursor is the record's dbId [known]."""
    return str(db_id)


_OPAQUE_PREFIX = "xl:"


def opaque_cursor(db_id: int) -> str:
    """An opaque cursor (page_order="shuffled"): base64url of the dbId, not the dbId itself."""
    return base64.urlsafe_b64encode(f"{_OPAQUE_PREFIX}{db_id}".encode()).decode("ascii")


def cursor_encoder(dialect: Dialect) -> Callable[[int], str]:
    return opaque_cursor if dialect.page_order == "shuffled" else db_id_cursor


def _decode_cursor(value, dialect: Dialect) -> int:
    if dialect.page_order != "shuffled":
        return int(value)
    text = base64.urlsafe_b64decode(str(value).encode("ascii")).decode("ascii")
    if not text.startswith(_OPAQUE_PREFIX):
        raise ValueError(value)
    return int(text[len(_OPAQUE_PREFIX) :])


@dataclass
class Page:
    records: list
    has_next: bool
    has_previous: bool
    encode: Callable[[int], str] = db_id_cursor

    def cursor(self, record) -> str:
        return self.encode(record.dbId)

    def cursor_at(self, index: int) -> str | None:
        return self.encode(self.records[index].dbId) if self.records else None


def _cursor(value, name: str, dialect: Dialect) -> int | None:
    if value is None:
        return None
    try:
        return _decode_cursor(value, dialect)
    except (TypeError, ValueError, UnicodeError, binascii.Error):
        raise GraphQLError(
            f"Invalid cursor in '{name}'.", extensions={"code": "BAD_REQUEST"}
        ) from None


def _size(value, name: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
        raise page_size_error(name)
    return value


def _since_test(value, dialect: Dialect):
    if not dialect.datetime_offsets:
        # Wall time compared as wall time, like a server storing CET: in the hour repeated
        # when summer time ends, 02:05 (second pass) sorts before 02:40 (first pass).
        try:
            since_wall = parse_wall_time(value)
        except ValueError:
            raise GraphQLError(
                f"Invalid {dialect.datetime_scalar} in 'modifiedAt_gte': expected "
                "yyyy-MM-ddTHH:mm:ss (CET/CEST) without offset.",
                extensions={"code": "BAD_REQUEST"},
            ) from None
        return lambda r: r.modifiedAt >= since_wall
    try:
        since = parse_datetime(value)
    except ValueError:
        raise GraphQLError(
            "Invalid DateTime in 'modifiedAt_gte'.", extensions={"code": "BAD_REQUEST"}
        ) from None
    return lambda r: r.modifiedTs >= since


def _predicate(args: dict, dialect: Dialect):
    """A test on one record for the list's filter, or None when nothing is filtered."""
    filters = args.get("filter") or {}
    tests = []
    if filters.get("modifiedAt_gte") is not None:
        tests.append(_since_test(filters["modifiedAt_gte"], dialect))
    if filters.get("objectKindDbId") is not None:
        kind_id = filters["objectKindDbId"]
        tests.append(lambda r: r.objectKindDbId == kind_id)
    if filters.get("extIdentifier_in") is not None:
        wanted = set(filters["extIdentifier_in"])
        tests.append(lambda r: r.extIdentifier in wanted)
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda r: all(test(r) for test in tests)


def list_page(ctx: RequestContext, field_name: str, args: dict) -> Page:
    """The page of records that ``field_name(**args)`` answers for this token."""
    if field_name not in ctx.token.scopes:
        raise forbidden_error(field_name)
    store = ctx.store
    if field_name == "supplier_deltas":
        store.prune_deltas()
        table = store.deltas
    else:
        table = store.tables[field_name]
    by = "dbId" if field_name == "entities" else "ownerDbId"
    dialect = ctx.dialect

    first = _size(args.get("first"), "first")
    last = _size(args.get("last"), "last")
    after = _cursor(args.get("after"), "after", dialect)
    before = _cursor(args.get("before"), "before", dialect)
    if first is None and last is not None and before is None:
        if dialect.last_semantics == "forward":  # last: N read as a forward page size [seen]
            first, last = last, None
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE

    owners = owner_set_ids(ctx, args.get("ownerSet"))
    all_entities = store.entities.by_id.keys()
    if by == "ownerDbId" and owners >= all_entities:
        # sees every entity (only possible with a single owner entity): no per-record check
        owners = None
    test = _predicate(args, dialect)
    # Deltas are a change log: always in sequence order, whatever the dialect.
    shuffled = dialect.page_order == "shuffled" and field_name != "supplier_deltas"

    with store.lock:
        if shuffled:
            keys, records = table.shuffled(store.salt)
            salt = store.salt
            start = bisect_right(keys, shuffled_key(after, salt)) if after is not None else 0
            end = bisect_left(keys, shuffled_key(before, salt)) if before is not None else len(keys)
        else:
            records = table.records
            start = table.start_after(after) if after is not None else 0
            end = table.end_before(before) if before is not None else len(records)
        if first is not None:
            chosen, has_next = _forward(records, start, end, first, by, owners, test)
            has_previous = False
            if last is not None and len(chosen) > last:
                chosen, has_previous = chosen[len(chosen) - last :], True
        else:
            chosen, has_previous = _backward(records, start, end, last, by, owners, test)
            has_next = False
    return Page(chosen, has_next, has_previous, cursor_encoder(dialect))


def _forward(records, start, end, first, by, owners, test):
    if owners is None and test is None:
        stop = min(end, start + first)
        return records[start:stop], stop < end
    chosen = []
    for index in range(start, end):
        record = records[index]
        if owners is not None and getattr(record, by) not in owners:
            continue
        if test is not None and not test(record):
            continue
        if len(chosen) == first:
            return chosen, True
        chosen.append(record)
    return chosen, False


def _backward(records, start, end, last, by, owners, test):
    chosen = []
    for index in range(end - 1, start - 1, -1):
        record = records[index]
        if owners is not None and getattr(record, by) not in owners:
            continue
        if test is not None and not test(record):
            continue
        if len(chosen) == last:
            chosen.reverse()
            return chosen, True
        chosen.append(record)
    chosen.reverse()
    return chosen, False
