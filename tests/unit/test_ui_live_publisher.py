"""The live publisher coalesces engine events per organization (latest wins) before touching Reflex state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from routiq_app.live import bridge
from routiq_app.live.loaders import DashboardSnapshot
from routiq_app.live.presenters import SyncSnapshot, org_link_token


class _RecordingLive:
    """Plays LiveSync, LiveActivity and LiveStats at once (the publisher only calls their helpers)."""

    def __init__(self) -> None:
        self.snapshots: list[SyncSnapshot] = []
        self.activity: list[tuple[str, str]] = []
        self.dashboards: list[DashboardSnapshot] = []

    def _apply_snapshot(self, snap: SyncSnapshot) -> None:
        self.snapshots.append(snap)

    def _add_activity(self, at: str, lines: list[tuple[str, str]]) -> None:
        self.activity.extend(lines)

    def _apply_dashboard(self, snap: DashboardSnapshot) -> None:
        self.dashboards.append(snap)


class _FakeApp:
    """Stands in for rx.App.modify_state; the first write blocks until released, like a busy socket."""

    def __init__(self) -> None:
        self.live = _RecordingLive()
        self.tokens: list[str] = []
        self.release = asyncio.Event()
        self.writes = 0

    @contextlib.asynccontextmanager
    async def modify_state(self, token: Any) -> AsyncIterator[Any]:
        self.tokens.append(token.ident)
        self.writes += 1
        if self.writes == 1:
            await self.release.wait()
        live = self.live

        class _Root:
            async def get_state(self, _cls: type) -> _RecordingLive:
                return live

        yield _Root()


def _payload(percent: float, status: str = "running", page: int = 1) -> dict[str, Any]:
    return {
        "sync_id": "sync_org_a_20250101_120000",
        "status": status,
        "mode": "comprehensive",
        "triggered_by": "api",
        "records_processed": 10,
        "records_success": 10,
        "records_failed": 0,
        "metadata": {
            "progress_percent": percent,
            "current_step_number": 4,
            "current_page": page,
            "total_pages": 9,
        },
    }


async def _until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0)


@pytest.fixture
def no_db(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    loaded: list[str] = []

    def fake_load(org: str) -> DashboardSnapshot:
        loaded.append(org)
        return DashboardSnapshot(sync=None, stats={}, chart=[])

    monkeypatch.setattr(bridge, "load_dashboard", fake_load)
    return loaded


async def test_bursts_are_coalesced_latest_wins(no_db: list[str]) -> None:
    app = _FakeApp()
    publisher = bridge.LivePublisher(app)  # type: ignore[arg-type]
    at = datetime(2025, 1, 1, tzinfo=UTC)
    publisher.handle("sync.progress", "org_a", _payload(10.0, page=1), at)
    await _until(lambda: app.writes == 1)  # the first write is in flight (blocked)
    for page, percent in enumerate((20.0, 30.0, 40.0), start=2):
        publisher.handle("sync.progress", "org_a", _payload(percent, page=page), at)
    changed = {"table": "patients", "ids": ["1"], "action": "upsert"}
    assert publisher.handle("data.changed", "org_a", changed, at) is False  # stats wait for the end
    app.release.set()
    await _until(lambda: len(app.live.snapshots) == 2)

    assert [s.percent for s in app.live.snapshots] == [10.0, 40.0]  # 20 and 30 were superseded
    assert app.writes == 2
    fetch_lines = [m for c, m in app.live.activity if c == "fetch"]
    assert fetch_lines == [f"Fetching page {n}/9 from Cliniko" for n in (1, 2, 3, 4)]  # no line is lost
    assert set(app.tokens) == {org_link_token("org_a")}
    assert no_db == []  # stats are re-read only when a sync ends


async def test_final_event_refreshes_stats_and_late_progress_is_ignored(no_db: list[str]) -> None:
    app = _FakeApp()
    app.release.set()
    publisher = bridge.LivePublisher(app)  # type: ignore[arg-type]
    publisher.handle("sync.finished", "org_a", _payload(100.0, status="completed"), None)
    await _until(lambda: len(app.live.dashboards) == 1)
    assert publisher.handle("sync.progress", "org_a", _payload(50.0), None) is False
    assert publisher.handle("sync.unknown", "org_a", {}, None) is False
    assert [s.status for s in app.live.snapshots] == ["completed"]
    assert no_db == ["org_a"]


async def test_a_worker_that_is_not_the_writer_follows_events_and_writes_them_when_it_takes_over(
    no_db: list[str],
) -> None:
    app = _FakeApp()
    app.release.set()
    writer = False
    publisher = bridge.LivePublisher(app, writes=lambda: writer)  # type: ignore[arg-type]
    at = datetime(2025, 1, 1, tzinfo=UTC)
    for page, percent in enumerate((10.0, 20.0), start=1):
        assert publisher.handle("sync.progress", "org_a", _payload(percent, page=page), at) is False
    assert app.writes == 0  # another worker writes the shared state

    writer = True
    publisher.take_over()
    await _until(lambda: len(app.live.snapshots) == 1)
    assert [s.percent for s in app.live.snapshots] == [20.0]  # the latest state seen, nothing older
    assert app.live.activity == []  # the lines were the previous writer's to write
    publisher.handle("sync.finished", "org_a", _payload(100.0, status="completed", page=2), at)
    await _until(lambda: len(app.live.dashboards) == 1)
    assert [c for c, _ in app.live.activity] == ["done"]  # from here on it writes everything
