"""The simulator's in-memory clinic: compact records, cached pre-serialized pages, changes between syncs.

Each record is kept as its JSON bytes plus a small index of searchable fields (`StoredRecord`), so a
clinic of 100,000 patients and 300,000 appointments fits in a modest amount of memory and a page is a
join of ready-made bytes. Changes decode, edit and re-encode just the records they touch.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from sync_core.simulator.config import SimulatorConfig
from sync_core.simulator.data import BASE, Generator, generate_clinic, iso, link
from sync_core.simulator.query import Filter, StoredRecord, apply_query, parse_filter, parse_sort

LIST_RESOURCES = ("patients", "individual_appointments", "appointment_types", "practitioners",
                  "practitioners/inactive", "businesses")
TABLES = ("patients", "individual_appointments", "appointment_types", "practitioners", "businesses")
CHANGE_KINDS = ("update", "archive", "create", "cancel", "malformed")
_PAGE_CACHE_BYTES = 256 * 1024 * 1024  # oldest pages are dropped past this
_BASE_BYTES = BASE.encode()


def default_anchor() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _compact_json(payload: dict[str, Any]) -> bytes:
    # orjson's bytes keep an ~8 kB buffer whatever the length: copy to an exact-size object to keep
    # 400,000 records in ~1 GB rather than ~4 GB.
    return bytes(memoryview(orjson.dumps(payload)))


class _Table:
    """The records of one resource in creation order, with an id lookup."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[StoredRecord] = []
        self.positions: dict[str, int] = {}

    def add(self, payload: dict[str, Any]) -> StoredRecord:
        record = StoredRecord(self.name, payload, _compact_json(payload))
        self.positions[record.id] = len(self.rows)
        self.rows.append(record)
        return record

    def edit(self, record_id: str, change: Callable[[dict[str, Any]], None]) -> None:
        position = self.positions[record_id]
        payload = orjson.loads(self.rows[position].body)
        change(payload)
        self.rows[position] = StoredRecord(self.name, payload, _compact_json(payload))

    def get(self, record_id: str) -> StoredRecord | None:
        position = self.positions.get(record_id)
        return None if position is None else self.rows[position]


