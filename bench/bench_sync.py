"""Sync engine benchmarks: print figures (a benchmark, not a test). See bench/README.md.

    .venv/bin/python bench/bench_sync.py seed              # 648/1,247 clinic, 250 ms ±50 %, 200 req/min
    .venv/bin/python bench/bench_sync.py large --sizes 10000,100000   # + incremental after 100 changes
    .venv/bin/python bench/bench_sync.py ratelimit         # 20 requests per 6 s: time over the minimum
    UV_COMPILE_BYTECODE=1 uv run --group bench python bench/bench_sync.py peer   # dlt rest_api side by side
    .venv/bin/python bench/bench_sync.py all

Every sync runs in its own child process (so peak memory is that sync's alone) against a simulator in
another process, into a fresh PostgreSQL database that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx
import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PORTS = range(17150, 17199)  # this engineer's manual-run port range
API_KEY = "bench-simulator-key-au1"
UNLIMITED = 10_000_000  # requests per minute: no client-side throttling
console = Console(width=170)


# ----------------------------------------------------------------------------------------------------------
# Infrastructure: databases, simulator processes, child sync processes
# ----------------------------------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"routiq_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        from sync_core import migrations

        migrations.upgrade(url)
        yield url
    finally:
        from sync_core.db import get_engine

        get_engine.cache_clear()
        with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 17150-17198")


@dataclass
class Simulator:
    process: subprocess.Popen[bytes]
    root: str

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.root}/_control/stats", timeout=30).json()

    def changes(self, **counts: int) -> dict[str, list[str]]:
        return httpx.post(f"{self.root}/_control/changes", json=counts, timeout=60).json()


@contextlib.contextmanager
def simulator(patients: int, appointments: int, *, latency_ms: float = 0, jitter: float = 0,
              rate_limit: int | None = None, window: float = 60.0) -> Iterator[Simulator]:
    port = free_port()
    args = [sys.executable, "-m", "sync_core", "simulator", "--port", str(port), "--patients", str(patients),
            "--appointments", str(appointments), "--latency-ms", str(latency_ms), "--latency-jitter",
            str(jitter), "--rate-window", str(window), "--api-key", API_KEY]
    if rate_limit:
        args += ["--rate-limit", str(rate_limit)]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    sim = Simulator(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 600  # generating 100,000 patients takes a while
        while True:
            try:
                sim.stats()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.2)
        yield sim
    finally:
        process.terminate()
        process.wait(timeout=30)


def make_org(db_url: str, sim: Simulator) -> str:
    from sync_core import accounts
    from sync_core.db import session_scope

    with session_scope(db_url) as session:
        org = accounts.create_organization(session, name="Bench Clinic")
        accounts.set_cliniko_connection(session, org.id, api_key=API_KEY, base_url_override=sim.base_url)
        return org.id


def _run_child(command: str, *args: str) -> dict[str, Any]:
    """This script's hidden `command` in a fresh process; its last line of output, as JSON."""
    done = subprocess.run([sys.executable, str(Path(__file__)), command, *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_ours(db_url: str, org_id: str, mode: str, **client: Any) -> dict[str, Any]:
    """One sync in a child process: wall time, peak RSS, the final sync_logs metadata."""
    return _run_child("_child", db_url, org_id, mode, json.dumps(client))


async def _child_sync(db_url: str, org_id: str, mode: str, client_options: dict[str, Any]) -> dict[str, Any]:
    from sync_core.cliniko.client import client_for_connection
    from sync_core.engine import run_sync

    def factory(conn: Any) -> Any:
        options = dict(client_options)
        if "rate_limit" in options:
            options["rate_limit"] = tuple(options["rate_limit"])
        return client_for_connection(conn, **options)

    started = time.perf_counter()
    final = await run_sync(org_id, mode, database_url=db_url, client_factory=factory)
    wall = time.perf_counter() - started
    return {"wall": wall, "status": final.status, "error": final.error_details,
            "records": final.records_success, "failed": final.records_failed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "metadata": final.sync_metadata}


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=title)
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*[str(v) for v in row])
    console.print(t)


# ----------------------------------------------------------------------------------------------------------
# Scenarios
# ----------------------------------------------------------------------------------------------------------


