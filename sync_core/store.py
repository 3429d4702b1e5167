"""Batch writes for the sync engine: idempotent upserts, quarantined records, incremental watermarks.

Everything takes a SQLAlchemy `Connection` so the caller decides the transaction: the engine commits one
batch's rows, its quarantined records, its progress and (incremental) its watermark together.
`upsert_records` is `INSERT ... ON CONFLICT (organization_id, cliniko_*_id) DO UPDATE` on both dialects;
on PostgreSQL, `copy_upsert_records` does the same through a binary COPY into a staging table and
`copy_insert_records` COPYs straight into the table for a first load. `first_synced_at` is only written
on insert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    SmallInteger,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from sync_core.models import (
    Appointment,
    AppointmentType,
    Business,
    Patient,
    Practitioner,
    SyncRecordError,
    SyncWatermark,
)
from sync_core.types import utcnow

_NEVER_UPDATED = frozenset({"id", "organization_id", "first_synced_at"})


@dataclass(frozen=True)
class Target:
    """Where one Cliniko resource is stored."""

    model: type[SQLModel]
    key: str  # the cliniko_*_id column, unique per organization
    label: str  # for quarantine messages: "Patient ID 12345: ..."

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[attr-defined,no-any-return]


TARGETS: dict[str, Target] = {
    "patients": Target(Patient, "cliniko_patient_id", "Patient"),
    "individual_appointments": Target(Appointment, "cliniko_appointment_id", "Appointment"),
    "appointment_types": Target(AppointmentType, "cliniko_appointment_type_id", "Appointment type"),
    "practitioners": Target(Practitioner, "cliniko_practitioner_id", "Practitioner"),
    "practitioners/inactive": Target(Practitioner, "cliniko_practitioner_id", "Practitioner"),
    "businesses": Target(Business, "cliniko_business_id", "Business"),
}


def _insert(conn: Connection, table: Table) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"No upsert for the {dialect} dialect")


def dedupe_by_key(rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The last row per key wins (one statement cannot update the same row twice on PostgreSQL)."""
    by_key: dict[Any, dict[str, Any]] = {}
    for row in rows:
        by_key[row[key]] = row
    return list(by_key.values())


def upsert_records(
    conn: Connection,
    target: Target,
    rows: Sequence[dict[str, Any]],
    *,
    organization_id: str,
    sync_id: str,
    synced_at: datetime | None = None,
) -> int:
    """Insert or update parsed records (dicts of model columns); returns how many rows were written.

    JSON given as bytes (a payload as Cliniko sent it) is decoded: SQLAlchemy's JSON type encodes objects."""
    if not rows:
        return 0
    synced_at = synced_at or utcnow()
    table = target.table
    columns = {c.name for c in table.columns}
    json_columns = _copy_plan(target).json_columns
    values = []
    for row in dedupe_by_key(rows, target.key):
        record = {k: v for k, v in row.items() if k in columns}
        for name in json_columns:
            if isinstance(record.get(name), bytes):
                record[name] = orjson.loads(record[name])
        record.update(organization_id=organization_id, first_synced_at=synced_at, last_synced_at=synced_at,
                      last_sync_id=sync_id)
        values.append(record)
    # Every row must carry the same keys for one executemany; fill the gaps with NULL.
    keys = set().union(*(v.keys() for v in values))
    for value in values:
        for k in keys - value.keys():
            value[k] = None
    stmt = _insert(conn, table)
    update = {k: stmt.excluded[k] for k in keys if k not in _NEVER_UPDATED and k != target.key}
    stmt = stmt.on_conflict_do_update(index_elements=["organization_id", target.key], set_=update)
    conn.execute(stmt, values)
    return len(values)


class DuplicateKeyError(Exception):
    """A bulk insert met a key that is already stored (or twice in the load): upsert instead."""


