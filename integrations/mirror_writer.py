"""Bulk writes of one page of Xledger records into a mirror table.

Why raw SQL: Django's bulk_create/bulk_update split a batch by the database's parameter limit
(SQLite: 32,766), so a page of 10,000 suppliers would cost several statements and a page of
100 one: the statement count would grow with the page. Here each page travels as ONE parameter,
unpacked by the database itself (rows: SQLite `json_each`, PostgreSQL `jsonb_to_recordset`;
dbId lists: a JSON array on SQLite, a bigint[] with `unnest` on PostgreSQL), so a page costs
the same statements whatever its size:

  1. SELECT db_id, content_hash, is_deleted of the page's dbIds (which rows exist, and as what);
  2. one INSERT ... ON CONFLICT DO UPDATE of the new and changed rows only (skipped when none);

On a full sync the writer also notes every dbId Xledger sent (a set of integers, a few MB for
100,000 records); at the end ONE SELECT of the live rows' dbIds gives, by set difference, the rows
Xledger no longer has. Nothing public promises the order of a list's nodes [ours], so deletions
never depend on it.

Unchanged rows (same content_hash) are counted, never rewritten. Deletions are applied at the
end of a full sync by `mark_deleted`, after the mass-deletion guard has had its say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import connection as db
from django.utils import timezone

BASE_FIELDS = ("db_id", "content_hash")


@dataclass
class PageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class DeletionTracker:
    """Live mirror rows a full sync did not see: every dbId the run saw, then a set difference."""

    seen: set[int] = field(default_factory=set)
    missing: list[int] = field(default_factory=list)
    tracking: bool = False
    finished: bool = False


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _dumps(value) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


class MirrorWriter:
    """Writes pages of mapped rows (dicts of model field → value) for one connection.

    `scope` narrows the rows this writer owns for deletion detection, as {field: value}
    (e.g. the object values of one object kind).
    """

    def __init__(self, model, *, connection_id: int, fields, scope: dict | None = None):
        self.model = model
        self.connection_id = connection_id
        self.fields = [model._meta.get_field(name) for name in (*BASE_FIELDS, *fields)]
        self.scope = scope or {}
        self.deletions = DeletionTracker()
        q = db.ops.quote_name
        self.table = q(model._meta.db_table)
        self.col = {f.name: q(f.column) for f in model._meta.concrete_fields}
        self.vendor = db.vendor

    # --- SQL fragments that differ per database -----------------------------------------------

    def _rows_source(self, names) -> str:
        if self.vendor == "postgresql":
            types = ", ".join(
                f"{db.ops.quote_name(n)} {self.model._meta.get_field(n).db_type(db)}" for n in names
            )
            cols = ", ".join(f"x.{db.ops.quote_name(n)}" for n in names)
            return f"SELECT {cols} FROM jsonb_to_recordset(%s::jsonb) AS x({types})"
        cols = ", ".join(f"json_extract(value, '$.{n}')" for n in names)
        return f"SELECT {cols} FROM json_each(%s) WHERE true"

    def _scope_sql(self) -> tuple[str, list]:
        sql, params = "", []
        for name, value in self.scope.items():
            sql += f" AND {self.col[name]} = %s"
            params.append(value)
        return sql, params

    # --- Writing --------------------------------------------------------------------------------

    def existing(self, db_ids: list[int]) -> dict[int, tuple[str, bool]]:
        """{db_id: (content_hash, is_deleted)} of the rows that exist for these dbIds."""
        if not db_ids:
            return {}
        c = self.col
        columns = f"{c['db_id']}, {c['content_hash']}, {c['is_deleted']}"
        if self.vendor == "postgresql":
            # LATERAL: one unique-index lookup per dbId, whatever the planner believes about a
            # table it has no statistics for yet (mid-way through a first sync it would scan
            # the connection's rows and test each against the whole list: quadratic).
            sql = (
                f"SELECT x.* FROM unnest(%s::bigint[]) AS page(id) CROSS JOIN LATERAL "
                f"(SELECT {columns} FROM {self.table} WHERE {c['connection']} = %s "
                f"AND {c['db_id']} = page.id) AS x"
            )
            params = [list(db_ids), self.connection_id]
        else:
            sql = (
                f"SELECT {columns} FROM {self.table} WHERE {c['connection']} = %s "
                f"AND {c['db_id']} IN (SELECT value FROM json_each(%s))"
            )
            params = [self.connection_id, _dumps(db_ids)]
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return {row[0]: (row[1], bool(row[2])) for row in cursor.fetchall()}

    def write(self, rows: list[dict]) -> PageResult:
        """Write one page. `rows` hold `db_id`, `content_hash` and the writer's fields."""
        result = PageResult()
        db_ids = [row["db_id"] for row in rows]
        existing = self.existing(db_ids)
        changed = []
        for row in rows:
            before = existing.get(row["db_id"])
            if before is None:
                result.created += 1
                changed.append(row)
            elif before[0] != row["content_hash"] or before[1]:
                result.updated += 1  # changed, or back from the dead
                changed.append(row)
            else:
                result.unchanged += 1
        if changed:
            self._upsert(changed)
        return result

    @staticmethod
    def _prepare(field, value):
        """A value for the page's JSON parameter. A JSON field's value travels as nested JSON
        (the database unpacks it as jsonb or JSON text), every other one as the database wants."""
        if field.get_internal_type() == "JSONField":
            return value
        return field.get_db_prep_save(value, db)

    def _upsert(self, rows: list[dict]) -> None:
        now = timezone.now()
        names = [f.name for f in self.fields]
        payload = []
        for row in rows:
            payload.append({f.name: self._prepare(f, row.get(f.name)) for f in self.fields})
        c = self.col
        columns = [c[n] for n in names]
        fixed = [
            c["connection"],
            c["is_deleted"],
            c["deleted_at"],
            c["created_at"],
            c["updated_at"],
        ]
        source = self._rows_source(names)
        select = source.replace("SELECT ", "SELECT %s, %s, NULL, %s, %s, ", 1)
        updates = ", ".join(
            f"{col} = excluded.{col}"
            for name, col in zip(names, columns, strict=True)
            if name != "db_id"
        )
        sql = (
            f"INSERT INTO {self.table} ({', '.join(fixed + columns)}) {select} "
            f"ON CONFLICT ({c['connection']}, {c['db_id']}) DO UPDATE SET {updates}, "
            f"{c['is_deleted']} = excluded.{c['is_deleted']}, {c['deleted_at']} = NULL, "
            f"{c['updated_at']} = excluded.{c['updated_at']}"
        )
        stamp = db.ops.adapt_datetimefield_value(now)
        with db.cursor() as cursor:
            cursor.execute(sql, [self.connection_id, False, stamp, stamp, _dumps(payload)])

    def track(self, present: list[int]) -> None:
        """Note the dbIds of one page of a full sync that still count as existing (a record
        rejected by the mapping still exists; one out of scope does not)."""
        self.deletions.tracking = True
        self.deletions.seen.update(present)

    def finish_tracking(self) -> None:
        """After the last page: the live rows whose dbId no page brought are missing."""
        tracker = self.deletions
        if tracker.finished:
            return
        seen = tracker.seen
        tracker.missing.extend(i for i in self._live_ids() if i not in seen)
        tracker.seen = set()
        tracker.finished = True

    def _live_ids(self) -> list[int]:
        """dbIds of the writer's live rows: one SELECT."""
        c = self.col
        scope_sql, scope_params = self._scope_sql()
        sql = (
            f"SELECT {c['db_id']} FROM {self.table} WHERE {c['connection']} = %s "
            f"AND {c['is_deleted']} = %s{scope_sql}"
        )
        with db.cursor() as cursor:
            cursor.execute(sql, [self.connection_id, False, *scope_params])
            return [row[0] for row in cursor.fetchall()]

    def live_count(self) -> int:
        return self.model.objects.filter(
            connection_id=self.connection_id, is_deleted=False, **self.scope
        ).count()

    def mark_deleted(self, db_ids: list[int]) -> int:
        """Tombstone these rows (never drop them): one UPDATE."""
        if not db_ids:
            return 0
        c = self.col
        stamp = db.ops.adapt_datetimefield_value(timezone.now())
        if self.vendor == "postgresql":
            sql = (
                f"UPDATE {self.table} SET {c['is_deleted']} = %s, {c['deleted_at']} = %s, "
                f"{c['updated_at']} = %s FROM unnest(%s::bigint[]) AS gone(id) "
                f"WHERE {c['connection']} = %s AND {c['is_deleted']} = %s "
                f"AND {c['db_id']} = gone.id"
            )
            params = [True, stamp, stamp, list(db_ids), self.connection_id, False]
        else:
            sql = (
                f"UPDATE {self.table} SET {c['is_deleted']} = %s, {c['deleted_at']} = %s, "
                f"{c['updated_at']} = %s WHERE {c['connection']} = %s AND {c['is_deleted']} = %s "
                f"AND {c['db_id']} IN (SELECT value FROM json_each(%s))"
            )
            params = [True, stamp, stamp, self.connection_id, False, _dumps(db_ids)]
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