class Clinic:
    """Thread-safe: the server thread reads while a test thread applies changes."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.anchor = config.anchor or default_anchor()
        self._lock = threading.RLock()
        self._generate()

    def _generate(self) -> None:
        c = self.config
        self._tables = {name: _Table(name) for name in TABLES}
        self._gen: Generator = generate_clinic(
            sink=lambda table, payload: self._tables[table].add(payload),
            patients=c.patients, appointments=c.appointments, seed=c.seed, anchor=self.anchor,
            practitioners=c.practitioners, inactive_practitioners=c.inactive_practitioners,
            archived_patient_rate=c.archived_patient_rate,
            cancelled_appointment_rate=c.cancelled_appointment_rate,
        )
        self._results: dict[tuple[Any, ...], list[StoredRecord]] = {}
        self._pages: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._page_bytes = 0
        self._last_change = datetime.min.replace(tzinfo=UTC)

    def reset(self) -> None:
        with self._lock:
            self._generate()

    # -- reading (also for test assertions) --------------------------------------------------------

    def _stored(self, resource: str) -> list[StoredRecord]:
        table, _, sub = resource.partition("/")
        rows = self._tables[table].rows
        if table == "practitioners":
            active = sub != "inactive"
            return [r for r in rows if r.index["active"] == active]
        return rows

    def records(self, resource: str) -> list[dict[str, Any]]:
        """Decoded copies of every stored record of a list endpoint, hidden ones included.

        Links hold the `{BASE}` placeholder; editing a copy changes nothing (use apply_changes).
        """
        with self._lock:
            return [orjson.loads(r.body) for r in self._stored(resource)]

    def ids(self, resource: str, *, archived: bool | None = None, cancelled: bool | None = None) -> set[str]:
        """Ids for assertions: `archived`/`cancelled` True or False select on that state, None = all."""
        with self._lock:
            return {
                r.id for r in self._stored(resource)
                if (archived is None or (r.index.get("archived_at") is not None) == archived)
                and (cancelled is None or (r.index.get("cancelled_at") is not None) == cancelled)
            }

    def find(self, resource: str, record_id: str) -> dict[str, Any] | None:
        """A decoded copy of one record, or None."""
        with self._lock:
            record = self._tables[resource.split("/", 1)[0]].get(record_id)
            return None if record is None else orjson.loads(record.body)

    def stored(self, resource: str, record_id: str) -> StoredRecord | None:
        with self._lock:
            return self._tables[resource.split("/", 1)[0]].get(record_id)

    def query(self, resource: str, q: list[str], sort: str | None) -> list[StoredRecord]:
        """Filtered, sorted records (cached per query until the next change). Raises QueryError."""
        table = resource.split("/", 1)[0]
        filters: list[Filter] = [parse_filter(table, text) for text in q]
        order = parse_sort(table, sort)
        key = (resource, tuple(filters), tuple(order))
        with self._lock:
            cached = self._results.get(key)
            if cached is None:
                cached = self._results[key] = apply_query(table, self._stored(resource), filters, order)
            return cached

    def page_body(self, resource: str, params: list[tuple[str, str]], base: str) -> bytes:
        """The JSON of one list page, built once per (base URL, query, page) and then served from cache.

        `params` is the request's query (already validated by the caller: page >= 1, 1 <= per_page <= 100).
        """
        overlap = self.config.page_overlap
        cache_key = (base, resource, tuple(params), overlap)
        with self._lock:
            body = self._pages.get(cache_key)
            if body is not None:
                return body
            q = [v for k, v in params if k == "q[]"]
            sort = next((v for k, v in params if k == "sort"), None)
            page = int(next((v for k, v in params if k == "page"), "1"))
            per_page = int(next((v for k, v in params if k == "per_page"), "50"))
            selected = self.query(resource, q, sort)
            total = len(selected)
            start = (page - 1) * per_page - (overlap if page > 1 else 0)
            items = b",".join(r.body for r in selected[max(start, 0): page * per_page])
            links = {"self": _page_link(base, resource, params, page)}
            if page * per_page < total:
                links["next"] = _page_link(base, resource, params, page + 1)
            if page > 1:
                links["previous"] = _page_link(base, resource, params, page - 1)
            key = resource.split("/", 1)[0].encode()
            body = (b'{"' + key + b'":[' + items.replace(_BASE_BYTES, base.encode()) + b'],"total_entries":'
                    + str(total).encode() + b',"links":' + orjson.dumps(links) + b"}")
            self._pages[cache_key] = body
            self._page_bytes += len(body)
            while self._page_bytes > _PAGE_CACHE_BYTES and len(self._pages) > 1:
                self._page_bytes -= len(self._pages.popitem(last=False)[1])
            return body

    def record_body(self, resource: str, record_id: str, base: str) -> bytes | None:
        """One record's JSON with links on `base`, or None."""
        record = self.stored(resource, record_id)
        return None if record is None else record.body.replace(_BASE_BYTES, base.encode())

    def _invalidate(self) -> None:
        self._results.clear()
        self._pages.clear()
        self._page_bytes = 0

    # -- changes between syncs -------------------------------------------------------------------

    def _change_time(self) -> datetime:
        """Now (whole seconds, as Cliniko sends), never before the previous change."""
        now = datetime.now(UTC).replace(microsecond=0)
        self._last_change = max(now, self._last_change)
        return self._last_change

    def apply_changes(self, update: int = 0, archive: int = 0, create: int = 0, cancel: int = 0,
                      malformed: int = 0) -> dict[str, list[str]]:
        """Changes like a clinic's day between two syncs; returns the ids touched per kind.

        update/archive/create act on patients, cancel on upcoming appointments; malformed creates patients
        a sync must quarantine (an impossible date of birth, or a non-numeric id). Each bumps updated_at.
        """
        with self._lock:
            rng = self._gen.rng
            now = self._change_time()
            stamp = iso(now)
            touched: dict[str, list[str]] = {kind: [] for kind in CHANGE_KINDS}
            patients, appointments = self._tables["patients"], self._tables["individual_appointments"]

            live = [r.id for r in patients.rows if r.index["archived_at"] is None and r.id.isdigit()]
            picked = rng.sample(live, min(update + archive, len(live)))
            for record_id in picked[:update]:
                address = f"{rng.randint(1, 300)} Updated Street"
                patients.edit(record_id, lambda p, a=address: p.update(address_1=a, updated_at=stamp))
                touched["update"].append(record_id)
            for record_id in picked[update:]:
                patients.edit(record_id, lambda p: p.update(archived_at=stamp, updated_at=stamp))
                touched["archive"].append(record_id)
            for _ in range(create):
                touched["create"].append(patients.add(self._gen.patient(now, now)).id)

            upcoming = [r.id for r in appointments.rows if r.index["cancelled_at"] is None
                        and r.index["archived_at"] is None and r.index["starts_at"] > stamp]
            for record_id in rng.sample(upcoming, min(cancel, len(upcoming))):
                appointments.edit(record_id, lambda a: (self._gen.cancel(a, now), a.update(updated_at=stamp)))
                touched["cancel"].append(record_id)

            for n in range(malformed):
                patient = self._gen.patient(now, now)
                if n % 2 == 0:
                    patient["date_of_birth"] = "31/02/1980"
                else:
                    bad_id = f"x{patient['id'][-8:]}"
                    patient.update(id=bad_id, links={"self": f"{BASE}/patients/{bad_id}"},
                                   appointments=link(f"patients/{bad_id}/appointments"))
                touched["malformed"].append(patients.add(patient).id)
            self._invalidate()
            return touched

    def summary(self) -> dict[str, Any]:
        with self._lock:
            t = self._tables

            def count(table: str, field: str | None = None) -> int:
                rows = t[table].rows
                return len(rows) if field is None else sum(1 for r in rows if r.index[field] is not None)

            return {
                "anchor": iso(self.anchor),
                "patients": count("patients"),
                "archived_patients": count("patients", "archived_at"),
                "appointments": count("individual_appointments"),
                "cancelled_appointments": count("individual_appointments", "cancelled_at"),
                "practitioners": count("practitioners"),
                "appointment_types": count("appointment_types"),
                "businesses": count("businesses"),
            }


def _page_link(base: str, resource: str, params: list[tuple[str, str]], page: int) -> str:
    """The same query with another page number (links keep filters, sort and per_page)."""
    kept = [(k, v) for k, v in params if k != "page"] + [("page", str(page))]
    return f"{base}/{resource}?{urlencode(kept)}"