@dataclass(frozen=True)
class _CopyPlan:
    """How a target's rows become binary COPY rows: record columns in table order, then the bookkeeping."""

    columns: tuple[str, ...]  # what the parsed record supplies
    json_columns: tuple[str, ...]
    json_positions: tuple[int, ...]
    column_list: str  # SQL: the record columns, then _BOOKKEEPING
    copy_types: tuple[str, ...]  # PostgreSQL type of each COPY column, for the binary format
    getter: Callable[[dict[str, Any]], tuple[Any, ...]]

    def values(self, row: dict[str, Any]) -> list[Any]:
        try:
            values = list(self.getter(row))
        except KeyError:  # a partial record: what it lacks is NULL, as in upsert_records
            values = [row.get(c) for c in self.columns]
        for i in self.json_positions:
            value = values[i]
            if value is not None and not isinstance(value, bytes):  # bytes: JSON as Cliniko sent it
                values[i] = orjson.dumps(value, default=str)
        return values


_BOOKKEEPING = ("organization_id", "first_synced_at", "last_synced_at", "last_sync_id")


def _copy_type(column: Column[Any]) -> str:
    """The PostgreSQL type of a column for binary COPY, which must match the column's exact type.

    `json`'s binary form is its UTF-8 text: JSON values go as bytes ("bytea" tells psycopg to send them
    as they are; its json dumper would encode them once more). `jsonb`'s binary form differs: payload
    columns must be `json` (VerbatimJSON)."""
    column_type = column.type
    if isinstance(column_type.dialect_impl(postgresql.dialect()), postgresql.JSONB):
        raise TypeError(f"{column.table.name}.{column.name} is jsonb: bulk-loaded columns must be json")
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl  # type: ignore[assignment]
    if isinstance(column_type, DateTime):
        return "timestamptz" if column_type.timezone else "timestamp"
    for sa_type, pg_type in _COPY_TYPES:
        if isinstance(column_type, sa_type):
            return pg_type
    raise TypeError(f"no binary COPY type for {column.table.name}.{column.name} ({column.type!r})")


_COPY_TYPES: tuple[tuple[type[Any], str], ...] = (  # subclasses before their bases
    (JSON, "bytea"),
    (Date, "date"),
    (Boolean, "bool"),
    (BigInteger, "int8"),
    (SmallInteger, "int2"),
    (Integer, "int4"),
    (String, "text"),
)


@cache
def _copy_plan(target: Target) -> _CopyPlan:
    table = target.table
    columns = tuple(c.name for c in table.columns if c.name != "id" and c.name not in _BOOKKEEPING)
    json_columns = tuple(c for c in columns if isinstance(table.columns[c].type, JSON))
    copied = (*columns, *_BOOKKEEPING)
    return _CopyPlan(
        columns=columns,
        json_columns=json_columns,
        json_positions=tuple(columns.index(c) for c in json_columns),
        column_list=", ".join(f'"{c}"' for c in copied),
        copy_types=tuple(_copy_type(table.columns[c]) for c in copied),
        getter=itemgetter(*columns),
    )


def _copy_rows(cur: Any, table_name: str, plan: _CopyPlan, rows: Iterable[dict[str, Any]],
               bookkeeping: list[Any]) -> None:
    """Binary COPY: a fifth less client CPU than text, and the server parses no text."""
    with cur.copy(f'COPY "{table_name}" ({plan.column_list}) FROM STDIN (FORMAT BINARY)') as copy:
        copy.set_types(plan.copy_types)
        write, values = copy.write_row, plan.values
        for row in rows:
            write(values(row) + bookkeeping)


def _raw_cursor(conn: Connection) -> Any:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor()


def copy_upsert_records(
    conn: Connection,
    target: Target,
    rows: Sequence[dict[str, Any]],
    *,
    organization_id: str,
    sync_id: str,
    synced_at: datetime | None = None,
) -> int:
    """PostgreSQL only: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT.

    Faster than executemany for large pages; same semantics as `upsert_records`.
    """
    if conn.dialect.name != "postgresql":
        return upsert_records(conn, target, rows, organization_id=organization_id, sync_id=sync_id,
                              synced_at=synced_at)
    if not rows:
        return 0
    table = target.table
    plan = _copy_plan(target)
    deduped = dedupe_by_key(rows, target.key)
    synced_at = synced_at or utcnow()
    temp = f"_routiq_stage_{table.name}"
    updates = ", ".join(
        f'"{c}" = EXCLUDED."{c}"' for c in (*plan.columns, *_BOOKKEEPING)
        if c not in _NEVER_UPDATED and c != target.key
    )
    with _raw_cursor(conn) as cur:
        cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{temp}" (LIKE "{table.name}" INCLUDING DEFAULTS) '
            "ON COMMIT DELETE ROWS"
        )
        _copy_rows(cur, temp, plan, deduped, [organization_id, synced_at, synced_at, sync_id])
        cur.execute(
            f'INSERT INTO "{table.name}" ({plan.column_list}) SELECT {plan.column_list} FROM "{temp}" '
            f'ON CONFLICT (organization_id, "{target.key}") DO UPDATE SET {updates}'
        )
        cur.execute(f'DELETE FROM "{temp}"')
    return len(deduped)