def bench_seed(repeat: int) -> None:
    """Seed clinic, comprehensive, 250 ms ±50 % per request, 200 requests/min. Goal <= 3 s."""
    rows = []
    with simulator(648, 1247, latency_ms=250, jitter=0.5, rate_limit=200, window=60) as sim, \
            postgres_database() as db_url:
        org_id = make_org(db_url, sim)
        for n in range(repeat):
            before = sim.stats()
            result = run_ours(db_url, org_id, "comprehensive")
            after = sim.stats()
            perf = result["metadata"]["performance_metrics"]
            rows.append([n + 1, result["status"], result["records"], f"{result['wall']:.2f}",
                         perf["total_duration"], perf["api_requests"],
                         after["rate_limited"] - before["rate_limited"],
                         "yes" if result["wall"] <= 3 else "NO"])
    table("Seed clinic (648 patients, 1,247 appointments), comprehensive, 250 ms ±50 %, 200 req/min",
          ["run", "status", "records", "wall s", "engine duration", "requests", "429s", "<= 3 s"], rows)


def upsert_capacity(db_url: str, org_id: str, rows: int = 20_000) -> float:
    """What this machine upserts per second through the same store path with no fetching or parsing:
    the org's stored patients, copied in batches of 800 into a new organization."""
    from sqlalchemy import select

    from sync_core import accounts, store
    from sync_core.db import get_engine, session_scope
    from sync_core.models import Patient

    table = Patient.__table__  # type: ignore[attr-defined]
    skip = {"id", "organization_id", "first_synced_at", "last_synced_at", "last_sync_id"}
    with get_engine(db_url).connect() as conn:
        data = [{k: v for k, v in r.items() if k not in skip} for r in conn.execute(
            select(table).where(table.c.organization_id == org_id).limit(rows)).mappings()]
    with session_scope(db_url) as session:
        target_org = accounts.create_organization(session, name="Capacity").id
    started = time.perf_counter()
    for i in range(0, len(data), 800):
        with get_engine(db_url).begin() as conn:
            store.copy_upsert_records(conn, store.TARGETS["patients"], data[i:i + 800],
                                      organization_id=target_org, sync_id="capacity")
    return len(data) / (time.perf_counter() - started)


