"""The schedule in two app processes (the Reflex app itself with ENABLE_SYNC_SCHEDULER, ticking every second)
on one PostgreSQL, the simulator over HTTP: each due clinic is synced exactly once, by one of them.

tests/integration/test_scheduler.py races `routiq scheduler --once` processes; here the scheduler runs as
it does in production, in the web app's lifespan, in two processes at once.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from sync_core import accounts, migrations
from sync_core.db import get_engine
from sync_core.models import SyncLog
from sync_core.security import new_organization_id
from tests.app_process import RunningApp, start_backend
from tests.fixtures.waiting import wait_until

TICK = re.compile(r"Scheduler tick by worker (\S+): (\d+) due")
STARTED = re.compile(r"Starting automated (\w+) sync for organization (\S+)")
CLINICS = 3


@pytest.fixture
def sched_db(empty_pg_url: str) -> str:
    """A database of its own: the schedulers consider every organization in it."""
    migrations.upgrade(empty_pg_url)
    return empty_pg_url


def _log(app: RunningApp) -> str:
    return app.log_path.read_text(errors="replace")


def _ticks(app: RunningApp) -> int:
    return len(TICK.findall(_log(app)))


def _add_clinics(db_url: str, base_url: str, api_key: str) -> list[str]:
    """Clinics that are due at once (never synced), added in one transaction."""
    with Session(get_engine(db_url)) as session:
        orgs = []
        for n in range(CLINICS):
            org = accounts.create_organization(session, name=f"Clinic {n}", org_id=new_organization_id())
            accounts.set_cliniko_connection(session, org.id, api_key=api_key, base_url_override=base_url)
            orgs.append(org.id)
        session.commit()
        return orgs


def _scheduled_syncs(db_url: str) -> list[SyncLog]:
    with Session(get_engine(db_url)) as session:
        return list(session.exec(select(SyncLog).where(SyncLog.triggered_by == "scheduler")).all())


async def test_two_app_processes_sync_each_due_clinic_exactly_once(
    sched_db: str,
    simulator_factory,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    sim = simulator_factory(patients=120, appointments=150, latency_ms=20)
    env = {
        "DATABASE_URL": sched_db,
        "ROUTIQ_SECRET_KEY": os.environ["ROUTIQ_SECRET_KEY"],  # the clinics' keys are encrypted with it
        "ENABLE_SYNC_SCHEDULER": "true",
        "SCHEDULER_TICK_SECONDS": "1",
        "ROUTIQ_LOG_LEVEL": "DEBUG",  # each tick logs a line: how the test knows both processes tick
    }
    (tmp_path / "sched-app-a").mkdir()
    (tmp_path / "sched-app-b").mkdir()
    with (
        start_backend(tmp_path / "sched-app-a", **env) as app_a,
        start_backend(tmp_path / "sched-app-b", **env) as app_b,
    ):
        apps = (app_a, app_b)
        # Both schedulers are ticking (with nothing due) before any clinic exists.
        await wait_until(lambda: all(_ticks(app) >= 1 for app in apps), timeout=60)
        orgs = _add_clinics(sched_db, sim.base_url, sim.api_key)

        def all_synced() -> bool:
            done = {s.organization_id for s in _scheduled_syncs(sched_db) if s.status == "completed"}
            return done >= set(orgs)

        await wait_until(all_synced, timeout=120)
        # Both processes tick twice more: each had its chance to start anything a second time.
        seen = [_ticks(app) for app in apps]

        def ticked_twice_more() -> bool:
            return all(_ticks(app) >= n + 2 for app, n in zip(apps, seen, strict=True))

        await wait_until(ticked_twice_more, timeout=30)
        logs = [_log(app) for app in apps]

    syncs = _scheduled_syncs(sched_db)
    assert Counter(s.organization_id for s in syncs) == Counter(orgs), logs
    assert {s.status for s in syncs} == {"completed"}
    assert {s.mode for s in syncs} == {"comprehensive"}  # a clinic's first scheduled run reconciles in full
    # Each clinic was started by exactly one of the two processes.
    started = Counter(org for log in logs for _mode, org in STARTED.findall(log))
    assert started == Counter(orgs), logs
    with Session(get_engine(sched_db)) as session:
        assert len(session.exec(select(SyncLog)).all()) == CLINICS  # nothing but the scheduled syncs
