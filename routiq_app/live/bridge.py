"""Engine events -> the organization's shared Reflex state, pushed to every open tab (no browser polling).

One lifespan task subscribes to the event bus. Events are coalesced per organization (latest wins): while
one update is being written to the shared state, newer progress replaces the pending one, so a fast sync
cannot flood the sockets, and activity lines gathered meanwhile are appended together. The same task starts
the cross-process event bridge and reaps stale syncs at startup and every minute.

With Redis one worker of the deployment writes the sync progress (live/writer.py), and Reflex relays each
linked tab's delta to the worker holding its socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from routiq_app.live.links import forget_closed_tabs
from routiq_app.live.loaders import load_dashboard
from routiq_app.live.presenters import (
    FINAL_STATUSES,
    SyncSnapshot,
    activity_entries,
    org_link_token,
    snapshot_from_payload,
)
from routiq_app.live.workspace_bridge import WorkspacePublisher
from routiq_app.live.writer import LEASE_TTL_S, WriterLease
from routiq_app.state.live import LiveActivity, LiveStats, LiveSync

log = logging.getLogger("routiq.live")


def _not_shared_token_delta(record: logging.LogRecord) -> bool:
    # Writing a shared org state emits to its token, which no socket owns; Reflex warns about it each time.
    return "send delta to disconnected client 'org-" not in record.getMessage()


logging.getLogger("reflex.app").addFilter(_not_shared_token_delta)
REAP_INTERVAL_S = 60.0


@dataclass
class _Pending:
    snapshot: SyncSnapshot | None = None
    activity: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    finished: bool = False


class LivePublisher:
    """Per-organization latest-wins queue in front of `app.modify_state`.

    `writes` says whether this worker writes the sync progress now (live/writer.py: one worker at a time
    with Redis). A worker that does not still follows every event, so it can take over where the writer
    stopped. Workspace changes are written by every worker: they are rare, each one matters, and a change
    already kept is not added twice (workspace_changes.append_changes), so a takeover cannot lose one.
    """

    def __init__(self, app: rx.App, writes: Callable[[], bool] = lambda: True) -> None:
        self._app = app
        self._writes = writes
        self._pending: dict[str, _Pending] = {}
        self._last_seen: dict[str, SyncSnapshot] = {}
        self._seen_at: dict[str, float] = {}  # local monotonic time of each organization's latest event
        self._flushers: dict[str, asyncio.Task[None]] = {}
        self._workspace = WorkspacePublisher(app)  # data.changed: the clinic workspace's deltas

    def handle(self, kind: str, organization_id: str, payload: dict[str, Any], at: datetime | None) -> bool:
        """Queues an engine event for the organization's live state; False when it changes nothing."""
        if kind in ("sync.progress", "sync.finished"):
            snap = snapshot_from_payload(payload, at or datetime.now(UTC))
            previous = self._last_seen.get(organization_id)
            if (
                previous is not None
                and previous.sync_id == snap.sync_id
                and previous.status in FINAL_STATUSES
            ):
                return False  # a late progress event after the final one
            lines = activity_entries(previous, snap)
            self._last_seen[organization_id] = snap
            self._seen_at[organization_id] = time.monotonic()
            if not self._writes():
                return False  # another worker writes the shared state (live/writer.py)
            pending = self._pending.setdefault(organization_id, _Pending())
            pending.snapshot = snap
            if lines:
                pending.activity.append((snap.event_at, lines))
            pending.finished = pending.finished or snap.status in FINAL_STATUSES
        elif kind == "data.changed":
            return self._workspace.handle(organization_id, payload, at)  # sync data: stats re-read at the end
        else:
            return False
        self._schedule_flush(organization_id)
        return True

    def take_over(self) -> None:
        """This worker just became the writer: the previous one may have missed the last events (it stopped
        or died), so the latest sync state seen lately for each organization is written again. A state
        already written changes nothing (LiveSync ignores snapshots it is ahead of)."""
        recent = time.monotonic() - 2 * LEASE_TTL_S
        for organization_id, snap in self._last_seen.items():
            if self._seen_at.get(organization_id, 0.0) < recent:
                continue
            pending = self._pending.setdefault(organization_id, _Pending())
            pending.snapshot = pending.snapshot or snap
            pending.finished = pending.finished or snap.status in FINAL_STATUSES
            self._schedule_flush(organization_id)

    def _schedule_flush(self, organization_id: str) -> None:
        task = self._flushers.get(organization_id)
        if task is None or task.done():
            self._flushers[organization_id] = asyncio.create_task(self._flush(organization_id))

    async def _flush(self, organization_id: str) -> None:
        token = rx.BaseStateToken(ident=org_link_token(organization_id), cls=LiveSync)
        while (pending := self._pending.pop(organization_id, None)) is not None:
            try:
                # Progress first: it is what people watch; the stats query of a finished sync comes after.
                async with self._app.modify_state(token) as root:
                    if pending.snapshot is not None:
                        (await root.get_state(LiveSync))._apply_snapshot(pending.snapshot)
                    if pending.activity:
                        activity = await root.get_state(LiveActivity)
                        for at, lines in pending.activity:
                            activity._add_activity(at, lines)
                if pending.snapshot is not None and log.isEnabledFor(logging.DEBUG):
                    delay = datetime.now(UTC) - datetime.fromisoformat(pending.snapshot.event_at)
                    log.debug(
                        "live state of %s updated %.0f ms after the event",
                        organization_id,
                        delay.total_seconds() * 1000,
                    )
                if pending.finished:
                    dashboard = await asyncio.to_thread(load_dashboard, organization_id)
                    async with self._app.modify_state(token) as root:
                        (await root.get_state(LiveStats))._apply_dashboard(dashboard)
                    await self._forget_closed_tabs(organization_id)
            except Exception:
                log.exception("live update failed for organization %s", organization_id)

    async def _forget_closed_tabs(self, organization_id: str) -> None:
        """Once per sync, after its end is shown: see links.forget_closed_tabs."""
        from routiq_app.state.workspace_live import LiveChanges, LiveInventory

        shared = (LiveSync, LiveActivity, LiveStats, LiveChanges, LiveInventory)
        closed = await forget_closed_tabs(self._app, organization_id, shared)
        if closed:
            log.info("%d closed tabs unlinked from the live state of %s", closed, organization_id)

    async def close(self) -> None:
        for task in self._flushers.values():
            task.cancel()
        await self._workspace.close()