def bench_large(sizes: list[int], changes: int) -> None:
    """Large clinics into PostgreSQL: records/s and peak memory; then an incremental after 100 changes."""
    rows, incremental_rows = [], []
    for size in sizes:
        with simulator(size, 3 * size) as sim, postgres_database() as db_url:
            org_id = make_org(db_url, sim)
            # "No rate limit": the client must not throttle to Cliniko's 200/min either.
            result = run_ours(db_url, org_id, "comprehensive", requests_per_minute=UNLIMITED)
            records = result["records"]
            perf = result["metadata"]["performance_metrics"]
            capacity = upsert_capacity(db_url, org_id)
            rate = records / result["wall"]
            rows.append([f"{size:,}", f"{3 * size:,}", result["status"], f"{records:,}",
                         f"{result['wall']:.1f}", f"{rate:,.0f}", f"{capacity:,.0f}",
                         f"{rate / capacity:.2f}",
                         f"{result['peak_rss_mb']:.0f}", perf["database_time"], perf["api_requests"]])
            per_kind = max(1, changes // 4)
            sim.changes(update=per_kind, create=per_kind, archive=per_kind, cancel=changes - 3 * per_kind)
            before = sim.stats()["total"]
            inc = run_ours(db_url, org_id, "incremental", requests_per_minute=UNLIMITED)
            requests = sim.stats()["total"] - before
            incremental_rows.append([f"{size:,}", changes, inc["status"], inc["metadata"]["records_processed"]
                                     if "records_processed" in inc["metadata"] else inc["records"],
                                     requests, f"{inc['wall']:.2f}", "yes" if inc["wall"] <= 2 else "NO"])
    table("Large clinic, comprehensive, no latency, no rate limit, PostgreSQL (goal >= 20,000 records/s = "
          "half of what the machine upserts; <= 300 MB flat)",
          ["patients", "appointments", "status", "records", "wall s", "records/s", "upsert capacity/s",
           "ours/capacity", "peak RSS MB", "db time", "requests"], rows)
    table(f"Incremental sync after {changes} changes (goal <= 2 s, requests proportional to changes)",
          ["patients", "changes", "status", "records", "requests", "wall s", "<= 2 s"], incremental_rows)


def bench_ratelimit(patients: int, appointments: int, limit: int, window: float) -> None:
    """A clinic needing several windows of requests: achieved time / theoretical minimum. Goal <= 1.05."""
    with simulator(patients, appointments, rate_limit=limit, window=window) as sim, \
            postgres_database() as db_url:
        org_id = make_org(db_url, sim)
        before = sim.stats()
        # The window is scaled down 10x from Cliniko's (6 s instead of 60 s), so a window's requests must
        # go out together for the wait to stay negligible: allow a window's worth in flight.
        result = run_ours(db_url, org_id, "comprehensive", rate_limit=[limit, window], page_concurrency=limit)
        after = sim.stats()
    requests = after["total"] - before["total"]
    # `limit` requests per window: the last batch can start only after (windows - 1) full windows.
    minimum = (math.ceil(requests / limit) - 1) * window
    ratio = result["wall"] / minimum if minimum else float("nan")
    table(f"Rate-limit bound: {limit} requests per {window:g} s (goal <= 1.05, no 429)",
          ["records", "requests", "windows", "minimum s", "achieved s", "ratio", "429s received"],
          [[result["records"], requests, math.ceil(requests / limit), f"{minimum:.1f}",
            f"{result['wall']:.2f}", f"{ratio:.3f}", after["rate_limited"] - before["rate_limited"]]])


def run_dlt(sim: Simulator, db_url: str, dataset: str) -> tuple[float, int]:
    """dlt's run in a child process, as ours runs in one (each pays a fresh process's first-use costs
    inside its timer): (wall time of pipeline.run, rows loaded)."""
    result = _run_child("_child_dlt", sim.base_url, db_url, dataset)
    return result["wall"], result["rows"]


def _dlt_pipeline(base_url: str, db_url: str, dataset: str) -> tuple[float, int]:
    """dlt's rest_api source, merge on id, into a fresh dataset of the same PostgreSQL: (wall time, rows)."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    def resource_config(name: str, path: str, selector: str, filters: list[str]) -> dict[str, Any]:
        return {"name": name, "primary_key": "id", "write_disposition": "merge",
                "endpoint": {"path": path, "data_selector": selector,
                             "params": {"per_page": 100, "q[]": filters},
                             "paginator": {"type": "json_link", "next_url_path": "links.next"}}}

    source = rest_api_source({
        "client": {"base_url": base_url + "/", "auth": {"type": "http_basic", "username": API_KEY,
                                                            "password": ""},
                   "headers": {"User-Agent": "dlt-bench (bench@routiq.local)", "Accept": "application/json"}},
        "resources": [
            resource_config("patients", "patients", "patients", ["archived_at:*"]),
            resource_config("individual_appointments", "individual_appointments", "individual_appointments",
                            ["archived_at:*", "cancelled_at:*"]),
        ],
    })
    url = make_url(db_url)
    # dlt insists on a password; the local server trusts local connections and ignores it.
    password = url.password or "trust"
    credentials = f"postgresql://{url.username}:{password}@{url.host}:{url.port}/{url.database}"
    pipeline = dlt.pipeline(pipeline_name=f"bench_{uuid.uuid4().hex[:6]}",
                            destination=dlt.destinations.postgres(credentials=credentials),
                            dataset_name=dataset,
                            pipelines_dir=f"/tmp/routiq_bench_dlt_{uuid.uuid4().hex[:6]}")
    started = time.perf_counter()
    pipeline.run(source)
    wall = time.perf_counter() - started
    with psycopg.connect(_libpq(db_url)) as conn:
        rows = sum(conn.execute(f"SELECT count(*) FROM {dataset}.{t}").fetchone()[0]  # type: ignore[index]
                   for t in ("patients", "individual_appointments"))
    return wall, rows


def _warm_simulator(sim: Simulator) -> None:
    """Reads every page both pipelines will read, once. The simulator builds each answer on its first
    request and serves it from memory after; a remote Cliniko costs this machine nothing either way, so
    neither pipeline should pay (or be spared) that first build."""
    from sync_core.cliniko.client import ClinikoClient

    async def read_all() -> None:
        async with ClinikoClient(API_KEY, base_url=sim.base_url, requests_per_minute=UNLIMITED) as client:
            for resource in ("patients", "individual_appointments"):
                async for _ in client.iter_pages(resource):
                    pass

    asyncio.run(read_all())


def bench_peer(patients: int, appointments: int, repeat: int) -> None:
    """Ours vs dlt's rest_api source (merge on id), same simulator data, same PostgreSQL. Goal >= 5x."""
    try:
        import dlt  # noqa: F401
    except ImportError:
        console.print("[red]dlt is not installed: run this with `UV_COMPILE_BYTECODE=1 uv run --group bench "
                      "python bench/bench_sync.py peer`[/red]")
        raise SystemExit(2) from None
    ours_walls: list[float] = []
    dlt_walls: list[float] = []
    rows: list[list[Any]] = []
    with simulator(patients, appointments) as sim:
        _warm_simulator(sim)
        for n in range(repeat):
            # Alternating, each run a first load into empty tables of a new database: ours into the
            # migrated schema, dlt into a new dataset of its own.
            with postgres_database() as db_url:
                ours = run_ours(db_url, make_org(db_url, sim), "comprehensive", requests_per_minute=UNLIMITED)
                dlt_wall, dlt_rows = run_dlt(sim, db_url, f"dlt_peer_{n}")
            ours_walls.append(ours["wall"])
            dlt_walls.append(dlt_wall)
            rows.append([n + 1, f"{ours['records']:,}", f"{ours['wall']:.2f}",
                         f"{ours['records'] / ours['wall']:,.0f}", f"{dlt_rows:,}", f"{dlt_wall:.2f}",
                         f"{dlt_rows / dlt_wall:,.0f}", f"{dlt_wall / ours['wall']:.1f}x"])
    ours_median, dlt_median = statistics.median(ours_walls), statistics.median(dlt_walls)
    rows.append(["median", "", f"{ours_median:.2f}", "", "", f"{dlt_median:.2f}", "",
                 f"{dlt_median / ours_median:.1f}x"])
    table(f"Peer: dlt rest_api (merge on id) vs Routiq comprehensive, {patients:,} patients + "
          f"{appointments:,} appointments, PostgreSQL, warm simulator (goal: ours >= 5x faster)",
          ["run", "routiq rows", "routiq s", "routiq rows/s", "dlt rows", "dlt s", "dlt rows/s",
           "dlt / ours"], rows)


# ----------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------


@click.group()
def cli() -> None:
    """Sync engine benchmarks (figures, not pass/fail)."""
    os.environ.setdefault("ROUTIQ_SECRET_KEY", "bench-" + uuid.uuid4().hex)
    os.environ.setdefault("ROUTIQ_LOG_LEVEL", "WARNING")


@cli.command("seed")
@click.option("--repeat", default=3, show_default=True)
def seed_command(repeat: int) -> None:
    bench_seed(repeat)


@cli.command("large")
@click.option("--sizes", default="10000,100000", show_default=True, help="Patient counts (appointments: 3x).")
@click.option("--changes", default=100, show_default=True)
def large_command(sizes: str, changes: int) -> None:
    bench_large([int(s) for s in sizes.split(",") if s], changes)


@cli.command("ratelimit")
@click.option("--patients", default=4000, show_default=True)
@click.option("--appointments", default=3600, show_default=True)
@click.option("--limit", default=20, show_default=True)
@click.option("--window", default=6.0, show_default=True)
def ratelimit_command(patients: int, appointments: int, limit: int, window: float) -> None:
    bench_ratelimit(patients, appointments, limit, window)


@cli.command("peer")
@click.option("--patients", default=10000, show_default=True)
@click.option("--appointments", default=30000, show_default=True)
@click.option("--repeat", default=3, show_default=True)
def peer_command(patients: int, appointments: int, repeat: int) -> None:
    bench_peer(patients, appointments, repeat)


@cli.command("all")
@click.pass_context
def all_command(ctx: click.Context) -> None:
    ctx.invoke(seed_command, repeat=3)
    ctx.invoke(ratelimit_command, patients=4000, appointments=3600, limit=20, window=6.0)
    ctx.invoke(large_command, sizes="10000,100000", changes=100)


@cli.command("_child", hidden=True)
@click.argument("db_url")
@click.argument("org_id")
@click.argument("mode")
@click.argument("client_json")
def child_command(db_url: str, org_id: str, mode: str, client_json: str) -> None:
    result = asyncio.run(_child_sync(db_url, org_id, mode, json.loads(client_json)))
    print(json.dumps(result, default=str))


@cli.command("_child_dlt", hidden=True)
@click.argument("base_url")
@click.argument("db_url")
@click.argument("dataset")
def child_dlt_command(base_url: str, db_url: str, dataset: str) -> None:
    wall, rows = _dlt_pipeline(base_url, db_url, dataset)
    print(json.dumps({"wall": wall, "rows": rows}))


if __name__ == "__main__":
    cli()
