"""The app as the run command starts it (scripts/serve.sh), for end-to-end tests and benchmarks.

Each start gets its own port, database, .web build directory and log, so a developer's running app is
untouched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STARTUP_TIMEOUT_S = 420


@dataclass(frozen=True)
class RunningApp:
    base_url: str
    database_url: str
    org_id: str
    admin_email: str
    admin_password: str
    log_path: Path
    env: dict[str, str]
    pid: int  # the process group: serve.sh/reflex and its workers

    def routiq(self, *args: str, input: str | None = None) -> str:
        """Runs the `routiq` CLI against this app's database and returns its standard output."""
        result = subprocess.run(
            [str(ROOT / ".venv/bin/routiq"), *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return result.stdout.strip()

    def sync_in_background(self, mode: str = "comprehensive") -> subprocess.Popen[str]:
        """A `routiq sync` of the demo clinic in a process of its own (its output on stdout)."""
        return subprocess.Popen(
            [str(ROOT / ".venv/bin/routiq"), "sync", self.org_id, "--mode", mode],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def _spawn(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A server in a process group of its own (so it stops with its workers), output in `log_path`."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(
    proc: subprocess.Popen[bytes], base_url: str, log_path: Path, page: str = "/"
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"The app exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if (
                httpx.get(base_url + "/ping", timeout=2).status_code == 200
                and httpx.get(base_url + page, timeout=5).status_code == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # polling a starting server process, not standing in for a condition
    raise RuntimeError(f"The app did not serve within {STARTUP_TIMEOUT_S}s:\n{log_path.read_text()[-4000:]}")


def _app_env(work: Path, port: int, overrides: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{work / 'routiq.db'}",
        "ROUTIQ_SECRET_KEY": "e2e-secret-key",
        "ROUTIQ_DEMO_LATENCY_MS": os.environ.get("E2E_DEMO_LATENCY_MS", "60"),
        "REFLEX_WEB_WORKDIR": str(work / ".web"),
        "REFLEX_STATES_WORKDIR": str(work / ".states"),
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }
    if "REFLEX_REDIS_URL" not in overrides:
        env.pop("REFLEX_REDIS_URL", None)
    return env


def _stop(proc: subprocess.Popen[bytes], work: Path, log_path: Path) -> None:
    """Stops the whole process group (supervisor and workers) and keeps the log in test-results/e2e/."""
    with contextlib.suppress(ProcessLookupError):  # a test may have killed it already
        os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
    artifacts = ROOT / "test-results" / "e2e"
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copy(log_path, artifacts / f"{work.name}.log")


@contextmanager
def start_app(
    work: Path, port: int | None = None, *, login: tuple[str, str] | None = None, **env_overrides: str
) -> Iterator[RunningApp]:
    """The app as scripts/serve.sh (the run command) starts it, on a free port with its own database,
    build directory and log; stopped (and its log kept in test-results/e2e/) on exit.

    `login` is the demo admin's (email, password) when another process created the demo clinic in this
    database already (only the first start prints it)."""
    port = port or _free_port()
    env = _app_env(work, port, env_overrides)
    log_path = work / "app.log"
    proc = _spawn([str(ROOT / "scripts/serve.sh")], env, log_path)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(proc, base_url, log_path)
        if login is None:
            match = re.search(r"as (\S+) with password: (\S+)", log_path.read_text())
            assert match, "the first start must print how to log in"
            login = (match.group(1), match.group(2))
        yield RunningApp(
            base_url=base_url,
            database_url=env["DATABASE_URL"],
            org_id="org_2xwHiNrj68eaRUlX10anlXGvzX7",
            admin_email=login[0],
            admin_password=login[1],
            log_path=log_path,
            env=env,
            pid=proc.pid,
        )
    finally:
        _stop(proc, work, log_path)


@contextmanager
def start_backend(work: Path, **env_overrides: str) -> Iterator[RunningApp]:
    """An app process without the compiled frontend (`reflex run --env prod --backend-only`), for tests
    that need app processes (lifespan tasks, REST) but no browser: migrations as serve.sh applies them, no
    demo clinic unless ROUTIQ_DEMO_CLINIC says so, then the same server."""
    port = _free_port()
    env = _app_env(work, port, {"ROUTIQ_DEMO_CLINIC": "false", **env_overrides})
    env["PATH"] = f"{ROOT / '.tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{env.get('PATH', '')}"
    env.update(REFLEX_USE_SYSTEM_BUN="1", REFLEX_TELEMETRY_ENABLED="false")
    subprocess.run(
        [str(ROOT / ".venv/bin/routiq"), "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    log_path = work / "app.log"
    command = [str(ROOT / ".venv/bin/reflex"), "run", "--env", "prod", "--backend-only", "--backend-port",
               str(port)]
    proc = _spawn(command, env, log_path)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(proc, base_url, log_path, page="/ping")
        yield RunningApp(
            base_url=base_url,
            database_url=env["DATABASE_URL"],
            org_id="",
            admin_email="",
            admin_password="",
            log_path=log_path,
            env=env,
            pid=proc.pid,
        )
    finally:
        _stop(proc, work, log_path)
