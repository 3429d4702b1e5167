"""Migrations: the same schema on SQLite and PostgreSQL, up to head and back down to nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import sync_core.models  # noqa: F401
from sync_core import accounts, migrations, store
from sync_core.cliniko.parse import (
    parse_appointment,
    parse_appointment_type,
    parse_business,
    parse_patient,
    parse_practitioner,
)
from sync_core.db import get_engine, session_scope


def _tables(url: str) -> set[str]:
    return set(inspect(get_engine(url)).get_table_names()) - {"alembic_version"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("empty_pg_url")


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(empty_db: str) -> None:
    migrations.upgrade(empty_db)
    assert _tables(empty_db) == set(SQLModel.metadata.tables)

    migrations.downgrade(empty_db, "base")
    assert _tables(empty_db) == set()

    migrations.upgrade(empty_db)  # and up again: downgrade left nothing behind that blocks it
    assert _tables(empty_db) == set(SQLModel.metadata.tables)


def test_migrations_match_the_models(empty_db: str) -> None:
    """A model change without a migration (or the reverse) shows up here."""
    migrations.upgrade(empty_db)
    with get_engine(empty_db).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_named_unique_constraint_of_the_seeds_exists(empty_db: str) -> None:
    migrations.upgrade(empty_db)
    names = {c["name"] for c in inspect(get_engine(empty_db)).get_unique_constraints("patients")}
    assert "patients_org_cliniko_patient_unique" in names


_LINK = "https://api.au1.cliniko.com/v1/{}/{}"
_ONE_OF_EACH = (
    ("patients", parse_patient, {"id": "1", "first_name": "A"}),
    ("individual_appointments", parse_appointment,
     {"id": "2", "patient": {"links": {"self": _LINK.format("patients", 1)}}}),
    ("appointment_types", parse_appointment_type, {"id": "3", "name": "Consult"}),
    ("practitioners", lambda p: parse_practitioner(p, True), {"id": "4", "first_name": "B"}),
    ("businesses", parse_business, {"id": "5", "business_name": "Main"}),
)


def _mirror_counts(url: str, organization_id: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table} WHERE organization_id = :o"),
                                    {"o": organization_id}).scalar_one()
                for table in ("patients", "appointments", "appointment_types", "practitioners", "businesses")}


def test_deleting_an_organization_deletes_its_mirrored_rows_and_keeps_the_others(empty_db: str) -> None:
    # The mirrored tables have no foreign key (0006): the trigger on organizations does the cascade. Rows
    # written before the upgrade survive it (SQLite rebuilds the tables).
    migrations.upgrade(empty_db, "0005_verbatim_payloads")
    with session_scope(empty_db) as session:
        doomed = accounts.create_organization(session, name="Closing Clinic").id
        kept = accounts.create_organization(session, name="Staying Clinic").id
    with get_engine(empty_db).begin() as conn:
        for organization_id in (doomed, kept):
            for resource, parse, payload in _ONE_OF_EACH:
                store.upsert_records(conn, store.TARGETS[resource], [parse(payload)],
                                     organization_id=organization_id, sync_id="sync_test")
    migrations.upgrade(empty_db)
    assert _mirror_counts(empty_db, doomed) == dict.fromkeys(_mirror_counts(empty_db, doomed), 1)

    with get_engine(empty_db).begin() as conn:
        conn.execute(text("DELETE FROM organizations WHERE id = :o"), {"o": doomed})
    assert set(_mirror_counts(empty_db, doomed).values()) == {0}
    assert set(_mirror_counts(empty_db, kept).values()) == {1}

    migrations.downgrade(empty_db, "0005_verbatim_payloads")  # the key comes back over the rows kept
    assert set(_mirror_counts(empty_db, kept).values()) == {1}
