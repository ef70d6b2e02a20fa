"""The sandbox's data: one table per kind of record, kept in dbId order for paging.

Each table is a list of records sorted by dbId plus a parallel list of the dbIds, so that
``after: <cursor>`` is a bisect and a page of 10,000 is a slice-like walk. New records always
get the next dbId, so adding is an append.
"""

import threading
from bisect import bisect_left, bisect_right
from datetime import timedelta

from .clock import Clock, format_datetime, format_wall_time
from .dialects import OURS, Dialect
from .records import KINDS, TIMESTAMPED_KINDS, SupplierDelta

# How long supplier deltas are kept, in sandbox time [seen: "3 days"].
DELTA_RETENTION = timedelta(days=3)

# First dbId of each kind, so that ids read differently per table in test output [ours].
DB_ID_BASE = {
    "entities": 10001,
    "suppliers": 1_000_001,
    "currencies": 501,
    "objectKinds": 601,
    "objectValues": 20_001,
    "taxTableSetups": 801,
    "accounts": 3_001,
    "assets": 70_001,
    "glImportItems": 5_000_001,
    "glImportItemErrors": 900_001,
}


def shuffled_key(db_id: int, salt: int) -> int:
    """The place of a dbId in a shuffled listing: a seeded 32-bit mix (murmur3's finaliser, a
    bijection on 32 bits, so no two dbIds share a place), stable for a dbId."""
    h = (db_id ^ salt) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


class Table:
    __slots__ = ("records", "ids", "by_id", "next_id", "version", "_shuffled")

    def __init__(self, first_id: int):
        self.version = 0  # bumped on every change, so cached indexes know when to rebuild
        self.records: list = []
        self.ids: list[int] = []
        self.by_id: dict[int, object] = {}
        self.next_id = first_id
        self._shuffled = None

    def shuffled(self, salt: int) -> tuple[list[int], list]:
        """(keys, records) in ``shuffled_key`` order, rebuilt only after the table changed.

        The caller holds the store's lock.
        """
        cached = self._shuffled
        if cached is None or cached[0] != (self.version, len(self.records), salt):
            pairs = sorted((shuffled_key(r.dbId, salt), r) for r in self.records)
            # keys are distinct (the mix is a bijection on 32 bits), so records never compare
            cached = self._shuffled = (
                (self.version, len(self.records), salt),
                [k for k, _ in pairs],
                [r for _, r in pairs],
            )
        return cached[1], cached[2]

    def append(self, record) -> None:
        self.records.append(record)
        self.ids.append(record.dbId)
        self.by_id[record.dbId] = record
        self.next_id = max(self.next_id, record.dbId + 1)
        self.version += 1

    def remove(self, db_id: int):
        record = self.by_id.pop(db_id)
        index = bisect_left(self.ids, db_id)
        del self.ids[index]
        del self.records[index]
        self.version += 1
        return record

    def take_id(self) -> int:
        db_id = self.next_id
        self.next_id += 1
        return db_id

    def start_after(self, db_id: int) -> int:
        return bisect_right(self.ids, db_id)

    def end_before(self, db_id: int) -> int:
        return bisect_left(self.ids, db_id)


