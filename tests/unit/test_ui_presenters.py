"""The dashboard's wording and progress view, from engine payloads (seed 000/002 contract)."""

from __future__ import annotations

from datetime import UTC, datetime

from routiq_app.live.presenters import (
    activity_entries,
    completion_message,
    is_behind,
    notice_for,
    org_link_token,
    snapshot_from_payload,
    sync_error_message,
)


def _payload(**overrides: object) -> dict:
    meta = {
        "current_step_number": 4,
        "total_steps": 8,
        "current_step": "Fetching patients",
        "progress_percent": 41.5,
        "patients_found": 648,
        "patients_stored": 260,
        "current_page": 3,
        "total_pages": 7,
        "estimated_remaining": "2 minutes",
    }
    meta.update(overrides.pop("metadata", {}))  # type: ignore[arg-type]
    payload = {
        "sync_id": "sync_org_x_20250101_120000",
        "status": "running",
        "mode": "comprehensive",
        "triggered_by": "api",
        "records_processed": 269,
        "records_success": 269,
        "records_failed": 0,
        "metadata": meta,
        "error_type": None,
        "error_details": None,
        "started_at": "2025-01-01T12:00:00Z",
        "completed_at": None,
    }
    payload.update(overrides)
    return payload


def test_link_token_has_no_underscore_and_is_stable() -> None:
    token = org_link_token("org_2xwHiNrj68eaRUlX10anlXGvzX7")
    assert "_" not in token
    assert token == org_link_token("org_2xwHiNrj68eaRUlX10anlXGvzX7")
    assert token != org_link_token("org_other")


def test_error_messages_are_seed_000_wording() -> None:
    assert (
        sync_error_message("CLINIKO_AUTH_FAILED")
        == "Invalid Cliniko credentials. Please check your API settings."
    )
    assert (
        sync_error_message("RATE_LIMITED")
        == "API rate limit exceeded. Please wait a few minutes and try again."
    )
    assert (
        sync_error_message("NETWORK_ERROR")
        == "Network connection issue. Please check your internet connection."
    )
    assert (
        sync_error_message("DATABASE_CONSTRAINT_ERROR")
        == "Database configuration issue. Please contact support."
    )
    assert sync_error_message("boom") == "Sync failed: boom"


def test_completion_wording() -> None:
    assert completion_message(648, 0, 100.0) == "🎉 Perfect sync! All 648 patients updated successfully."
    assert (
        completion_message(640, 8, 98.765) == "Sync completed with 98.8% success rate. 8 patients had issues."
    )


def test_running_snapshot_shows_step_page_and_time_left() -> None:
    at = datetime(2025, 1, 1, 12, 0, 5, tzinfo=UTC)
    snap = snapshot_from_payload(_payload(), at)
    assert (snap.status, snap.percent, snap.processed, snap.found) == ("running", 41.5, 260, 648)
    assert (snap.step_number, snap.total_steps, snap.step_text) == (4, 8, "Fetching patients")
    assert (snap.current_page, snap.total_pages, snap.remaining) == (3, 7, "2 minutes")
    seconds_left = snapshot_from_payload(_payload(metadata={"estimated_remaining": 75}))
    assert seconds_left.remaining == "1m 15s"
    assert snap.event_at == at.isoformat()
    assert notice_for(snap) == ("", "")


def test_failed_snapshot_carries_the_friendly_message() -> None:
    snap = snapshot_from_payload(
        _payload(status="failed", error_type="CLINIKO_AUTH_FAILED", error_details="401")
    )
    assert snap.error_message == "Invalid Cliniko credentials. Please check your API settings."
    assert notice_for(snap) == ("error", snap.error_message)
    assert snap.remaining == ""


def test_completed_snapshot_is_full_and_notifies() -> None:
    snap = snapshot_from_payload(
        _payload(
            status="completed",
            records_processed=648,
            records_success=640,
            records_failed=8,
            metadata={"progress_percent": 99.9, "patients_stored": 640},
        )
    )
    assert snap.percent == 100.0
    assert snap.success_rate == 640 / 648 * 100
    assert notice_for(snap) == ("info", "Sync completed with 98.8% success rate. 8 patients had issues.")


def test_activity_lines_follow_the_sync() -> None:
    first = snapshot_from_payload(_payload(metadata={"current_step_number": 1, "current_page": 0}))
    lines = activity_entries(None, first)
    assert [c for c, _ in lines] == ["sync", "step"]
    assert lines[0][1] == "Sync started (comprehensive, api)"
    fetching = snapshot_from_payload(_payload())
    assert activity_entries(first, fetching) == [
        ("step", "Step 4/8: Fetching patients"),
        ("fetch", "Fetching page 3/7 from Cliniko"),
    ]
    assert activity_entries(fetching, fetching) == []
    # The last page stored, reported with the step that came after it: the page comes first.
    analyzing = snapshot_from_payload(_payload(metadata={"current_step_number": 7, "current_page": 7,
                                                         "current_step": "Analyzing active patients..."}))
    assert [c for c, _ in activity_entries(fetching, analyzing)] == ["fetch", "step"]
    done = snapshot_from_payload(_payload(status="completed", metadata={"patients_stored": 648}))
    assert activity_entries(fetching, done) == [("done", "Sync completed - 648 patients updated")]
    assert notice_for(done) == ("success", "🎉 Perfect sync! All 648 patients updated successfully.")


def test_a_snapshot_is_behind_a_later_event_or_the_end_of_the_same_sync() -> None:
    snap = snapshot_from_payload(_payload(), datetime(2025, 1, 1, 12, 0, 1, tzinfo=UTC))
    later = "2025-01-01T12:00:02+00:00"
    assert is_behind(snap, snap.sync_id, "running", later)
    assert not is_behind(snap, snap.sync_id, "running", "2025-01-01T12:00:00.500000+00:00")
    assert is_behind(snap, snap.sync_id, "completed", "2025-01-01T12:00:00+00:00")  # a sync's end is final
    assert not is_behind(snap, "sync_other", "completed", later)  # another sync always replaces it
    assert not is_behind(snap, snap.sync_id, "running", "")  # shown from the database: no event time
