"""Pure functions turning engine payloads (`sync_log_dict`) into what the pages show.

No Reflex, no database: unit-testable, and the single place where the seeds' wording lives.
Only sanitized values leave here (ids, counts, statuses): never names, emails or phones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

ACTIVE_STATUSES = ("starting", "running")
FINAL_STATUSES = ("completed", "failed", "cancelled")
TOTAL_STEPS = 8
LAST_FETCH_STEP = 6  # seed 002's "Loading Types": the last step in which pages are stored

# Seed 002's eight steps, used when the engine sends a step number without a description.
STEP_NAMES = {
    1: "Initializing",
    2: "Checking config",
    3: "Checking credentials",
    4: "Fetching patients",
    5: "Fetching appointments",
    6: "Loading types",
    7: "Analyzing",
    8: "Storing",
}

# Seed 000's getSyncErrorMessage, verbatim.
_ERROR_MESSAGES = {
    "CLINIKO_AUTH_FAILED": "Invalid Cliniko credentials. Please check your API settings.",
    "DATABASE_CONSTRAINT_ERROR": "Database configuration issue. Please contact support.",
    "RATE_LIMITED": "API rate limit exceeded. Please wait a few minutes and try again.",
    "NETWORK_ERROR": "Network connection issue. Please check your internet connection.",
}


def org_link_token(organization_id: str) -> str:
    """The SharedState link token for an organization (Reflex forbids '_' in link tokens)."""
    return "org-" + organization_id.replace("_", "").lower()


def sync_error_message(error: str | None) -> str:
    """Seed 000's `getSyncErrorMessage`: matches the error type anywhere in the text, like the seed."""
    text = error or ""
    for error_type, message in _ERROR_MESSAGES.items():
        if error_type in text:
            return message
    return f"Sync failed: {text}"


def completion_message(patients_updated: int, records_failed: int, success_rate: float) -> str:
    """Seed 000's completion notification wording."""
    if records_failed > 0:
        return f"Sync completed with {success_rate:.1f}% success rate. {records_failed} patients had issues."
    return f"🎉 Perfect sync! All {patients_updated} patients updated successfully."


def success_rate(records_success: int, records_processed: int) -> float:
    return records_success / records_processed * 100 if records_processed else 100.0


@dataclass
class SyncSnapshot:
    """The sanitized state of one sync, as every open dashboard shows it."""

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
    success_rate: float = 100.0
    step_number: int = 0
    total_steps: int = TOTAL_STEPS
    step_text: str = ""
    current_page: int = 0
    total_pages: int = 0
    remaining: str = ""
    error_type: str = ""
    error_message: str = ""
    started_at: str = ""
    completed_at: str = ""
    event_at: str = ""  # when the engine published this state (ISO, for the latency benchmark)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")


def _remaining_text(meta: dict[str, Any]) -> str:
    remaining = meta.get("estimated_remaining")
    if remaining in (None, ""):
        return ""
    if isinstance(remaining, int | float):
        seconds = max(0, round(remaining))
        return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
    return str(remaining)