async def _reap_forever() -> None:
    try:
        from sync_core.engine import reap_stale_syncs
    except ImportError:
        return
    while True:
        try:
            reaped = await asyncio.to_thread(reap_stale_syncs)
            if reaped:
                log.info("marked %d stale syncs as failed", reaped)
        except Exception:
            log.exception("stale-sync reaper failed")
        await asyncio.sleep(REAP_INTERVAL_S)


@contextlib.asynccontextmanager
async def live_updates(app: rx.App):  # type: ignore[no-untyped-def]
    """Lifespan context: event bridge, live push and the stale-sync reaper for this process."""
    try:
        from sync_core.events import get_event_bus
    except ImportError:
        log.warning("sync_core.events is missing: the dashboard will not update live")
        yield
        return
    bus = get_event_bus()
    await bus.start_bridge()
    lease = WriterLease.for_app(app)
    publisher = LivePublisher(app, writes=lambda: lease.held)
    ready = asyncio.Event()

    async def consume() -> None:
        async with bus.subscribe() as events:
            ready.set()
            async for event in events:
                publisher.handle(event.kind, event.organization_id, event.payload, event.at)

    consumer = asyncio.create_task(consume())
    reaper = asyncio.create_task(_reap_forever())
    leasing = asyncio.create_task(lease.run(on_acquired=publisher.take_over))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ready.wait(), timeout=5)
    try:
        yield
    finally:
        for task in (consumer, reaper, leasing):
            task.cancel()
        await lease.release()
        await publisher.close()
        await bus.stop_bridge()
