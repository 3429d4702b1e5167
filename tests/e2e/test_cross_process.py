"""Two processes, one PostgreSQL: a sync run by `routiq sync` in its own process streams live to a browser
and to an SSE client of the web app (the events cross over PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page
from sqlmodel import col, select

from sync_core.db import get_engine
from sync_core.models import ACTIVE_SYNC_STATUSES, SyncLog
from tests.e2e.conftest import RunningApp, start_app
from tests.e2e.fixtures_ui import RECORD_PROGRESS_JS, assert_followed_live, login, read_sse, screenshot
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


def test_a_sync_in_another_process_streams_live_to_browser_and_sse(pg_app: RunningApp, page: Page) -> None:
    token = pg_app.routiq("token", "create", pg_app.org_id)
    login(page, pg_app)
    page.evaluate(RECORD_PROGRESS_JS)

    cli = pg_app.sync_in_background()
    sync_id = _running_sync_id(pg_app)
    events: list[tuple[str, dict]] = []
    reader = threading.Thread(
        target=read_sse, args=(f"{pg_app.base_url}/api/v1/sync/stream/{sync_id}", token, events)
    )
    reader.start()
    output, _ = cli.communicate(timeout=180)
    reader.join(timeout=60)
    assert cli.returncode == 0, output

    # SSE and the dashboard: progress from the other process, live, in order, to the end.
    assert_followed_live(page, events)
    screenshot(page, "cross-process-sync")