class Store:
    """All records of one sandbox, with the entity tree that decides who sees what.

    The tree may hold several owner (domain) entities, each the root of its own domain; a
    token sees its entity and what lies below it, so never another domain.
    """

    def __init__(self, clock: Clock, dialect: Dialect = OURS, salt: int = 0):
        self.clock = clock
        self.dialect = dialect
        self.salt = salt  # seeds the shuffled page order
        # owner (domain) entity -> the transaction source codes its installation has
        self.transaction_sources: dict[int, set[str]] = {}
        self.lock = threading.RLock()
        self.tables: dict[str, Table] = {kind: Table(DB_ID_BASE[kind]) for kind in KINDS}
        self.deltas = Table(1)
        self._refs: dict[int, dict] = {}
        self._code_indexes: dict[str, tuple[int, dict]] = {}
        self._parent_refs: dict[int, dict] = {}

    # --- entities -------------------------------------------------------------------------

    @property
    def entities(self) -> Table:
        return self.tables["entities"]

    def entity_ref(self, db_id: int) -> dict | None:
        ref = self._refs.get(db_id)
        if ref is None:
            entity = self.entities.by_id.get(db_id)
            if entity is None:
                return None
            ref = {"dbId": entity.dbId, "code": entity.code, "description": entity.description}
            self._refs[db_id] = ref
        return ref

    def parent_ref(self, db_id: int) -> dict | None:
        ref = self._parent_refs.get(db_id)
        if ref is None:
            entity = self.entities.by_id.get(db_id)
            if entity is None:
                return None
            ref = {"dbId": entity.dbId, "code": entity.code}
            self._parent_refs[db_id] = ref
        return ref

    def children_of(self, db_id: int) -> set[int]:
        """Every entity below ``db_id``, at any depth."""
        below: set[int] = set()
        frontier = {db_id}
        while frontier:
            frontier = {e.dbId for e in self.entities.records if e.parentDbId in frontier} - below
            below |= frontier
        return below

    def ancestors_of(self, db_id: int) -> set[int]:
        above: set[int] = set()
        entity = self.entities.by_id.get(db_id)
        while entity is not None and entity.parentDbId is not None:
            above.add(entity.parentDbId)
            entity = self.entities.by_id.get(entity.parentDbId)
        return above

    def domain_of(self, db_id: int) -> int | None:
        """The owner (domain) entity an entity belongs to (an owner entity is its own)."""
        entity = self.entities.by_id.get(db_id)
        return None if entity is None else entity.ownerDbId

    def transaction_sources_of(self, db_id: int) -> set[str]:
        """The transaction source codes usable by an entity: its domain's."""
        return self.transaction_sources.get(self.domain_of(db_id), set())

    def visible_from(self, db_id: int) -> set[int]:
        """The owners whose data an entity may use: itself and the entities above it."""
        return {db_id} | self.ancestors_of(db_id)

    # --- records --------------------------------------------------------------------------

    def insert(self, kind: str, **values):
        """Make and store a record of ``kind``; ``dbId`` is assigned when not given."""
        record_class = KINDS[kind][0]
        table = self.tables[kind]
        with self.lock:
            if values.get("dbId") is None:
                values["dbId"] = table.take_id()
            elif values["dbId"] in table.by_id:
                raise ValueError(f"{kind} {values['dbId']} exists already")
            elif table.ids and values["dbId"] < table.ids[-1]:
                raise ValueError(f"{kind} dbIds must grow; next is {table.next_id}")
            if kind in TIMESTAMPED_KINDS and "modifiedTs" not in values:
                self._stamp(values)
            record = record_class(**values)
            table.append(record)
            if kind == "suppliers":
                self._add_delta(record, "ADDED")
            if kind == "entities":
                self._refs.clear()
                self._parent_refs.clear()
        return record

    def update(self, kind: str, db_id: int, **values):
        table = self.tables[kind]
        with self.lock:
            record = table.by_id[db_id]
            for name, value in values.items():
                setattr(record, name, value)
            table.version += 1
            if kind in TIMESTAMPED_KINDS:
                stamp: dict = {}
                self._stamp(stamp)
                record.modifiedTs = stamp["modifiedTs"]
                record.modifiedAt = stamp["modifiedAt"]
            if kind == "suppliers":
                self._add_delta(record, "UPDATED")
        return record

    def delete(self, kind: str, db_id: int):
        with self.lock:
            record = self.tables[kind].remove(db_id)
            if kind == "suppliers":
                self._add_delta(record, "DELETED")
        return record

    def format_ts(self, ts: float) -> str:
        """A date-time as this dialect writes it (with offset, or CET/CEST wall time)."""
        if self.dialect.datetime_offsets:
            return format_datetime(ts)
        return format_wall_time(ts)

    def _stamp(self, values: dict) -> None:
        ts = float(int(self.clock.timestamp()))
        values["modifiedTs"] = ts
        values["modifiedAt"] = self.format_ts(ts)

    # --- supplier deltas -----------------------------------------------------------------

    def _add_delta(self, supplier, mutation_type: str) -> None:
        self.deltas.append(
            SupplierDelta(
                dbId=self.deltas.take_id(),
                supplierDbId=supplier.dbId,
                mutationType=mutation_type,
                ts=self.clock.timestamp(),
                ownerDbId=supplier.ownerDbId,
            )
        )

    def prune_deltas(self) -> None:
        """Forget deltas older than the retention, as Xledger does."""
        oldest = self.clock.timestamp() - DELTA_RETENTION.total_seconds()
        with self.lock:
            records = self.deltas.records
            keep_from = 0
            while keep_from < len(records) and records[keep_from].ts < oldest:
                keep_from += 1
            if keep_from:
                for record in records[:keep_from]:
                    del self.deltas.by_id[record.dbId]
                del records[:keep_from]
                del self.deltas.ids[:keep_from]

    # --- lookups used by the import validation ----------------------------------------------

    def code_index(self, kind: str) -> dict[tuple[int, str], object]:
        """(ownerDbId, code) -> record, rebuilt only after the table has changed."""
        table = self.tables[kind]
        with self.lock:
            cached = self._code_indexes.get(kind)
            if cached is None or cached[0] != table.version:
                index = {(r.ownerDbId, r.code): r for r in table.records}
                cached = self._code_indexes[kind] = (table.version, index)
        return cached[1]

    def find_by_code(self, kind: str, code, owners: set[int]):
        """The record of ``kind`` with ``code`` that one of ``owners`` may use, or None."""
        index = self.code_index(kind)
        for owner in owners:
            record = index.get((owner, code))
            if record is not None:
                return record
        return None
