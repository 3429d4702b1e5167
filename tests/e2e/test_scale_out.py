"""Scale-out: two app processes, each with two backend workers, sharing PostgreSQL and Redis (as on two
machines). A sync started through process A streams live to a browser and an SSE client of process B.

What makes it cross over: the engine's events reach every worker over PostgreSQL LISTEN/NOTIFY; one
worker of the deployment (the lease holder, live/writer.py) writes the organization's shared states in
Redis; Reflex relays each linked tab's delta to the worker that owns the tab's socket ("lost and found").
The test checks that the writing worker is in process A; the browser's socket is in B (it connects to B's
port), so every value pushed to it crossed from one process to the other.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import psutil
import pytest
import redis
from playwright.sync_api import Page, expect

from routiq_app.live.writer import LEASE_KEY
from tests.e2e.conftest import RunningApp, start_app
from tests.e2e.fixtures_ui import RECORD_PROGRESS_JS, assert_followed_live, login, read_sse, screenshot
from tests.fixtures.database import create_postgres_database, drop_postgres_database
from tests.fixtures.redis_db import redis_database

WORKERS = "2"


@dataclass(frozen=True)
class Deployment:
    a: RunningApp
    b: RunningApp
    redis_url: str


@contextmanager
def _deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    database_url = create_postgres_database("routiq_e2e")
    try:
        with redis_database() as redis_url:
            shared = {
                "DATABASE_URL": database_url,
                "REFLEX_REDIS_URL": redis_url,
                "GRANIAN_WORKERS": WORKERS,
                "ROUTIQ_DEMO_LATENCY_MS": "300",  # a sync of a few seconds: enough values to watch
            }
            with start_app(tmp_path_factory.mktemp("scale-out-a"), **shared) as a:
                login_of_a = (a.admin_email, a.admin_password)
                with start_app(tmp_path_factory.mktemp("scale-out-b"), login=login_of_a, **shared) as b:
                    yield Deployment(a=a, b=b, redis_url=redis_url)
    finally:
        drop_postgres_database(database_url)


@pytest.fixture
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A deployment per test (never two at once on a small machine)."""
    with _deployment(tmp_path_factory) as running:
        yield running


def _pids(app: RunningApp) -> set[int]:
    """The app's supervisor and its workers."""
    root = psutil.Process(app.pid)
    return {root.pid, *(p.pid for p in root.children(recursive=True))}


def _writer_pid(client: redis.Redis) -> int:
    owner = client.get(LEASE_KEY)
    assert owner, "no worker holds the live-writer lease"
    return int(owner.decode().split(":")[1])  # host:pid:nonce


def _socket_owners(client: redis.Redis) -> set[str]:
    """Reflex's ids of the workers that hold open sockets (RedisTokenManager's records)."""
    return {
        pickle.loads(client.get(key)).instance_id for key in client.scan_iter("token_manager_socket_record_*")
    }


def test_a_sync_started_through_one_process_streams_live_to_browser_and_sse_of_the_other(
    deployment: Deployment, page: Page
) -> None:
    a, b = deployment.a, deployment.b
    client = redis.Redis.from_url(deployment.redis_url)
    # The first process took the lease at its start; B only follows. So B's tabs get nothing from B itself.
    assert _writer_pid(client) in _pids(a)

    token = a.routiq("token", "create", a.org_id)
    login(page, b)
    page.evaluate(RECORD_PROGRESS_JS)
    assert _socket_owners(client), "the browser's socket is not in Redis: no worker could reach it"

    response = httpx.post(
        f"{a.base_url}/api/v1/sync/start/{a.org_id}",
        params={"sync_mode": "comprehensive"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code in (200, 202), response.text
    sync_id = response.json()["sync_id"]
    events: list[tuple[str, dict]] = []
    reader = threading.Thread(
        target=read_sse, args=(f"{b.base_url}/api/v1/sync/stream/{sync_id}", token, events)
    )
    reader.start()
    reader.join(timeout=120)
    assert not reader.is_alive(), "the SSE stream of B did not finish"

    # SSE and the browser on B: A's progress, live, in order, never backwards, to the end.
    assert_followed_live(page, events)
    # One writer for the deployment: each activity line once, not once per worker.
    log = page.locator("#activity-log")
    expect(log).to_contain_text("Sync completed", timeout=30_000)
    lines = log.inner_text()
    assert lines.count("Sync started") == 1 and lines.count("Sync completed") == 1, lines
    screenshot(page, "scale-out-sync")


def test_when_the_writing_process_dies_another_takes_over(deployment: Deployment, page: Page) -> None:
    a, b = deployment.a, deployment.b
    client = redis.Redis.from_url(deployment.redis_url)
    assert _writer_pid(client) in _pids(a)
    login(page, b)
    page.evaluate(RECORD_PROGRESS_JS)

    # The sync runs in a process of its own (`routiq sync`), so killing A does not stop it.
    cli = b.sync_in_background()
    # A wrote the first values to B's page; then A dies without handing the lease back.
    page.wait_for_function(
        "() => window.__progress.some(v => 0 < parseFloat(v) && parseFloat(v) < 100)", timeout=60_000
    )
    os.killpg(a.pid, signal.SIGKILL)
    output, _ = cli.communicate(timeout=180)
    assert cli.returncode == 0, output

    # A worker of B takes the lease once A's expires and writes the latest state it saw: the end.
    expect(page.locator("#sync-status")).to_contain_text("ompleted", timeout=30_000)
    expect(page.locator("#sync-progress-percent")).to_have_text("100%")
    shown = [float(v.rstrip("%")) for v in page.evaluate("window.__progress")]
    intermediate = [v for v in shown if 0 < v < 100]
    assert intermediate and intermediate == sorted(intermediate), shown  # never backwards, handover included
    assert _writer_pid(client) in _pids(b)
    screenshot(page, "scale-out-takeover")