def copy_insert_records(
    conn: Connection,
    target: Target,
    rows: Sequence[dict[str, Any]],
    *,
    organization_id: str,
    sync_id: str,
    synced_at: datetime | None = None,
) -> int:
    """PostgreSQL only: COPY straight into the table, for an organization's first load of a resource.

    About a third cheaper than the upsert (no staging table, no conflict checks). Raises
    DuplicateKeyError, with the transaction unusable, when a key is already stored: roll back and upsert.
    """
    import psycopg

    if not rows:
        return 0
    deduped = dedupe_by_key(rows, target.key)
    synced_at = synced_at or utcnow()
    with _raw_cursor(conn) as cur:
        try:
            _copy_rows(cur, target.table.name, _copy_plan(target), deduped,
                       [organization_id, synced_at, synced_at, sync_id])
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateKeyError(str(exc).splitlines()[0]) from None
    return len(deduped)


def is_deadlock(exc: BaseException) -> bool:
    """PostgreSQL rolled the transaction back to break a deadlock (SQLSTATE 40P01): safe to retry."""
    error = getattr(exc, "orig", None) or exc
    return getattr(error, "sqlstate", None) == "40P01"


def has_records(conn: Connection, target: Target, organization_id: str) -> bool:
    """Whether anything of this resource is stored for the organization (one index probe)."""
    table = target.table
    query = select(table.c.id).where(table.c.organization_id == organization_id).limit(1)
    return conn.execute(query).first() is not None


def quarantine_records(
    conn: Connection,
    *,
    sync_log_id: int,
    organization_id: str,
    resource: str,
    errors: Sequence[tuple[str | None, str, dict[str, Any] | None]],
) -> None:
    """Store records that failed validation: (cliniko_id, message, raw payload)."""
    if not errors:
        return
    conn.execute(
        SyncRecordError.__table__.insert(),  # type: ignore[attr-defined]
        [
            {"sync_log_id": sync_log_id, "organization_id": organization_id, "resource": resource,
             "cliniko_id": (cliniko_id or None) and cliniko_id[:32], "message": message, "raw": raw,
             "created_at": utcnow()}
            for cliniko_id, message, raw in errors
        ],
    )


def get_watermarks(conn: Connection, organization_id: str) -> dict[str, datetime | None]:
    table = SyncWatermark.__table__  # type: ignore[attr-defined]
    rows = conn.execute(
        select(table.c.resource, table.c.cursor_updated_at).where(table.c.organization_id == organization_id)
    )
    return {resource: cursor for resource, cursor in rows}


def set_watermark(
    conn: Connection, *, organization_id: str, resource: str, cursor: datetime, sync_id: str
) -> None:
    """Advance the resource's cursor (never moves it backwards)."""
    table: Table = SyncWatermark.__table__  # type: ignore[attr-defined]
    stmt = _insert(conn, table).values(
        organization_id=organization_id, resource=resource, cursor_updated_at=cursor, last_sync_id=sync_id,
        updated_at=utcnow(),
    )
    current = table.c.cursor_updated_at
    stmt = stmt.on_conflict_do_update(
        index_elements=["organization_id", "resource"],
        set_={
            # The greater of the two; NULL counts as "nothing yet".
            "cursor_updated_at": func.coalesce(
                func.max(current, stmt.excluded.cursor_updated_at)
                if conn.dialect.name == "sqlite"
                else func.greatest(current, stmt.excluded.cursor_updated_at),
                stmt.excluded.cursor_updated_at,
            ),
            "last_sync_id": stmt.excluded.last_sync_id,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    conn.execute(stmt)
