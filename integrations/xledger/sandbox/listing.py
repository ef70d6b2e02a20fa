"""Choosing the records of one list field: scope, ownerSet, filter, and the page.

Both the plain executor's resolvers and the fast path call ``list_page``, so the two can
only differ in how they turn the chosen records into JSON.
"""

from dataclasses import dataclass

from graphql import GraphQLError

from .auth import forbidden_message
from .clock import parse_datetime
from .context import RequestContext

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


@dataclass
class Page:
    records: list
    has_next: bool
    has_previous: bool

    def cursor_at(self, index: int) -> str | None:
        return str(self.records[index].dbId) if self.records else None


def _cursor(value, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise GraphQLError(
            f"Invalid cursor in '{name}'.", extensions={"code": "BAD_REQUEST"}
        ) from None


def _size(value, name: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
        raise page_size_error(name)
    return value


def _predicate(args: dict):
    """A test on one record for the list's filter, or None when nothing is filtered."""
    filters = args.get("filter") or {}
    tests = []
    if filters.get("modifiedAt_gte") is not None:
        try:
            since = parse_datetime(filters["modifiedAt_gte"])
        except ValueError:
            raise GraphQLError(
                "Invalid DateTime in 'modifiedAt_gte'.", extensions={"code": "BAD_REQUEST"}
            ) from None
        tests.append(lambda r: r.modifiedTs >= since)
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

    first = _size(args.get("first"), "first")
    last = _size(args.get("last"), "last")
    after = _cursor(args.get("after"), "after")
    before = _cursor(args.get("before"), "before")
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE

    owners = owner_set_ids(ctx, args.get("ownerSet"))
    all_entities = store.entities.by_id.keys()
    if by == "ownerDbId" and owners >= all_entities:
        owners = None  # sees every entity: skip the per-record check
    test = _predicate(args)

    with store.lock:
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
    return Page(chosen, has_next, has_previous)


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
