"""The sync engine against the simulator over real HTTP, on SQLite and PostgreSQL: every mode stores exactly
what the simulator holds, incremental syncs pick up changes, bad records are quarantined, bad keys fail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sync_core.db import get_engine, session_scope
from sync_core.engine import SyncConfigError, patient_stats, run_sync, sync_log_dict
from sync_core.events import FINISHED, PROGRESS, get_event_bus
from sync_core.models import Patient, SyncRecordError, SyncWatermark
from sync_core.types import utcnow
from tests.integration.engine_support import assert_mirrors, make_org, stored_rows

SEED_001_KEYS = {"patients_found", "patients_stored", "sync_type", "current_page", "total_pages",
                 "progress_percent", "estimated_remaining", "errors", "success_rate"}
SEED_002_KEYS = {"current_step_number", "total_steps", "current_step", "step_name", "status_detail",
                 "appointments_found", "active_patients_identified"}
PERF_KEYS = {"total_duration", "api_fetch_time", "processing_time", "database_time", "records_per_second",
             "api_requests", "database_operations"}
LOOKUPS = ("appointment_types", "practitioners", "businesses")


async def test_comprehensive_stores_exactly_the_simulator_clinic(db_url, simulator_factory):
    sim = simulator_factory(patients=230, appointments=520, seed=7)
    org_id = make_org(db_url, sim)
    progress: list[dict] = []
    async with get_event_bus().subscribe(org_id, maxsize=10_000) as events:
        final = await run_sync(org_id, "comprehensive", database_url=db_url)
        async for event in events:
            if event.kind in (PROGRESS, FINISHED):
                progress.append(event.payload)
            if event.kind == FINISHED:
                break

    assert final.status == "completed", final.error_details
    for resource in ("patients", "individual_appointments", *LOOKUPS):
        assert_mirrors(db_url, org_id, sim, resource)
    # Archived patients and cancelled appointments are stored as such.
    patients = stored_rows(db_url, org_id, "patients")
    assert {i for i, p in patients.items() if p["archived_at"]} == sim.clinic.ids("patients", archived=True)
    appointments = stored_rows(db_url, org_id, "individual_appointments")
    cancelled = {i for i, a in appointments.items() if a["cancelled_at"]}
    assert cancelled == sim.clinic.ids("individual_appointments", cancelled=True) and cancelled

    # The row: seed 001's columns and keys, seed 002's step model, honest counts.
    total = sum(len(sim.clinic.records(r)) for r in
                ("patients", "individual_appointments", "appointment_types", "practitioners",
                 "practitioners/inactive", "businesses"))
    assert (final.records_processed, final.records_success, final.records_failed) == (total, total, 0)
    metadata = final.sync_metadata
    assert metadata.keys() >= SEED_001_KEYS | SEED_002_KEYS
    assert metadata["performance_metrics"].keys() >= PERF_KEYS
    assert metadata["patients_found"] == metadata["patients_stored"] == 230
    assert metadata["appointments_found"] == 520
    assert metadata["progress_percent"] == 100.0 and metadata["success_rate"] == 100.0
    assert metadata["current_step_number"] == metadata["total_steps"] == 8
    assert metadata["performance_metrics"]["api_requests"] == sim.stats()["total"]
    with session_scope(db_url) as session:
        stats = patient_stats(session, org_id)
    assert metadata["active_patients_identified"] == stats.active_patients > 0
    assert stats.total_patients == 230
    assert final.completed_at is not None and final.completed_at >= final.started_at

    # Progress events: monotonic percent and step, running until the final event.
    percents = [p["metadata"]["progress_percent"] for p in progress]
    steps = [p["metadata"]["current_step_number"] for p in progress]
    assert percents == sorted(percents) and steps == sorted(steps)
    assert {p["status"] for p in progress[:-1]} <= {"starting", "running"}
    assert progress[-1]["status"] == "completed" and progress[-1] == sync_log_dict(final)
    # Walked through the steps, not straight to the end. Steps 5 and 6 show only while appointments or
    # the lookups are the earliest resource still being read: they may finish under step 4.
    assert {2, 3, 4, 7, 8} <= set(steps)


async def test_full_patients_reads_every_patient_only(db_url, simulator_factory):
    sim = simulator_factory(patients=150, appointments=80, seed=3)
    org_id = make_org(db_url, sim)
    final = await run_sync(org_id, "sync-all", database_url=db_url)  # seed 000's name
    assert final.status == "completed"
    assert (final.operation_type, final.mode) == ("full_patients", "sync-all")
    assert_mirrors(db_url, org_id, sim, "patients")
    assert stored_rows(db_url, org_id, "individual_appointments") == {}
    assert final.sync_metadata["patients_stored"] == 150


async def test_active_patients_mode_stores_window_appointments_and_their_patients(db_url, simulator_factory):
    sim = simulator_factory(patients=200, appointments=600, seed=11)
    org_id = make_org(db_url, sim)
    final = await run_sync(org_id, "active", database_url=db_url)
    assert final.status == "completed", final.error_details
    since = (utcnow() - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    window = {a["id"] for a in sim.clinic.records("individual_appointments") if a["starts_at"] >= since}
    assert_mirrors(db_url, org_id, sim, "individual_appointments", window)
    stored_appointments = stored_rows(db_url, org_id, "individual_appointments")
    patient_ids = {a["cliniko_patient_id"] for a in stored_appointments.values()}
    assert_mirrors(db_url, org_id, sim, "patients", patient_ids)
    assert 0 < len(patient_ids) < 200
    # A partial read must not set watermarks (a later incremental sync would skip the rest).
    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(SyncWatermark)
                            .where(SyncWatermark.organization_id == org_id)).scalar() == 0


async def test_incremental_picks_up_changes_with_few_requests(db_url, simulator_factory):
    sim = simulator_factory(patients=400, appointments=900, seed=5)
    org_id = make_org(db_url, sim)
    first = await run_sync(org_id, "incremental", database_url=db_url)  # no watermark yet: reads it all
    assert first.status == "completed" and first.sync_metadata.get("incremental_fallback")
    full_requests = first.sync_metadata["performance_metrics"]["api_requests"]

    touched = sim.apply_changes(update=7, archive=3, create=4, cancel=5)
    before = sim.stats()["total"]
    second = await run_sync(org_id, "basic", database_url=db_url)  # seed 003's name for it
    assert second.status == "completed" and second.operation_type == "incremental"
    assert "incremental_fallback" not in second.sync_metadata
    requests = sim.stats()["total"] - before
    assert requests == second.sync_metadata["performance_metrics"]["api_requests"]
    assert requests <= 6 < full_requests  # one page per resource: proportional to the changes
    for resource in ("patients", "individual_appointments", *LOOKUPS):
        assert_mirrors(db_url, org_id, sim, resource)
    patients = stored_rows(db_url, org_id, "patients")
    assert all(patients[i]["archived_at"] for i in touched["archive"])
    assert set(touched["create"]) <= set(patients)
    changed = sum(len(touched[k]) for k in ("update", "archive", "create", "cancel"))
    assert changed <= second.records_processed < 100


async def test_malformed_records_are_quarantined_and_the_rest_stored(db_url, simulator_factory):
    sim = simulator_factory(patients=120, appointments=50, seed=9)
    touched = sim.apply_changes(malformed=4)
    org_id = make_org(db_url, sim)
    final = await run_sync(org_id, "full_patients", database_url=db_url)
    assert final.status == "completed"
    assert final.records_failed == 4 and final.records_success == 120
    assert final.sync_metadata["success_rate"] == pytest.approx(100 * 120 / 124, abs=0.1)
    assert_mirrors(db_url, org_id, sim, "patients")  # every valid patient, none of the malformed ones
    with session_scope(db_url) as session:
        quarantined = session.exec(
            select(SyncRecordError).where(SyncRecordError.sync_log_id == final.id)  # type: ignore[arg-type]
        ).all()
    messages = sorted(row[0].message for row in quarantined)
    assert len(messages) == 4
    for malformed_id in touched["malformed"]:
        assert any(m.startswith(f"Patient ID {malformed_id}:") for m in messages), messages
    assert sorted(final.sync_metadata["errors"]) == messages
    assert all(row[0].raw and row[0].resource == "patients" for row in quarantined)


async def test_wrong_key_fails_with_cliniko_auth_failed(db_url, simulator_factory):
    sim = simulator_factory(patients=10, appointments=10)
    org_id = make_org(db_url, sim, api_key="wrong-key-au1")
    final = await run_sync(org_id, database_url=db_url)
    assert final.status == "failed"
    assert final.error_type == final.sync_metadata["error_type"] == "CLINIKO_AUTH_FAILED"
    assert final.error_details.startswith("Cliniko API authentication failed")
    assert final.records_success == 0 and final.completed_at is not None
    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Patient)
                            .where(Patient.organization_id == org_id)).scalar() == 0


async def test_missing_connection_and_unknown_organization(db_url):
    from sync_core import accounts

    with session_scope(db_url) as session:
        org_id = accounts.create_organization(session, name="No Cliniko").id
    with pytest.raises(SyncConfigError) as info:
        await run_sync(org_id, database_url=db_url)
    assert info.value.error_type == "CLINIKO_NOT_CONFIGURED"
    with pytest.raises(LookupError):
        await run_sync("org_doesnotexist", database_url=db_url)
    with pytest.raises(ValueError):
        await run_sync(org_id, "everything", database_url=db_url)


async def test_resync_is_idempotent_and_keeps_first_synced_at(db_url, simulator_factory):
    sim = simulator_factory(patients=90, appointments=120, seed=13)
    org_id = make_org(db_url, sim)
    first = await run_sync(org_id, database_url=db_url)
    table = Patient.__table__
    with get_engine(db_url).connect() as conn:
        before = dict(conn.execute(select(table.c.cliniko_patient_id, table.c.first_synced_at)
                                   .where(table.c.organization_id == org_id)).all())
    second = await run_sync(org_id, database_url=db_url)
    assert first.status == second.status == "completed"
    with get_engine(db_url).connect() as conn:
        after = conn.execute(select(table.c.cliniko_patient_id, table.c.first_synced_at, table.c.last_sync_id)
                             .where(table.c.organization_id == org_id)).all()
    assert {r[0]: r[1] for r in after} == before
    assert {r[2] for r in after} == {second.sync_id}
    assert_mirrors(db_url, org_id, sim, "patients")


async def test_progress_events_reach_subscribers_while_running(db_url, simulator_factory, monkeypatch):
    from sync_core.engine import runner

    monkeypatch.setattr(runner, "PROGRESS_WRITE_INTERVAL", 0.0)  # every page writes (no throttling)
    monkeypatch.setattr(runner, "MAX_PAGES_PER_TRANSACTION", 1)  # one page per transaction
    sim = simulator_factory(patients=300, appointments=0)
    org_id = make_org(db_url, sim)
    seen_running = []
    async with get_event_bus().subscribe(org_id, maxsize=10_000) as events:
        final = await run_sync(org_id, "full_patients", database_url=db_url)
        async for event in events:
            if event.kind == PROGRESS and event.payload["status"] == "running":
                seen_running.append(event.payload["metadata"]["patients_stored"])
            if event.kind == FINISHED:
                break
    assert final.status == "completed"
    assert sorted({s for s in seen_running if s}) == [100, 200, 300], seen_running


async def test_a_first_load_meeting_a_record_twice_still_stores_each_once(db_url, simulator_factory, caplog):
    # Every page repeats the last record of the page before (records added ahead of the reader): on
    # PostgreSQL the first load COPYs straight into the tables, meets a key twice, rolls that batch back
    # and upserts from there on.
    sim = simulator_factory(patients=450, appointments=640, seed=21, page_overlap=1)
    org_id = make_org(db_url, sim)
    with caplog.at_level("INFO", logger="sync_core.engine"):
        final = await run_sync(org_id, "comprehensive", database_url=db_url)
    assert final.status == "completed", final.error_details
    for resource in ("patients", "individual_appointments", *LOOKUPS):
        assert_mirrors(db_url, org_id, sim, resource)
    assert final.records_failed == 0
    assert final.sync_metadata["patients_stored"] >= 450  # repeated records are counted where they come
    if db_url.startswith("postgresql"):
        assert "seen twice, upserting from here on" in caplog.text


async def test_postgresql_keeps_each_payload_byte_for_byte(pg_url, simulator_factory):
    sim = simulator_factory(patients=120, appointments=150, seed=5)
    org_id = make_org(pg_url, sim)
    final = await run_sync(org_id, "comprehensive", database_url=pg_url)
    assert final.status == "completed", final.error_details
    base = sim.base_url  # the links inside payloads name the host the client used
    with get_engine(pg_url).connect() as conn:
        for table, resource in (("patients", "patients"), ("appointments", "individual_appointments")):
            key = "cliniko_patient_id" if table == "patients" else "cliniko_appointment_id"
            rows = conn.exec_driver_sql(
                f"SELECT {key}, raw::text FROM {table} WHERE organization_id = %(org)s", {"org": org_id}
            ).all()
            assert len(rows) == len(sim.clinic.records(resource))
            for cliniko_id, raw in rows:
                assert raw.encode() == sim.clinic.record_body(resource, cliniko_id, base), cliniko_id
