"""Pure parts of the store: how rows become binary COPY rows, which errors are retried."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, Table

from sync_core import store
from sync_core.types import JSONType


def test_every_mirrored_table_has_a_binary_copy_type_per_column() -> None:
    for target in store.TARGETS.values():
        plan = store._copy_plan(target)
        copied = [c for c in target.table.columns if c.name != "id"]
        assert len(plan.copy_types) == len(copied)
        assert {plan.copy_types[plan.columns.index(c)] for c in plan.json_columns} == {"bytea"}
        integers = [c.name for c in copied if c.type.python_type is int]
        assert all(plan.copy_types[plan.columns.index(c)] == "int4" for c in integers)


def test_a_jsonb_column_cannot_be_bulk_loaded() -> None:
    # jsonb's binary form has a version byte: the verbatim bytes would be refused by the server.
    column = Column("payload", JSONType)
    Table("t", MetaData(), column)
    with pytest.raises(TypeError, match="jsonb"):
        store._copy_type(column)


def test_json_values_become_bytes_and_verbatim_bytes_stay_as_they_are() -> None:
    plan = store._copy_plan(store.TARGETS["patients"])
    sent = b'{ "id": "1" }'
    row = {c: None for c in plan.columns} | {"raw": sent, "phone_numbers": [{"number": "1"}]}
    values = plan.values(row)
    assert values[plan.columns.index("raw")] is sent
    assert values[plan.columns.index("phone_numbers")] == b'[{"number":"1"}]'


def test_deadlocks_are_recognised_whichever_layer_raises_them() -> None:
    class DriverError(Exception):
        sqlstate = "40P01"

    class Wrapped(Exception):  # SQLAlchemy's DBAPIError keeps the driver's error as .orig
        orig = DriverError()

    class UniqueViolation(Exception):
        sqlstate = "23505"

    assert store.is_deadlock(DriverError()) and store.is_deadlock(Wrapped())
    assert not store.is_deadlock(ValueError()) and not store.is_deadlock(UniqueViolation())
