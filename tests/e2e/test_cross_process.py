"""Two processes, one PostgreSQL: a sync run by `routiq sync` in its own process streams live to a browser
and to an SSE client of the web app (the events cross over PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from sync_core.db import get_engine
from sync_core.models import ACTIVE_SYNC_STATUSES, SyncLog
from tests.e2e.conftest import RunningApp, start_app
from tests.e2e.fixtures_ui import RECORD_PROGRESS_JS, login, screenshot
from tests.fixtures.database import create_postgres_database, drop_postgres_database


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    database_url = create_postgres_database("routiq_e2e")
    try:
        with start_app(
            tmp_path_factory.mktemp("pg-app"), DATABASE_URL=database_url, ROUTIQ_DEMO_LATENCY_MS="300"
        ) as app:
            yield app
    finally:
        drop_postgres_database(database_url)


def _running_sync_id(app: RunningApp, deadline_s: float = 30) -> str:
    """The sync the other process started, once its row exists (polled with a deadline)."""
    engine = get_engine(app.database_url)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            sync_id = conn.execute(
                select(SyncLog.sync_id).where(
                    SyncLog.organization_id == app.org_id, col(SyncLog.status).in_(ACTIVE_SYNC_STATUSES)
                )
            ).scalar()
        if sync_id:
            return sync_id
        time.sleep(0.02)
    raise AssertionError("the CLI's sync never appeared as running")


def _read_stream(url: str, token: str, events: list[tuple[str, dict]]) -> None:
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as response:
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((kind, orjson.loads(line.split(":", 1)[1])))


def test_a_sync_in_another_process_streams_live_to_browser_and_sse(pg_app: RunningApp, page: Page) -> None:
    token = pg_app.routiq("token", "create", pg_app.org_id)
    login(page, pg_app)
    page.evaluate(RECORD_PROGRESS_JS)

    cli = pg_app.sync_in_background()
    sync_id = _running_sync_id(pg_app)
    events: list[tuple[str, dict]] = []
    reader = threading.Thread(
        target=_read_stream, args=(f"{pg_app.base_url}/api/v1/sync/stream/{sync_id}", token, events)
    )
    reader.start()
    output, _ = cli.communicate(timeout=180)
    reader.join(timeout=60)
    assert cli.returncode == 0, output

    # SSE: progress from the other process, in order, then the final event.
    progress = [e["progress_percentage"] for kind, e in events if kind == "progress"]
    assert events[-1][0] == "finished" and events[-1][1]["status"] == "completed"
    assert progress == sorted(progress)
    assert len({p for p in progress if 0 < p < 100}) >= 3, progress

    # Browser: the dashboard followed it live through intermediate values up to 100 %.
    expect(page.locator("#sync-progress-percent")).to_have_text("100%", timeout=30_000)
    expect(page.locator("#sync-status")).to_contain_text("ompleted", timeout=30_000)
    shown = [float(v.rstrip("%")) for v in page.evaluate("window.__progress")]
    intermediate = [v for v in shown if 0 < v < 100]
    assert len(intermediate) >= 3, shown
    assert intermediate == sorted(intermediate)
    screenshot(page, "cross-process-sync")

