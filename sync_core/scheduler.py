"""Scheduled syncs: every clinic on its interval, exactly once however many workers run this.

Every worker (and a standalone `routiq scheduler`) runs the same APScheduler tick. Exactly-once does not
come from electing a leader in memory: each due sync is *claimed* in the database with a conditional
UPDATE (`last_scheduled_at` moves forward only if it is still due), so of any number of workers racing for
the same slot, exactly one sees its UPDATE match a row. The engine's one-running-sync-per-organization index
is the second line of defence.

Health: consecutive failures are derived from `sync_logs` (failed syncs since the last completed one or
the last resume); at `SYNC_MAX_CONSECUTIVE_FAILURES` the organization's schedule pauses itself with a reason
until an admin resumes it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from sync_core.config import get_settings
from sync_core.db import get_engine
from sync_core.models import ACTIVE_SYNC_STATUSES, ClinikoConnection, SyncLog, SyncStatus
from sync_core.types import utcnow

log = logging.getLogger(__name__)

TRIGGER = "scheduler"
TICK_SECONDS = int(os.environ.get("SCHEDULER_TICK_SECONDS", "30"))
REAPER_SECONDS = 60


@dataclass(frozen=True)
class ScheduleStatus:
    """What `/api/v1/sync/scheduler/status` and the dashboard show for one organization."""

    organization_id: str
    scheduler_active: bool  # this deployment runs the scheduler (ENABLE_SYNC_SCHEDULER)
    sync_enabled: bool  # this organization takes part
    interval_minutes: int
    paused_reason: str | None
    consecutive_failures: int
    sync_running: bool
    last_sync_time: datetime | None
    last_scheduled_at: datetime | None
    next_run_at: datetime | None


@dataclass(frozen=True)
class Claim:
    organization_id: str
    mode: str  # "incremental", or "comprehensive" for the daily reconciliation


def interval_for(conn: ClinikoConnection) -> timedelta:
    return timedelta(minutes=conn.sync_interval_minutes or get_settings().sync_interval_minutes)


def _reconcile_due_since(now: datetime) -> datetime:
    """The most recent reconciliation time at or before `now` (daily at SYNC_RECONCILE_HOUR_UTC)."""
    today = now.replace(hour=get_settings().reconcile_hour_utc, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def claim_due_syncs(session: Session, now: datetime | None = None) -> list[Claim]:
    """Claims every due organization for this worker; each slot is claimed by exactly one caller."""
    now = now or utcnow()
    reconcile_since = _reconcile_due_since(now)
    claims: list[Claim] = []
    candidates = session.exec(
        select(ClinikoConnection).where(
            col(ClinikoConnection.sync_enabled), col(ClinikoConnection.paused_reason).is_(None)
        )
    ).all()
    for conn in candidates:
        table = ClinikoConnection.__table__  # type: ignore[attr-defined]
        base = and_(
            table.c.organization_id == conn.organization_id,
            table.c.sync_enabled.is_(True),
            table.c.paused_reason.is_(None),
        )
        # The daily reconciliation is claimed first; it also counts as this interval's run.
        reconciled = session.execute(
            update(table)
            .where(
                base, or_(table.c.last_reconciled_at.is_(None), table.c.last_reconciled_at < reconcile_since)
            )
            .values(last_reconciled_at=now, last_scheduled_at=now)
        ).rowcount
        if reconciled:
            claims.append(Claim(conn.organization_id, "comprehensive"))
            continue
        due_before = now - interval_for(conn)
        claimed = session.execute(
            update(table)
            .where(base, or_(table.c.last_scheduled_at.is_(None), table.c.last_scheduled_at <= due_before))
            .values(last_scheduled_at=now)
        ).rowcount
        if claimed:
            claims.append(Claim(conn.organization_id, "incremental"))
    session.commit()
    return claims


def consecutive_failures(session: Session, organization_id: str, since: datetime | None) -> int:
    """Failed syncs in a row, newest first, stopping at a completed one (cancelled ones do not count)."""
    query = (
        select(SyncLog.status)
        .where(
            SyncLog.organization_id == organization_id,
            col(SyncLog.status).in_([SyncStatus.COMPLETED.value, SyncStatus.FAILED.value]),
        )
        .order_by(col(SyncLog.started_at).desc())
        .limit(100)
    )
    if since is not None:
        query = query.where(SyncLog.started_at > since)
    count = 0
    for status in session.exec(query):
        if status != SyncStatus.FAILED.value:
            break
        count += 1
    return count


def refresh_health(session: Session) -> list[str]:
    """Updates every connection's failure count; pauses those at the limit. Returns the newly paused ids."""
    limit = get_settings().max_consecutive_failures
    paused: list[str] = []
    for conn in session.exec(select(ClinikoConnection)).all():
        failures = consecutive_failures(session, conn.organization_id, conn.resumed_at)
        changed = failures != conn.consecutive_failures
        conn.consecutive_failures = failures
        if failures >= limit and conn.paused_reason is None:
            last = session.exec(
                select(SyncLog)
                .where(
                    SyncLog.organization_id == conn.organization_id, SyncLog.status == SyncStatus.FAILED.value
                )
                .order_by(col(SyncLog.started_at).desc())
            ).first()
            error = (last.error_type or "an error") if last else "an error"
            conn.paused_reason = (
                f"Paused after {failures} failed syncs in a row (last: {error}). "
                "Fix the cause, then resume the schedule in Settings."
            )
            paused.append(conn.organization_id)
            changed = True
        if changed:
            conn.updated_at = utcnow()
            session.add(conn)
    session.commit()
    return paused


