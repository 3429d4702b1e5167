"""One sync run: fetch pages from Cliniko, parse and store them, report progress, finish the sync_logs row.

Shape of a run (asyncio): pages stream from the client into a bounded queue; the pump drains it and hands
each batch (consecutive pages of one resource) to a writer thread, which parses it and commits its rows,
quarantined records, progress (and incremental watermark) as one transaction. Up to PAGE_WRITERS batches
of full reads are written at once, each writer on its own connection, so the database works on one while
the next is parsed and encoded; incremental batches and every other write of the sync (steps, heartbeats,
watermarks of full reads, the final status) go one at a time, and the final status write waits for every
batch in flight: a cancel never leaves a half-written page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from sync_core import store
from sync_core.cliniko.errors import ClinikoError
from sync_core.cliniko.parse import (
    RecordValidationError,
    parse_appointment,
    parse_appointment_type,
    parse_business,
    parse_patient,
    parse_practitioner,
)
from sync_core.config import get_settings
from sync_core.db import get_engine
from sync_core.engine import logs, registry
from sync_core.engine.analysis import compute_patient_stats, refresh_planner_statistics, window_days_for
from sync_core.engine.gc_tuning import relaxed_gc
from sync_core.engine.modes import RESOURCE_PLAN, SyncMode
from sync_core.engine.progress import (
    RESOURCE_STEP,
    STEP_NAMES,
    STEP_STATUS,
    TOTAL_STEPS,
    ProgressTracker,
    Step,
    format_duration,
    format_elapsed,
)
from sync_core.events import DATA_CHANGED, FINISHED, PROGRESS, Event, get_event_bus
from sync_core.models import ClinikoConnection, SyncLog, SyncStatus
from sync_core.types import utcnow

log = logging.getLogger("sync_core.engine")

T = TypeVar("T")

PROGRESS_WRITE_INTERVAL = 0.15  # seconds between progress writes (plus every step change and the end)
HEARTBEAT_INTERVAL = 5.0  # seconds between heartbeat writes while nothing else writes
CANCEL_POLL_INTERVAL = 0.4  # seconds between checks of the cancel flag (other processes' cancels)
PAGE_QUEUE_SIZE = 16  # pages fetched ahead of the writers, all resources together (bounds memory)
MAX_PAGES_PER_TRANSACTION = 8
PAGE_WRITERS = 2  # PostgreSQL: batches written at once (full reads); SQLite has one writer at a time
WRITE_ATTEMPTS = 3  # a batch rolled back by a deadlock with its sibling writer is written again
ANALYZE_AFTER_ROWS = 5000  # PostgreSQL: refresh planner statistics once a sync wrote this many rows
COPY_THRESHOLD = 200  # rows from which PostgreSQL writes go through COPY (faster for big batches)
MAX_ERRORS_IN_METADATA = 50  # the full list is in sync_record_errors
ACTIVE_PATIENT_ID_CHUNK = 50  # ids per `q[]=id:=...` request in active_patients mode

PARSERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "patients": parse_patient,
    "individual_appointments": parse_appointment,
    "appointment_types": parse_appointment_type,
    "practitioners": lambda p: parse_practitioner(p, True),
    "practitioners/inactive": lambda p: parse_practitioner(p, False),
    "businesses": parse_business,
}
# metadata keys: seed 001 says patients_found / patients_stored, seed 002 appointments_found.
RESOURCE_KEY = {
    "patients": "patients",
    "individual_appointments": "appointments",
    "appointment_types": "appointment_types",
    "practitioners": "practitioners",
    "practitioners/inactive": "practitioners",
    "businesses": "businesses",
}

ClientFactory = Callable[[ClinikoConnection], Any]


NOT_CONFIGURED = "Cliniko is not configured for this organization: add an API key first."


class SyncConfigError(Exception):
    """The organization cannot be synced as configured (no Cliniko connection)."""

    error_type = "CLINIKO_NOT_CONFIGURED"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NothingStoredError(Exception):
    error_type = "NO_RECORDS_STORED"


@dataclass(eq=False)  # compared and hashed by identity
class _Stream:
    """One resource being read: its page iterator and what was seen so far."""

    resource: str
    pages: AsyncIterator[Any]
    incremental: bool
    first_page: Any = None
    fetch_started_at: datetime = field(default_factory=utcnow)
    max_updated_at: datetime | None = None
    first_load: bool | None = None  # nothing of this resource stored yet: insert, no upsert (PostgreSQL)


@dataclass
class _Batch:
    """Parsed pages on their way to the database."""

    pages: list[Any]
    rows: list[dict[str, Any]]
    errors: list[Any]
    newest: datetime | None  # the newest updated_at among the rows
    parse_seconds: float
    counted: bool = False  # its records are in the progress counters (once, whatever the attempts)


@dataclass
class _Phases:
    fetch: float = 0.0  # waiting for Cliniko pages
    processing: float = 0.0  # parsing
    database: float = 0.0  # writing
    transactions: int = 0
    rows_written: int = 0


def _quarantined_payload(record: Any) -> dict[str, Any]:
    """A refused record as stored beside its error: the decoded payload, an object in any case."""
    payload = orjson.loads(bytes(record))
    return payload if isinstance(payload, dict) else {"value": payload}


def id_filter(ids: list[str]) -> tuple[str, str]:
    return ("q[]", "id:=" + ",".join(ids))


def default_client_factory(conn: ClinikoConnection) -> Any:
    from sync_core.cliniko.client import client_for_connection

    return client_for_connection(conn)


class SyncRunner:
    """Runs one sync whose sync_logs row exists (status "starting")."""

    def __init__(
        self,
        sync_log: SyncLog,
        mode: SyncMode,
        *,
        database_url: str | None = None,
        client_factory: ClientFactory | None = None,
    ) -> None:
        assert sync_log.id is not None
        self.log = sync_log
        self.log_id: int = sync_log.id
        self.mode = mode
        self.database_url = database_url
        self.engine = get_engine(database_url)
        self.client_factory = client_factory or default_client_factory
        self.organization_id = sync_log.organization_id
        self.sync_id = sync_log.sync_id
        self.bus = get_event_bus()
        self.tracker = ProgressTracker()
        self.phases = _Phases()
        self.step = Step.INITIALIZING
        self.step_text = "Initializing sync..."
        self.found: dict[str, int] = {}
        self.stored: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.errors: list[str] = []
        self.current_page = 0
        self.total_pages = 0
        self.active_patients_identified: int | None = None
        self.patient_stats: dict[str, Any] | None = None
        self.incremental_fallback: list[str] = []
        self.client: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sync-{self.log_id}-control")
        self._page_writers = PAGE_WRITERS if self.engine.dialect.name == "postgresql" else 1
        self._writers = ThreadPoolExecutor(max_workers=self._page_writers,
                                           thread_name_prefix=f"sync-{self.log_id}-write")
        # Counters, and each progress write with its commit and event, go under this lock: progress reaches
        # the row and the subscribers in order and never goes back, whichever writer commits first.
        self._progress_lock = threading.Lock()
        self._writer_local = threading.local()  # each writer thread's own connection, for the whole sync
        self._writer_connections: list[Connection] = []
        self._started_monotonic = time.monotonic()
        self._records_started: float | None = None
        self._last_write = 0.0
        self._cancel_requested = False
        self._body_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------------------------------ entry

    async def run(self) -> SyncLog:
        with relaxed_gc():
            return await self._run()

    async def _run(self) -> SyncLog:
        registry.register(self.sync_id, self._on_cancel)
        watcher = asyncio.create_task(self._watch(), name=f"{self.sync_id}-watch")
        self._body_task = asyncio.create_task(self._body(), name=f"{self.sync_id}-body")
        status, error_type, error_details = SyncStatus.COMPLETED.value, None, None
        try:
            try:
                await asyncio.shield(self._body_task)
            except asyncio.CancelledError:
                if not self._cancel_requested:  # our caller is cancelled (shutdown): stop the body too
                    self._body_task.cancel()
                    with contextlib.suppress(BaseException):
                        await self._body_task
                    status, error_type = SyncStatus.FAILED.value, "INTERRUPTED"
                    error_details = logs.INTERRUPTED
                    raise
                # Our own cancel: the body was cancelled, not us.
                status = SyncStatus.CANCELLED.value
                error_details = "Cancelled by request"
            else:
                if self._nothing_stored():
                    status, error_type = SyncStatus.FAILED.value, NothingStoredError.error_type
                    error_details = (f"Cliniko reported {self.tracker.processed_records} records but none "
                                     "could be stored")
        except ClinikoError as exc:
            status, error_type, error_details = SyncStatus.FAILED.value, exc.error_type, exc.message
        except SyncConfigError as exc:
            status, error_type, error_details = SyncStatus.FAILED.value, exc.error_type, exc.message
        except SQLAlchemyError as exc:
            status, error_type = SyncStatus.FAILED.value, "DATABASE_ERROR"
            error_details = f"Database error: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        except Exception as exc:  # a bug must still end the sync, not leave it "running"
            log.exception("Sync %s failed unexpectedly", self.sync_id)
            status, error_type = SyncStatus.FAILED.value, "INTERNAL_ERROR"
            error_details = f"Unexpected error: {type(exc).__name__}"
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            try:
                final = await self._in_worker(self._finish, status, error_type, error_details)
                self._refresh_statistics_later()
            finally:
                await asyncio.to_thread(self._close_writer_connections)
                registry.unregister(self.sync_id)
                self._executor.shutdown(wait=False)
                self._writers.shutdown(wait=False)
        return final

    def _on_cancel(self) -> None:
        """Called in our loop by request_cancel (same process) or the watcher (flag set elsewhere)."""
        if self._cancel_requested:
            return
        self._cancel_requested = True
        log.info("Cancelling sync %s", self.sync_id)
        if self._body_task is not None and not self._body_task.done():
            self._body_task.cancel()

    async def _watch(self) -> None:
        """Sees a cancel requested by another process, and keeps the heartbeat alive during long waits."""
        while True:
            await asyncio.sleep(CANCEL_POLL_INTERVAL)
            try:
                if await asyncio.to_thread(self._cancel_flag_set):
                    self._on_cancel()
                    return
                if time.monotonic() - self._last_write >= HEARTBEAT_INTERVAL:
                    await self._in_worker(self._write_heartbeat)
            except SQLAlchemyError:
                log.warning("Sync %s: heartbeat/cancel check failed", self.sync_id, exc_info=True)

    def _cancel_flag_set(self) -> bool:
        with self.engine.connect() as conn:
            return logs.cancel_requested(conn, self.log_id)

    async def _in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """Run in the sync's control thread: config, steps, heartbeats, watermarks of full reads, analysis
        and the final status, one at a time and in order."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _in_writer(self, fn: Callable[..., T], *args: Any) -> T:
        """Run in one of the page-batch writer threads (see PAGE_WRITERS)."""
        return await asyncio.get_running_loop().run_in_executor(self._writers, fn, *args)

    # ------------------------------------------------------------------------------------------ the run

    async def _body(self) -> None:
        label = "full patient" if self.mode is SyncMode.FULL_PATIENTS else self.mode.value.replace("_", " ")
        log.info("Starting %s sync for organization %s (sync %s)", label, self.organization_id, self.sync_id)
        await self._set_step(Step.CHECKING_CONFIG, "Checking configuration...",
                             status=SyncStatus.RUNNING.value)
        connection, watermarks, window_days = await self._in_worker(self._load_config)
        await self._set_step(Step.CHECKING_CREDENTIALS, "Checking Cliniko credentials...")
        async with self.client_factory(connection) as client:
            self.client = client
            if self.mode is SyncMode.ACTIVE_PATIENTS:
                await self._run_active_patients(window_days)
            else:
                streams = self._plan_streams(watermarks)
                await self._open_streams(streams)
                await self._pump(streams)
        await self._set_step(Step.ANALYZING, "Analyzing active patients...")
        stats = await self._in_worker(self._analyze, window_days)
        self.active_patients_identified = stats.active_patients
        self.patient_stats = stats.to_dict()
        await self._set_step(Step.STORING, "Saving results...")

    def _load_config(self) -> tuple[ClinikoConnection, dict[str, datetime | None], int]:
        with self.engine.connect() as conn:
            table = ClinikoConnection.__table__  # type: ignore[attr-defined]
            row = conn.execute(select(table).where(table.c.organization_id == self.organization_id)).first()
            if row is None:
                raise SyncConfigError(NOT_CONFIGURED)
            connection = ClinikoConnection.model_validate(dict(row._mapping))
            return connection, store.get_watermarks(conn, self.organization_id), window_days_for(
                conn, self.organization_id)

    def _plan_streams(self, watermarks: dict[str, datetime | None]) -> list[_Stream]:
        overlap = timedelta(seconds=get_settings().incremental_overlap_seconds)
        streams = []
        for resource in RESOURCE_PLAN[self.mode]:
            since = None
            if self.mode is SyncMode.INCREMENTAL:
                mark = watermarks.get(resource)
                if mark is None:
                    self.incremental_fallback.append(resource)  # no watermark yet: read it all
                else:
                    since = mark - overlap
            pages = self.client.iter_pages(resource, updated_since=since)
            streams.append(_Stream(resource, pages, incremental=since is not None))
        if self.incremental_fallback:
            log.info("Incremental sync %s: no watermark for %s, reading those in full", self.sync_id,
                     ", ".join(self.incremental_fallback))
        return streams

    async def _open_streams(self, streams: list[_Stream]) -> None:
        """Page 1 of every resource at once: checks the key and gives every total before any record,
        so the percentage has its real denominator from the start."""
        await self._first_pages(streams)
        for stream in streams:
            first = stream.first_page
            total = first.total_entries if first is not None else 0
            self.tracker.set_total(stream.resource, total)
            key = RESOURCE_KEY[stream.resource]
            self.found[key] = self.found.get(key, 0) + total
        patients = self.found.get("patients", 0)
        log.info("Found %d patients in Cliniko API", patients)
        if "appointments" in self.found:
            log.info("Found %d appointments in Cliniko API", self.found["appointments"])
        self._records_started = time.monotonic()

    async def _first_pages(self, streams: list[_Stream]) -> None:
        """Fetch page 1 of each stream concurrently; the first error cancels the others and is raised."""
        started = time.monotonic()
        tasks = [asyncio.ensure_future(anext(s.pages, None)) for s in streams]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in tasks:
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.phases.fetch += time.monotonic() - started
        for stream, task in zip(streams, tasks, strict=True):
            stream.first_page = task.result()

    async def _pump(self, streams: list[_Stream]) -> None:
        """All resources are fetched at once; their pages meet in one bounded queue (memory stays flat) and
        are written in arrival order, so a rate-limited resource never holds the others back. Each
        transaction holds consecutive pages of one resource. The step shown is the earliest resource not
        yet complete (Fetching Patients until every patient is stored), so it only moves forward."""
        queue: asyncio.Queue[tuple[_Stream, Any]] = asyncio.Queue(maxsize=PAGE_QUEUE_SIZE)
        producers = [asyncio.create_task(self._produce(s, queue)) for s in streams]
        unfinished = set(streams)
        writing: set[asyncio.Future[None]] = set()
        carry: tuple[_Stream, Any] | None = None
        try:
            await self._show_step(unfinished)
            while unfinished:
                stream, item = carry or await queue.get()
                carry = None
                if isinstance(item, BaseException):
                    raise item  # Cliniko's error, from the producer
                if item is None:  # the resource is complete: its watermark covers only committed rows
                    await self._wait_for_writes(writing, at_most=0)
                    await self._in_worker(self._finish_resource, stream)
                    unfinished.discard(stream)
                    if unfinished:
                        await self._show_step(unfinished)
                    continue
                # Pages of the same resource already waiting join this transaction (fewer, larger writes
                # when the database is the slower side).
                pages = [item]
                while len(pages) < MAX_PAGES_PER_TRANSACTION and not queue.empty():
                    following = queue.get_nowait()
                    if following[0] is not stream or following[1] is None or isinstance(following[1],
                                                                                        BaseException):
                        carry = following
                        break
                    pages.append(following[1])
                # An incremental batch carries its watermark: batches of that stream commit in order.
                in_flight = 0 if stream.incremental else self._page_writers - 1
                await self._wait_for_writes(writing, at_most=in_flight)
                writing.add(asyncio.ensure_future(self._in_writer(self._store_pages, stream, pages)))
            await self._wait_for_writes(writing, at_most=0)
        finally:
            if writing:  # a failure or a cancel: the batches in flight end (commit or roll back) first
                await asyncio.wait(writing)
                for future in writing:
                    if not future.cancelled():
                        future.exception()  # retrieved: the first failure was raised already
            for producer in producers:
                producer.cancel()
            await asyncio.gather(*producers, return_exceptions=True)
            for stream in streams:
                with contextlib.suppress(Exception):
                    await stream.pages.aclose()  # type: ignore[attr-defined]

    @staticmethod
    async def _wait_for_writes(writing: set[asyncio.Future[None]], *, at_most: int) -> None:
        """Until no more than `at_most` batches are in flight; a failed batch's error is raised here."""
        while len(writing) > at_most:
            done, _ = await asyncio.wait(writing, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                writing.discard(future)
                future.result()

    async def _show_step(self, unfinished: set[_Stream]) -> None:
        first = min(unfinished, key=lambda s: RESOURCE_STEP[s.resource])
        step = RESOURCE_STEP[first.resource]
        if step > self.step:
            await self._set_step(step, f"Fetching {RESOURCE_KEY[first.resource].replace('_', ' ')}...")

    async def _produce(self, stream: _Stream, queue: asyncio.Queue[tuple[_Stream, Any]]) -> None:
        try:
            if stream.first_page is not None:
                await queue.put((stream, stream.first_page))
                waited = time.monotonic()
                async for page in stream.pages:
                    self.phases.fetch += time.monotonic() - waited
                    await queue.put((stream, page))
                    waited = time.monotonic()
        except Exception as exc:  # handed to the writer, which raises it as the sync's error
            await queue.put((stream, exc))
            return
        await queue.put((stream, None))

    async def _run_active_patients(self, window_days: int) -> None:
        """Appointments from the window's start on (cancelled included), then exactly their patients."""
        since = utcnow() - timedelta(days=window_days)
        window = [("q[]", f"starts_at:>={since.strftime('%Y-%m-%dT%H:%M:%SZ')}")]
        appointments = _Stream("individual_appointments",
                               self.client.iter_pages("individual_appointments", extra_query=window),
                               incremental=False)
        self._patient_ids: set[str] = set()
        await self._open_streams([appointments])
        await self._pump([appointments])
        ids = sorted(self._patient_ids)
        self.tracker.set_total("patients", len(ids))
        self.found["patients"] = len(ids)
        log.info("Found %d patients with appointments in the active window", len(ids))
        chunks = [ids[i:i + ACTIVE_PATIENT_ID_CHUNK] for i in range(0, len(ids), ACTIVE_PATIENT_ID_CHUNK)]
        streams = [
            _Stream("patients", self.client.iter_pages("patients", extra_query=[id_filter(c)]),
                    incremental=False)
            for c in chunks
        ]
        await self._first_pages(streams)
        await self._pump(streams)

    # ------------------------------------------------------------------------------------------ thread side
    # Everything below runs in the writer threads or the sync's control thread, never on the event loop.

    def _parse_batch(self, stream: _Stream, pages: list[Any]) -> _Batch:
        """Payloads to rows and quarantined records; the newest updated_at among them."""
        started = time.monotonic()
        parse = PARSERS[stream.resource]
        label = store.TARGETS[stream.resource].label
        rows: list[dict[str, Any]] = []
        errors: list[Any] = []
        newest: datetime | None = None
        for page in pages:
            for record in page.records:
                try:
                    row = parse(record)
                except RecordValidationError as exc:
                    message = f"{label} ID {exc.cliniko_id or 'unknown'}: {exc.reason}"
                    errors.append((exc.cliniko_id, message, _quarantined_payload(record)))
                    continue
                rows.append(row)
                updated = row["cliniko_updated_at"]
                if updated is not None and (newest is None or updated > newest):
                    newest = updated
        return _Batch(pages, rows, errors, newest, time.monotonic() - started)

    def _store_pages(self, stream: _Stream, pages: list[Any]) -> None:
        """A writer thread: parses the pages, then writes them as one transaction (rows, quarantined
        records, watermark, progress). Parsing here, not on the event loop, keeps the loop free and lets
        one writer parse while the other waits for the database."""
        batch = self._parse_batch(stream, pages)
        resource = stream.resource
        target = store.TARGETS[resource]
        started = time.monotonic()
        for _, message, _ in batch.errors:
            log.warning("Quarantined %s", message)
        deadlocks = 0
        while True:
            try:
                written = self._commit_batch(stream, batch)
                break
            except store.DuplicateKeyError:
                # A record came twice in a first load (it moved between pages while we read): that
                # transaction is rolled back whole; this batch and the rest of the resource are upserted
                # (which cannot raise this again).
                log.info("Sync %s: a %s record was seen twice, upserting from here on", self.sync_id,
                         target.label.lower())
                stream.first_load = False
            except Exception as exc:
                deadlocks += 1
                if not store.is_deadlock(exc) or deadlocks >= WRITE_ATTEMPTS:
                    raise
                # The same record in two batches written at once, locked in opposite orders: one of
                # the two transactions was rolled back; write it again.
                log.info("Sync %s: batch rolled back by a deadlock, writing it again", self.sync_id)
        with self._progress_lock:
            self.phases.database += time.monotonic() - started
            self.phases.transactions += 1
            self.phases.rows_written += written
            for page in batch.pages:
                self._log_page(resource, page)
        if batch.rows:
            self.bus.publish(Event(DATA_CHANGED, self.organization_id, {
                "table": target.table.name, "ids": [r[target.key] for r in batch.rows], "action": "upsert",
                "actor": f"sync:{self.sync_id}",
            }))

    def _count(self, stream: _Stream, batch: _Batch) -> None:
        """Adds the batch to the progress counters (under the progress lock, once per batch)."""
        if batch.counted:
            return
        batch.counted = True
        resource, pages, rows, errors = stream.resource, batch.pages, batch.rows, batch.errors
        if resource == "individual_appointments" and self.mode is SyncMode.ACTIVE_PATIENTS:
            self._patient_ids.update(r["cliniko_patient_id"] for r in rows if r.get("cliniko_patient_id"))
        key = RESOURCE_KEY[resource]
        self.tracker.add(resource, sum(len(page.records) for page in pages))
        self.stored[key] = self.stored.get(key, 0) + len(rows)
        self.failed[key] = self.failed.get(key, 0) + len(errors)
        self.errors.extend(message for _, message, _ in errors)
        self.current_page, self.total_pages = pages[-1].page_number, pages[-1].total_pages
        self.phases.processing += batch.parse_seconds
        newest = batch.newest
        if newest is not None and (stream.max_updated_at is None or newest > stream.max_updated_at):
            stream.max_updated_at = newest

    def _writer_connection(self) -> Connection:
        """This writer thread's connection, opened at its first batch and kept until the sync ends: no pool
        checkout, ping or session setup per batch (each round trip also waits for the GIL again)."""
        conn: Connection | None = getattr(self._writer_local, "connection", None)
        if conn is None:
            conn = self.engine.connect()
            if conn.dialect.name == "postgresql":
                # Page commits need not wait for the disk: a database crash can lose only the last few
                # commits, rows and watermark together, and the next sync reads them again. The final
                # status write (another connection) is synchronous and makes every earlier commit durable.
                conn.exec_driver_sql("SET synchronous_commit = off")
                conn.commit()
            self._writer_local.connection = conn
            with self._progress_lock:
                self._writer_connections.append(conn)
        return conn

    def _close_writer_connections(self) -> None:
        """Back to the pool with the session setting undone (or dropped if they broke)."""
        for conn in self._writer_connections:
            try:
                if conn.dialect.name == "postgresql" and not conn.invalidated:
                    conn.rollback()
                    conn.exec_driver_sql("RESET synchronous_commit")
                    conn.commit()
            except SQLAlchemyError:
                conn.invalidate()
            finally:
                conn.close()
        self._writer_connections.clear()

    def _commit_batch(self, stream: _Stream, batch: _Batch) -> int:
        """One transaction: rows, quarantined records, watermark (incremental), progress when due."""
        conn = self._writer_connection()
        with conn.begin() as transaction:
            written = self._write_rows(conn, stream, batch.rows)
            store.quarantine_records(conn, sync_log_id=self.log_id, organization_id=self.organization_id,
                                     resource=stream.resource, errors=batch.errors)
            with self._progress_lock:
                self._count(stream, batch)
                if stream.incremental and stream.max_updated_at is not None:
                    # Sorted by updated_at and written in order: every record up to the newest seen is in
                    # this or an earlier committed batch.
                    store.set_watermark(conn, organization_id=self.organization_id,
                                        resource=stream.resource, cursor=stream.max_updated_at,
                                        sync_id=self.sync_id)
                if not self._write_due():
                    return written  # committed on the way out, outside the lock
                # A progress write is counted, written, committed and published under the lock: every
                # snapshot covers the batches counted before it, and rows and subscribers get them in order.
                values = self._progress_values()
                logs.write_log(conn, self.log_id, values)
                transaction.commit()
                self._after_write(values)
        return written

    def _write_rows(self, conn: Any, stream: _Stream, rows: list[dict[str, Any]]) -> int:
        """SQLite: upsert. PostgreSQL: COPY, straight into the table on a first load, else through a
        staging table and an upsert (small batches: a plain upsert)."""
        target = store.TARGETS[stream.resource]
        options = {"organization_id": self.organization_id, "sync_id": self.sync_id}
        if conn.dialect.name != "postgresql":
            return store.upsert_records(conn, target, rows, **options)
        if stream.first_load is None:
            stream.first_load = not store.has_records(conn, target, self.organization_id)
        if stream.first_load:
            return store.copy_insert_records(conn, target, rows, **options)
        if len(rows) < COPY_THRESHOLD:
            return store.upsert_records(conn, target, rows, **options)
        return store.copy_upsert_records(conn, target, rows, **options)

    def _finish_resource(self, stream: _Stream) -> None:
        """A full read of a resource is over: its watermark may advance (the rows are committed already).

        For a full read (created_at order) the cursor is the older of "newest updated_at seen" and "when
        the read started", so a record changed while we paged is picked up by the next incremental sync."""
        if self.mode is SyncMode.ACTIVE_PATIENTS:
            return  # a partial read (one window, some patients) says nothing about the rest
        cursor = stream.max_updated_at
        if not stream.incremental and cursor is not None:
            cursor = min(cursor, stream.fetch_started_at)
        if cursor is None:
            return
        with self.engine.begin() as conn:
            store.set_watermark(conn, organization_id=self.organization_id, resource=stream.resource,
                                cursor=cursor, sync_id=self.sync_id)

    def _log_page(self, resource: str, page: Any) -> None:
        key = RESOURCE_KEY[resource]
        processed = self.tracker.processed.get(resource, 0)
        log.info("Processing page %d/%d (%d %s processed)", page.page_number, page.total_pages, processed,
                 key.replace("_", " "))
        if resource == "patients":
            found = self.found.get("patients", 0)
            log.info("Progress: %.1f%% - %d/%d patients stored", self.tracker.percent(self.step),
                     self.stored.get("patients", 0), found)

    def _analyze(self, window_days: int) -> Any:
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # Right after a bulk load the planner has no statistics yet and picks nested loops over
                # tables it believes empty: seconds instead of milliseconds. The query is two scans and a
                # hash join whatever the statistics say; this transaction runs nothing else.
                conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
            return compute_patient_stats(conn, self.organization_id, window_days)

    def _refresh_statistics_later(self) -> None:
        """After a bulk load (PostgreSQL), fresh planner statistics for the app's queries: the sync has
        ended by then, so nobody waits for them (autovacuum would get there too, within a minute)."""
        if self.engine.dialect.name != "postgresql" or self.phases.rows_written < ANALYZE_AFTER_ROWS:
            return

        def refresh() -> None:
            try:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    refresh_planner_statistics(conn)
            except SQLAlchemyError as exc:
                log.warning("Sync %s: ANALYZE after the load failed: %s", self.sync_id,
                            str(exc).splitlines()[0][:200])

        self._executor.submit(refresh)

    def _write_due(self) -> bool:
        return time.monotonic() - self._last_write >= PROGRESS_WRITE_INTERVAL

    def _write_step(self, step: Step, text: str, status: str | None) -> None:
        with self._progress_lock:
            self.step = max(self.step, step)
            self.step_text = text
            values = self._progress_values()
            if status is not None:
                values["status"] = status
            with self.engine.begin() as conn:
                logs.write_log(conn, self.log_id, values)
            self._after_write(values)

    async def _set_step(self, step: Step, text: str, *, status: str | None = None) -> None:
        await self._in_worker(self._write_step, step, text, status)

    def _write_heartbeat(self) -> None:
        values = {"heartbeat_at": utcnow()}
        with self.engine.begin() as conn:
            logs.write_log(conn, self.log_id, values)
        self._last_write = time.monotonic()
        self.log.heartbeat_at = values["heartbeat_at"]

    def _after_write(self, values: dict[str, Any]) -> None:
        """After the commit (under the progress lock): the row as written, published."""
        self._last_write = time.monotonic()
        for column, value in values.items():
            setattr(self.log, "sync_metadata" if column == "metadata" else column, value)
        self.bus.publish(Event(PROGRESS, self.organization_id, logs.sync_log_dict(self.log)))

    def _progress_values(self, *, finished: bool = False) -> dict[str, Any]:
        stored = sum(self.stored.values())
        failed = sum(self.failed.values())
        processed = self.tracker.processed_records
        return {
            "records_processed": processed,
            "records_success": stored,
            "records_failed": failed,
            "heartbeat_at": utcnow(),
            "metadata": self._metadata(finished=finished),
        }

    def _metadata(self, *, finished: bool = False, status_detail: str | None = None) -> dict[str, Any]:
        now = utcnow()
        percent = self.tracker.percent(self.step, finished=finished)
        remaining = None
        if not finished and self._records_started is not None and self.step < Step.ANALYZING:
            remaining = self.tracker.remaining_seconds(time.monotonic() - self._records_started)
        processed = self.tracker.processed_records
        stored = sum(self.stored.values())
        metadata: dict[str, Any] = {
            "sync_type": self.mode.value,
            "requested_mode": self.log.mode,
            "patients_found": self.found.get("patients", 0),
            "patients_stored": self.stored.get("patients", 0),
            "appointments_found": self.found.get("appointments", 0),
            "appointments_stored": self.stored.get("appointments", 0),
            "appointment_types_found": self.found.get("appointment_types", 0),
            "practitioners_found": self.found.get("practitioners", 0),
            "businesses_found": self.found.get("businesses", 0),
            "active_patients_identified": self.active_patients_identified,
            "patient_stats": self.patient_stats,
            "current_page": self.current_page,
            "total_pages": self.total_pages,
            "progress_percent": percent,
            "estimated_remaining": format_duration(remaining) if remaining is not None else None,
            "estimated_completion": (now + timedelta(seconds=remaining)).isoformat() if remaining is not None
            else None,
            "errors": self.errors[:MAX_ERRORS_IN_METADATA],
            "errors_total": len(self.errors),
            "success_rate": round(100.0 * stored / processed, 1) if processed else 100.0,
            "current_step_number": int(self.step),
            "total_steps": TOTAL_STEPS,
            "current_step": self.step_text,
            "step_name": STEP_NAMES[self.step],
            "status_detail": status_detail or STEP_STATUS[self.step],
            "performance_metrics": self._performance(),
            "last_updated": now.isoformat(),
        }
        if self.incremental_fallback:
            metadata["incremental_fallback"] = self.incremental_fallback
        return metadata

    def _performance(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self._started_monotonic
        stats = getattr(self.client, "stats", None)
        processed = self.tracker.processed_records
        return {
            "total_duration": format_elapsed(elapsed),
            "total_seconds": round(elapsed, 3),
            "api_fetch_time": format_elapsed(self.phases.fetch),
            "processing_time": format_elapsed(self.phases.processing),
            "database_time": format_elapsed(self.phases.database),
            "records_per_second": round(processed / elapsed, 1) if elapsed > 0 else 0.0,
            "patients_per_second": round(self.stored.get("patients", 0) / elapsed, 1) if elapsed > 0 else 0.0,
            "api_requests": stats.requests if stats else 0,
            "api_retries": stats.retries if stats else 0,
            "rate_limited_responses": stats.rate_limited if stats else 0,
            "throttle_wait_seconds": round(stats.throttle_wait_seconds, 3) if stats else 0.0,
            "database_operations": self.phases.rows_written,
            "database_transactions": self.phases.transactions,
        }

    def _nothing_stored(self) -> bool:
        return self.tracker.processed_records > 0 and sum(self.stored.values()) == 0

    def _finish(self, status: str, error_type: str | None, error_details: str | None) -> SyncLog:
        finished = status == SyncStatus.COMPLETED.value
        values = self._progress_values(finished=finished)
        metadata = values["metadata"]
        metadata["status_detail"] = status
        metadata["estimated_remaining"] = None
        metadata["estimated_completion"] = None
        if error_type:
            metadata["error_type"] = error_type
            metadata["retry_recommended"] = error_type not in ("CLINIKO_NOT_CONFIGURED",)
        if finished:
            metadata["current_step"] = "Sync completed"
        values.update(status=status, completed_at=utcnow(), error_type=error_type,
                      error_details=error_details)
        with self.engine.begin() as conn:
            logs.write_log(conn, self.log_id, values)
            final = logs.get_log(conn, self.log_id)
        assert final is not None
        self.log = final
        payload = logs.sync_log_dict(final)
        self.bus.publish(Event(FINISHED, self.organization_id, payload))
        self._log_summary(final)
        return final

    def _log_summary(self, final: SyncLog) -> None:
        found = self.found.get("patients", 0)
        stored = self.stored.get("patients", 0)
        if final.status == SyncStatus.COMPLETED.value:
            rate = final.sync_metadata.get("success_rate", 100.0) if final.sync_metadata else 100.0
            log.info("Sync completed: %d/%d patients (%s%% success)", stored, found, f"{rate:g}")
            if self.found.get("appointments"):
                log.info("Sync %s stored %d/%d appointments", self.sync_id,
                         self.stored.get("appointments", 0), self.found["appointments"])
        elif final.status == SyncStatus.CANCELLED.value:
            log.info("Sync cancelled: %d/%d patients stored before the cancel", stored, found)
        else:
            log.error("Sync failed (%s): %s", final.error_type, final.error_details)
