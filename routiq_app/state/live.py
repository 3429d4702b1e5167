"""The live state every staff page of an organization shares (rx.SharedState, linked per organization).

The lifespan bridge (routiq_app/live/bridge.py) writes it from engine events; Reflex pushes each change
over the websocket to every linked tab. It holds sanitized progress and aggregates only, never PHI,
because every linked browser receives all of it. There are no public handlers: linking happens in
AuthState.require_login after the session is validated.

Three small states rather than one, because the browser re-renders everything bound to a state when any
of its fields changes: progress moves many times a second, the activity log now and then, the stat cards
and the chart once per sync. All of them (and the workspace's) share the organization's one link token;
LinkedUnderOneLock makes that work with Redis (routiq_app/live/links.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from routiq_app.live.links import LinkedUnderOneLock
from routiq_app.live.loaders import DashboardSnapshot
from routiq_app.live.presenters import ACTIVE_STATUSES, SyncSnapshot, is_behind, notice_for

MAX_ACTIVITY = 60


@dataclass
class ActivityEntry:
    seq: int
    at: str  # ISO time, shown in the browser's time zone
    category: str
    message: str


class LiveSync(LinkedUnderOneLock, rx.SharedState):
    """The current (or last) sync's progress."""

    sync_id: str = ""
    status: str = "idle"
    status_detail: str = ""
    mode: str = ""
    triggered_by: str = ""
    percent: float = 0.0
    processed: int = 0
    found: int = 0
    records_success: int = 0
    records_failed: int = 0
    step_number: int = 0
    total_steps: int = 8
    step_text: str = ""
    current_page: int = 0
    total_pages: int = 0
    remaining: str = ""
    error_type: str = ""
    error_message: str = ""
    started_at: str = ""
    event_at: str = ""
    notice_kind: str = ""
    notice_text: str = ""

    @rx.var
    def is_running(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @rx.var
    def bar_color(self) -> str:
        """Seed 002: blue while running, green when completed, red on failure."""
        return {"completed": "green", "failed": "red", "cancelled": "gray"}.get(self.status, "blue")

    @rx.var
    def progress_text(self) -> str:
        return f"{self.processed} / {self.found} patients ({self.percent:.1f}%)"

    @rx.var
    def percent_text(self) -> str:
        return f"{self.percent:.0f}%"

    def _apply_snapshot(self, snap: SyncSnapshot) -> None:
        # A worker taking over as the writer (live/writer.py) rewrites the latest state it saw, which may
        # be older than what is shown already.
        if is_behind(snap, self.sync_id, self.status, self.event_at):
            return
        new_sync = snap.sync_id != self.sync_id
        for name, value in snap.as_dict().items():
            if name != "errors" and hasattr(self, name) and getattr(self, name) != value:
                setattr(self, name, value)
        kind, text = notice_for(snap)
        if kind or new_sync:
            self.notice_kind, self.notice_text = kind, text


class LiveActivity(LinkedUnderOneLock, rx.SharedState):
    """The live activity log (newest last; each tab hides what it cleared by sequence number)."""

    activity: list[ActivityEntry] = []
    activity_seq: int = 0

    def _add_activity(self, at: str, lines: list[tuple[str, str]]) -> None:
        entries = list(self.activity)
        for category, message in lines:
            self.activity_seq += 1
            entries.append(ActivityEntry(seq=self.activity_seq, at=at, category=category, message=message))
        self.activity = entries[-MAX_ACTIVITY:]


class LiveStats(LinkedUnderOneLock, rx.SharedState):
    """Stat cards and the recent-syncs chart: re-read from the database when a sync ends."""

    total_patients: int = 0
    active_patients: int = 0
    patients_with_upcoming: int = 0
    patients_with_recent: int = 0
    last_sync_time: str = ""
    consecutive_failures: int = 0
    schedule_paused_reason: str = ""
    chart: list[dict[str, Any]] = []
    loaded: bool = False

    def _apply_dashboard(self, snap: DashboardSnapshot) -> None:
        if snap.stats:
            self.loaded = True
            self.total_patients = snap.stats["total_patients"]
            self.active_patients = snap.stats["active_patients"]
            self.patients_with_upcoming = snap.stats["patients_with_upcoming"]
            self.patients_with_recent = snap.stats["patients_with_recent"]
            self.last_sync_time = snap.stats["last_sync_time"]
            self.consecutive_failures = snap.stats["consecutive_failures"]
            self.schedule_paused_reason = snap.stats["schedule_paused_reason"]
        self.chart = snap.chart