def resume_schedule(session: Session, organization_id: str) -> None:
    conn = session.get(ClinikoConnection, organization_id)
    if conn is None:
        raise LookupError(f"No Cliniko connection for {organization_id}.")
    conn.paused_reason = None
    conn.consecutive_failures = 0
    conn.resumed_at = utcnow()
    conn.updated_at = utcnow()
    session.add(conn)


def update_schedule(
    session: Session, organization_id: str, *, enabled: bool, interval_minutes: int | None
) -> ClinikoConnection:
    conn = session.get(ClinikoConnection, organization_id)
    if conn is None:
        raise LookupError(f"No Cliniko connection for {organization_id}.")
    if interval_minutes is not None and not 5 <= interval_minutes <= 7 * 24 * 60:
        raise ValueError("The interval must be between 5 minutes and 7 days.")
    conn.sync_enabled = enabled
    conn.sync_interval_minutes = interval_minutes
    conn.updated_at = utcnow()
    session.add(conn)
    return conn


def schedule_status(session: Session, organization_id: str) -> ScheduleStatus:
    settings = get_settings()
    conn = session.get(ClinikoConnection, organization_id)
    running = session.exec(
        select(SyncLog.id).where(
            SyncLog.organization_id == organization_id, col(SyncLog.status).in_(ACTIVE_SYNC_STATUSES)
        )
    ).first()
    last = session.exec(
        select(SyncLog)
        .where(SyncLog.organization_id == organization_id, SyncLog.status == SyncStatus.COMPLETED.value)
        .order_by(col(SyncLog.started_at).desc())
    ).first()
    interval = interval_for(conn) if conn else timedelta(minutes=settings.sync_interval_minutes)
    active = (
        settings.enable_sync_scheduler and conn is not None and conn.sync_enabled and not conn.paused_reason
    )
    next_run = None
    if active and conn is not None:
        next_run = (conn.last_scheduled_at + interval) if conn.last_scheduled_at else utcnow()
    return ScheduleStatus(
        organization_id=organization_id,
        scheduler_active=settings.enable_sync_scheduler,
        sync_enabled=bool(conn and conn.sync_enabled),
        interval_minutes=int(interval.total_seconds() // 60),
        paused_reason=conn.paused_reason if conn else None,
        consecutive_failures=conn.consecutive_failures if conn else 0,
        sync_running=running is not None,
        last_sync_time=(last.completed_at or last.started_at) if last else None,
        last_scheduled_at=conn.last_scheduled_at if conn else None,
        next_run_at=next_run,
    )


class SyncScheduler:
    """The APScheduler jobs of one process: the due-sync tick and the stale-sync reaper."""

    def __init__(self, database_url: str | None = None, *, tick_seconds: int = TICK_SECONDS) -> None:
        self.database_url = database_url
        self.tick_seconds = tick_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()

    def start(self) -> None:
        """Starts the jobs on the running event loop (call from inside it)."""
        settings = get_settings()
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.tick_seconds,
            id="due-syncs",
            coalesce=True,
            max_instances=1,
            next_run_time=utcnow(),
        )
        scheduler.add_job(
            self.reap,
            "interval",
            seconds=REAPER_SECONDS,
            id="reaper",
            coalesce=True,
            max_instances=1,
            next_run_time=utcnow(),
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info(
            "Starting sync scheduler with %s minute intervals (worker %s)",
            settings.sync_interval_minutes,
            self.worker_id,
        )

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def reap(self) -> int:
        from sync_core.engine import reap_stale_syncs

        return await asyncio.to_thread(reap_stale_syncs, self.database_url)

    async def tick(self) -> list[str]:
        """One pass: update health, claim due organizations, start their syncs. Returns started sync ids."""
        from sync_core.engine import start_sync

        def claim() -> list[Claim]:
            with Session(get_engine(self.database_url)) as session:
                refresh_health(session)
                return claim_due_syncs(session)

        started: list[str] = []
        claims = await asyncio.to_thread(claim)
        log.debug("Scheduler tick by worker %s: %d due", self.worker_id, len(claims))
        for item in claims:
            try:
                result = await start_sync(
                    item.organization_id, item.mode, triggered_by=TRIGGER, database_url=self.database_url
                )
            except Exception:  # one clinic's broken setup must not stop the others
                log.exception("Scheduled sync could not start for organization %s", item.organization_id)
                continue
            if result.already_running:
                log.info(
                    "Skipped scheduled sync for organization %s: sync %s is running",
                    item.organization_id,
                    result.sync_id,
                )
                continue
            log.info("Starting automated %s sync for organization %s", item.mode, item.organization_id)
            started.append(result.sync_id)
        return started
