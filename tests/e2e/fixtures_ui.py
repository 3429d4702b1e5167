"""Helpers for the web-app end-to-end tests: signing in, screenshots, the simulator's runtime knobs."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT, RunningApp

ARTIFACTS = ROOT / "test-results" / "e2e"
SYNC_TIMEOUT_MS = 120_000
# Records every value the progress element shows, as the page renders it (no sampling from the test).
RECORD_PROGRESS_JS = """() => {
  window.__progress = [];
  const read = () => {
    const text = document.querySelector('#sync-progress-percent')?.textContent;
    if (text && window.__progress.at(-1) !== text) window.__progress.push(text);
  };
  new MutationObserver(read).observe(document.body, {subtree: true, childList: true, characterData: true});
  read();
}"""

# pytest-playwright may empty test-results/ during the session: screenshots are staged and copied at the end.
_STAGING = Path(tempfile.mkdtemp(prefix="routiq-e2e-shots-"))


def read_sse(url: str, token: str, events: list[tuple[str, dict]]) -> None:
    """Appends the (event, data) pairs of a sync's SSE stream until the server ends it."""
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as response:
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((kind, orjson.loads(line.split(":", 1)[1])))


def assert_followed_live(page: Page, events: list[tuple[str, dict]]) -> None:
    """The SSE client and the page (recording with RECORD_PROGRESS_JS) both followed a sync live: through
    intermediate values, never backwards, to its completed end."""
    progress = [e["progress_percentage"] for kind, e in events if kind == "progress"]
    assert events[-1][0] == "finished" and events[-1][1]["status"] == "completed", events[-3:]
    assert progress == sorted(progress)
    assert len({p for p in progress if 0 < p < 100}) >= 3, progress

    expect(page.locator("#sync-progress-percent")).to_have_text("100%", timeout=30_000)
    expect(page.locator("#sync-status")).to_contain_text("ompleted", timeout=30_000)
    shown = [float(v.rstrip("%")) for v in page.evaluate("window.__progress")]
    intermediate = [v for v in shown if 0 < v < 100]
    assert len(intermediate) >= 3, shown
    assert intermediate == sorted(intermediate)


def screenshot(page: Page, name: str) -> Path:
    """Keeps a full-page screenshot as a test artifact (test-results/e2e/NAME.png)."""
    path = _STAGING / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def keep_screenshots() -> Iterator[None]:
    yield
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for shot in _STAGING.glob("*.png"):
        shutil.copy(shot, ARTIFACTS / shot.name)


def login(page: Page, app: RunningApp, email: str | None = None, password: str | None = None) -> None:
    page.goto(app.base_url + "/login")
    page.get_by_label("Email").fill(email or app.admin_email)
    page.get_by_label("Password").fill(password or app.admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(app.base_url) + r"/?$"), timeout=30_000)
    expect(page.locator("#stat-total-patients")).to_be_visible(timeout=30_000)


def simulator_config(app: RunningApp, **values: object) -> dict:
    """Changes the demo simulator at runtime (latency_ms, fault_rate, ...); returns the new settings."""
    response = httpx.post(f"{app.base_url}/_simulator/_control/config", json=values, timeout=10)
    response.raise_for_status()
    return response.json()


def wait_until_idle(page: Page) -> None:
    """The previous test's sync must be over before the next one starts (one sync per clinic)."""
    expect(page.locator("#start-sync-button")).to_be_enabled(timeout=SYNC_TIMEOUT_MS)


@pytest.fixture
def admin_page(app_server: RunningApp, page: Page) -> Page:
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, app_server)
    return page


@pytest.fixture
def two_admin_pages(app_server: RunningApp, browser: Browser) -> Iterator[tuple[Page, Page]]:
    """Two separate browser contexts (two staff sessions) on the dashboard."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    for p in pages:
        login(p, app_server)
    yield pages[0], pages[1]
    for context in contexts:
        context.close()


@pytest.fixture
def slow_simulator(app_server: RunningApp) -> Iterator[None]:
    """Slows the demo clinic down so a sync lasts long enough to watch and cancel."""
    before = simulator_config(app_server)
    simulator_config(app_server, latency_ms=1000)
    yield
    simulator_config(app_server, latency_ms=before["latency_ms"])