def snapshot_from_payload(payload: dict[str, Any], event_at: datetime | None = None) -> SyncSnapshot:
    """Builds the snapshot from a `sync_log_dict` payload (seed 001 names + seed 002 step model)."""
    meta = payload.get("metadata") or {}
    status = str(payload.get("status") or "idle")
    records_processed = _int(payload.get("records_processed"))
    # "X / Y patients": the engine counts patients apart from the other records it stores.
    processed = _int(meta["patients_stored"]) if "patients_stored" in meta else records_processed
    found = _int(meta["patients_found"]) if "patients_found" in meta else processed
    records_success = _int(payload.get("records_success"))
    rate = meta.get("success_rate")
    percent = _float(meta.get("progress_percent"))
    if status == "completed":
        percent = 100.0
    step_number = _int(meta.get("current_step_number"))
    step_text = str(meta.get("current_step") or meta.get("step_name") or STEP_NAMES.get(step_number, ""))
    error_type = str(payload.get("error_type") or meta.get("error_type") or "")
    error_message = ""
    if status == "failed":
        error_message = sync_error_message(error_type or str(payload.get("error_details") or ""))
    return SyncSnapshot(
        sync_id=str(payload.get("sync_id") or ""),
        status=status,
        status_detail=str(meta.get("status_detail") or status),
        mode=str(payload.get("mode") or payload.get("operation_type") or ""),
        triggered_by=str(payload.get("triggered_by") or ""),
        percent=round(min(100.0, max(0.0, percent)), 1),
        processed=processed,
        found=max(found, processed),
        records_success=records_success,
        records_failed=_int(payload.get("records_failed")),
        success_rate=_float(rate) if rate is not None else success_rate(records_success, records_processed),
        step_number=step_number,
        total_steps=_int(meta.get("total_steps")) or TOTAL_STEPS,
        step_text=step_text,
        current_page=_int(meta.get("current_page")),
        total_pages=_int(meta.get("total_pages")),
        remaining=_remaining_text(meta) if status in ACTIVE_STATUSES else "",
        error_type=error_type,
        error_message=error_message,
        started_at=_iso(payload.get("started_at")),
        completed_at=_iso(payload.get("completed_at")),
        event_at=_iso(event_at),
        errors=[str(e) for e in (meta.get("errors") or [])][:20],
    )


def is_behind(snapshot: SyncSnapshot, sync_id: str, status: str, event_at: str) -> bool:
    """True when what is shown (sync_id, status, event_at) is already past `snapshot`: a later event of the
    same sync, or its end. Snapshots read from the database carry no event time and are never behind."""
    if snapshot.sync_id != sync_id or not (snapshot.event_at and event_at):
        return False
    if status in FINAL_STATUSES:
        return True
    return datetime.fromisoformat(snapshot.event_at) < datetime.fromisoformat(event_at)


def notice_for(snapshot: SyncSnapshot) -> tuple[str, str]:
    """(kind, text) of the notification shown when a sync ends; kind is success, info, error or ''."""
    if snapshot.status == "completed":
        kind = "info" if snapshot.records_failed > 0 else "success"
        return kind, completion_message(snapshot.processed, snapshot.records_failed, snapshot.success_rate)
    if snapshot.status == "failed":
        return "error", snapshot.error_message or sync_error_message(snapshot.error_type)
    if snapshot.status == "cancelled":
        return "info", "Sync cancelled."
    return "", ""


def activity_entries(previous: SyncSnapshot | None, current: SyncSnapshot) -> list[tuple[str, str]]:
    """The (category, message) lines the live activity log gains between two snapshots."""
    lines: list[tuple[str, str]] = []
    same_sync = previous is not None and previous.sync_id == current.sync_id
    if not same_sync:
        who = f", {current.triggered_by}" if current.triggered_by else ""
        lines.append(("sync", f"Sync started ({current.mode or 'sync'}{who})"))
    step: list[tuple[str, str]] = []
    if current.step_number and (not same_sync or previous.step_number != current.step_number):  # type: ignore[union-attr]
        step.append(("step", f"Step {current.step_number}/{current.total_steps}: {current.step_text}"))
    page: list[tuple[str, str]] = []
    page_moved = not same_sync or previous.current_page != current.current_page  # type: ignore[union-attr]
    if current.total_pages and current.current_page and page_moved and current.status in ACTIVE_STATUSES:
        page.append(("fetch", f"Fetching page {current.current_page}/{current.total_pages} from Cliniko"))
    # A page reported with a step past the fetching was stored before that step began.
    lines += page + step if current.step_number > LAST_FETCH_STEP else step + page
    if current.status in FINAL_STATUSES and (not same_sync or previous.status != current.status):  # type: ignore[union-attr]
        if current.status == "completed":
            lines.append(("done", f"Sync completed - {current.processed} patients updated"))
        elif current.status == "failed":
            lines.append(("error", f"{current.error_message or 'Sync failed'}"))
        else:
            lines.append(("info", "Sync cancelled"))
    return lines
