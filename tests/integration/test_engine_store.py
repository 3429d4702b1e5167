"""Batch upserts, quarantine and watermarks on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import select

from sync_core import accounts, store
from sync_core.cliniko.parse import parse_patient
from sync_core.db import get_engine, session_scope
from sync_core.models import Patient


def _org(db_url: str) -> str:
    with session_scope(db_url) as session:
        return accounts.create_organization(session, name="Store").id


def _patient(pid: str, name: str, updated: str = "2024-05-01T10:00:00Z") -> dict:
    return parse_patient({"id": pid, "first_name": name, "last_name": "L",
                          "created_at": "2024-01-01T00:00:00Z", "updated_at": updated, "archived_at": None,
                          "patient_phone_numbers": [
                              {"phone_type": "Mobile", "number": "0400 000 000"}]})


def _rows(db_url: str, org: str) -> dict[str, dict]:
    table = Patient.__table__
    with get_engine(db_url).connect() as conn:
        rows = conn.execute(select(table).where(table.c.organization_id == org)).mappings().all()
    return {r["cliniko_patient_id"]: dict(r) for r in rows}


def test_upsert_is_idempotent_updates_fields_and_keeps_first_synced_at(db_url):
    org = _org(db_url)
    target = store.TARGETS["patients"]
    first_time = datetime(2024, 1, 1, tzinfo=UTC)
    with get_engine(db_url).begin() as conn:
        # The same id twice in one batch (pages shifting under us): the last one wins, no error.
        written = store.upsert_records(conn, target, [_patient("1", "Ann"), _patient("2", "Bob"),
                                                      _patient("1", "Anne")],
                                       organization_id=org, sync_id="s1", synced_at=first_time)
    assert written == 2
    with get_engine(db_url).begin() as conn:
        store.upsert_records(conn, target, [_patient("2", "Robert"), _patient("3", "Cy")],
                             organization_id=org, sync_id="s2", synced_at=first_time + timedelta(hours=1))
    rows = _rows(db_url, org)
    assert {k: r["first_name"] for k, r in rows.items()} == {"1": "Anne", "2": "Robert", "3": "Cy"}
    assert rows["2"]["first_synced_at"] == first_time
    assert rows["2"]["last_synced_at"] == first_time + timedelta(hours=1)
    assert rows["2"]["last_sync_id"] == "s2"
    assert rows["1"]["last_sync_id"] == "s1" and rows["2"]["primary_phone"] == "0400 000 000"


def test_copy_upsert_matches_executemany_upsert(db_url):
    org_a, org_b = _org(db_url), _org(db_url)
    target = store.TARGETS["patients"]
    batch = [_patient(str(i), f"P{i}") for i in range(1, 40)]
    with get_engine(db_url).begin() as conn:
        store.upsert_records(conn, target, batch, organization_id=org_a, sync_id="s")
        store.copy_upsert_records(conn, target, batch, organization_id=org_b, sync_id="s")
    with get_engine(db_url).begin() as conn:  # and again: updates through the same path
        store.copy_upsert_records(conn, target, [_patient("5", "Five")], organization_id=org_b, sync_id="t")
        store.upsert_records(conn, target, [_patient("5", "Five")], organization_id=org_a, sync_id="t")
    skip = {"id", "organization_id", "first_synced_at", "last_synced_at"}
    a = {k: {c: v for c, v in r.items() if c not in skip} for k, r in _rows(db_url, org_a).items()}
    b = {k: {c: v for c, v in r.items() if c not in skip} for k, r in _rows(db_url, org_b).items()}
    assert a == b and len(a) == 39 and a["5"]["first_name"] == "Five"


def test_watermark_only_moves_forward(db_url):
    org = _org(db_url)
    t1 = datetime(2024, 5, 1, 10, tzinfo=UTC)
    with get_engine(db_url).begin() as conn:
        store.set_watermark(conn, organization_id=org, resource="patients", cursor=t1, sync_id="a")
        store.set_watermark(conn, organization_id=org, resource="patients", cursor=t1 - timedelta(days=1),
                            sync_id="b")
        assert store.get_watermarks(conn, org) == {"patients": t1}
        store.set_watermark(conn, organization_id=org, resource="patients", cursor=t1 + timedelta(seconds=1),
                            sync_id="c")
        assert store.get_watermarks(conn, org) == {"patients": t1 + timedelta(seconds=1)}


def test_payload_bytes_are_stored_as_sent_and_decoded_where_copy_is_not_used(db_url):
    # Spacing, key order and escapes as Cliniko might send them: a re-encoding would change all three.
    sent = (b'{ "id": "77", "updated_at": "2024-05-01T10:00:00Z",  "last_name": "M\\u00fcller",'
            b' "first_name": "Zo\xc3\xab", "created_at": "2024-01-01T00:00:00Z" }')
    row = parse_patient(sent)
    assert row["raw"] == sent and row["last_name"] == "Müller" and row["first_name"] == "Zoë"
    org = _org(db_url)
    target = store.TARGETS["patients"]
    with get_engine(db_url).begin() as conn:
        if conn.dialect.name == "postgresql":
            store.copy_insert_records(conn, target, [row], organization_id=org, sync_id="s")
            stored = conn.exec_driver_sql("SELECT raw::text FROM patients WHERE cliniko_patient_id = '77'")
            assert stored.scalar_one().encode() == sent
        else:  # SQLite goes through SQLAlchemy's JSON type: the same document, re-encoded
            store.upsert_records(conn, target, [row], organization_id=org, sync_id="s")
    assert _rows(db_url, org)["77"]["raw"] == orjson.loads(sent)


def test_a_first_load_refuses_a_key_already_stored(pg_url):
    org = _org(pg_url)
    target = store.TARGETS["patients"]
    with get_engine(pg_url).begin() as conn:
        store.copy_insert_records(conn, target, [_patient("1", "Ann")], organization_id=org, sync_id="a")
        assert store.has_records(conn, target, org)
    with pytest.raises(store.DuplicateKeyError), get_engine(pg_url).begin() as conn:
        store.copy_insert_records(conn, target, [_patient("2", "Bo"), _patient("1", "Ann")],
                                  organization_id=org, sync_id="b")
    assert set(_rows(pg_url, org)) == {"1"}  # the failed load left nothing behind

