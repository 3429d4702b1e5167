"""The Cliniko simulator over real HTTP: Cliniko's behaviour, its data, and its control knobs."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
import pytest
from fastapi import FastAPI

from sync_core.cliniko import parse as parsing
from sync_core.cliniko.client import ClinikoClient
from sync_core.demo import DEMO_CLINIKO_KEY
from sync_core.simulator import SimulatorConfig, create_app, create_demo_app
from sync_core.store import TARGETS
from tests.fixtures.examples import example
from tests.fixtures.servers import ThreadedServer

AGENT = {"User-Agent": "Routiq tests (tests@routiq.example)", "Accept": "application/json"}


def http(sim) -> httpx.Client:
    return httpx.Client(base_url=sim.base_url, auth=(sim.api_key, ""), headers=AGENT)


def test_links_keep_the_query_and_next_is_absent_on_the_last_page(simulator_factory):
    sim = simulator_factory(patients=250, appointments=0)
    with http(sim) as c:
        params = [
            ("per_page", "100"),
            ("q[]", "archived_at:*"),
            ("q[]", "created_at:>2000-01-01T00:00:00Z"),
            ("sort", "updated_at"),
        ]
        first = c.get("/patients", params=params).json()
        assert first["total_entries"] == 250 and len(first["patients"]) == 100
        nxt = first["links"]["next"]
        query = parse_qsl(urlsplit(nxt).query)
        assert sorted(query) == sorted([*params, ("page", "2")])
        assert urlsplit(nxt).path == "/v1/patients" and nxt.startswith(sim.base_url)
        second = c.get(nxt).json()
        assert "previous" in second["links"]
        last = c.get(second["links"]["next"]).json()
        assert len(last["patients"]) == 50 and "next" not in last["links"]
        ids = [p["id"] for page in (first, second, last) for p in page["patients"]]
        assert len(set(ids)) == 250


def test_page_overlap_repeats_the_end_of_the_previous_page(simulator_factory):
    sim = simulator_factory(patients=250, appointments=0, page_overlap=2)
    with http(sim) as c:
        pages = [c.get("/patients", params={"per_page": 100, "page": n, "q[]": "archived_at:*"}).json()
                 for n in (1, 2, 3)]
        changed = c.post(f"{sim.root_url}/_control/config", json={"page_overlap": 0}).json()
        plain = c.get("/patients", params={"per_page": 100, "page": 2, "q[]": "archived_at:*"}).json()
    ids = [[p["id"] for p in page["patients"]] for page in pages]
    assert [len(i) for i in ids] == [100, 102, 52] and ids[1][:2] == ids[0][-2:] and ids[2][:2] == ids[1][-2:]
    assert len({i for page in ids for i in page}) == 250 and pages[1]["total_entries"] == 250
    assert changed["page_overlap"] == 0 and [p["id"] for p in plain["patients"]] == ids[1][2:]


def test_per_page_above_100_is_refused_and_default_is_50(simulator):
    with http(simulator) as c:
        assert c.get("/patients", params={"per_page": 101}).status_code == 400
        assert c.get("/patients", params={"per_page": 0}).status_code == 400
        default = c.get("/patients", params={"q[]": "archived_at:*"}).json()
    assert len(default["patients"]) == 50


def test_hidden_records_need_the_star_filters(simulator_factory):
    sim = simulator_factory(patients=200, appointments=400)
    clinic = sim.clinic
    with http(sim) as c:
        visible = c.get("/patients", params={"per_page": 100}).json()["total_entries"]
        everything = c.get("/patients", params={"per_page": 100, "q[]": "archived_at:*"}).json()[
            "total_entries"
        ]
        archived_only = c.get("/patients", params={"q[]": "archived_at:?"}).json()["total_entries"]
        appts = c.get("/individual_appointments", params={"per_page": 1}).json()["total_entries"]
        with_cancelled = c.get(
            "/individual_appointments", params=[("per_page", "1"), ("q[]", "cancelled_at:*")]
        ).json()["total_entries"]
        all_appts = c.get(
            "/individual_appointments",
            params=[("per_page", "1"), ("q[]", "cancelled_at:*"), ("q[]", "archived_at:*")],
        ).json()["total_entries"]
        archived_id = next(iter(clinic.ids("patients", archived=True)))
        assert c.get(f"/patients/{archived_id}").status_code == 404
        assert c.get(f"/patients/{archived_id}", params={"q[]": "archived_at:*"}).json()["id"] == archived_id
    n_archived = len(clinic.ids("patients", archived=True))
    assert n_archived == 16  # 8 %
    assert (visible, everything, archived_only) == (200 - n_archived, 200, n_archived)
    n_cancelled = len(clinic.ids("individual_appointments", cancelled=True))
    n_hidden_appts = len(
        clinic.ids("individual_appointments", archived=True)
        | clinic.ids("individual_appointments", cancelled=True)
    )
    assert n_cancelled == 40  # 10 %
    assert all_appts == 400 and appts == 400 - n_hidden_appts
    assert with_cancelled == 400 - len(clinic.ids("individual_appointments", archived=True))


def test_filters_operators_and_sort(simulator_factory):
    sim = simulator_factory(patients=150, appointments=300)
    records = sim.clinic.records("individual_appointments")
    patient_id = records[0]["patient"]["links"]["self"].rsplit("/", 1)[1]
    cutoff = sorted(r["updated_at"] for r in records)[150]
    with http(sim) as c:

        def get_all(resource, params):
            base = [("per_page", "100"), ("q[]", "cancelled_at:*"), ("q[]", "archived_at:*")]
            return c.get(f"/{resource}", params=base + params).json()

        by_patient = get_all("individual_appointments", [("q[]", f"patient_id:={patient_id}")])
        expected = [r for r in records if r["patient"]["links"]["self"].endswith("/" + patient_id)]
        assert by_patient["total_entries"] == len(expected) >= 1
        newer = get_all(
            "individual_appointments", [("q[]", f"updated_at:>={cutoff}"), ("sort", "updated_at")]
        )
        stamps = [a["updated_at"] for a in newer["individual_appointments"]]
        assert newer["total_entries"] == sum(1 for r in records if r["updated_at"] >= cutoff)
        assert stamps == sorted(stamps)
        desc = get_all("individual_appointments", [("sort", "starts_at:desc")])["individual_appointments"]
        assert [a["starts_at"] for a in desc] == sorted((a["starts_at"] for a in desc), reverse=True)
        default = c.get("/patients", params=[("per_page", "100"), ("q[]", "archived_at:*")]).json()[
            "patients"
        ]
        assert [p["created_at"] for p in default] == sorted(p["created_at"] for p in default)
        cancelled = get_all("individual_appointments", [("q[]", "cancelled_at:?")])
        assert cancelled["total_entries"] == len(sim.clinic.ids("individual_appointments", cancelled=True))
        some = sorted(sim.clinic.ids("patients"))[:3]
        listed = c.get(
            "/patients", params=[("q[]", "archived_at:*"), ("q[]", f"id:={','.join(some)}")]
        ).json()
        assert sorted(p["id"] for p in listed["patients"]) == some
        bad = c.get("/patients", params={"q[]": "notes:~x"})
        assert bad.status_code == 400 and bad.json() == {"message": "This column is not searchable."}
        assert c.get("/patients", params={"q[]": "updated_at:>=yesterday"}).status_code == 400


def test_data_is_deterministic_and_realistic():
    anchor = datetime(2026, 1, 15, tzinfo=UTC)
    one = create_app(SimulatorConfig(patients=2000, appointments=5000, seed=7, anchor=anchor)).state.simulator
    two = create_app(SimulatorConfig(patients=2000, appointments=5000, seed=7, anchor=anchor)).state.simulator
    other = create_app(
        SimulatorConfig(patients=2000, appointments=5000, seed=8, anchor=anchor)
    ).state.simulator
    patients, appointments = one.clinic.records("patients"), one.clinic.records("individual_appointments")
    assert patients == two.clinic.records("patients") and appointments == two.clinic.records(
        "individual_appointments"
    )
    assert patients != other.clinic.records("patients")
    names = " ".join(f"{p['first_name']} {p['last_name']}" for p in patients)
    assert "'" in names and "-" in names and any(ord(ch) > 0x2000 for ch in names)  # apostrophes, CJK...
    assert any(ch in names for ch in "éëöüáñ")
    assert sum(1 for p in patients if not p["email"]) > 100
    assert sum(1 for p in patients if not p["patient_phone_numbers"]) > 100
    assert sum(1 for p in patients if p["date_of_birth"] is None) > 100
    assert sum(1 for p in patients if p["archived_at"] == "") > 20  # legacy "" null date-times
    assert sum(1 for a in appointments if a["cancelled_at"] == "") > 100
    assert sum(1 for p in patients if p["archived_at"]) == 160
    assert sum(1 for p in patients if p["merged_with_patient"]) >= 20
    assert sum(1 for a in appointments if a["cancelled_at"]) == 500
    starts = [datetime.fromisoformat(a["starts_at"]) for a in appointments]
    assert min(starts) >= anchor - timedelta(days=549) and max(starts) <= anchor + timedelta(days=62)
    assert 400 < sum(1 for s in starts if s > anchor) < 600  # the next 2 of 20 months
    assert all(datetime.fromisoformat(r["updated_at"]) < anchor for r in patients + appointments)
    ids = [r["id"] for r in patients + appointments]
    assert all(len(i) == 19 and i.isdigit() for i in ids) and len(set(ids)) == len(ids)
    assert all(date.fromisoformat(p["date_of_birth"]) for p in patients if p["date_of_birth"])


def test_changes_and_malformed_records(simulator):
    before = simulator.clinic.summary()
    touched = simulator.apply_changes(update=2, archive=3, create=4, cancel=5, malformed=2)
    assert {k: len(v) for k, v in touched.items()} == {
        "update": 2,
        "archive": 3,
        "create": 4,
        "cancel": 5,
        "malformed": 2,
    }
    after = simulator.clinic.summary()
    assert after["patients"] == before["patients"] + 6
    assert after["archived_patients"] == before["archived_patients"] + 3
    assert after["cancelled_appointments"] == before["cancelled_appointments"] + 5
    bad = [simulator.clinic.find("patients", i) for i in touched["malformed"]]
    assert bad[0]["date_of_birth"] == "31/02/1980" and not bad[1]["id"].isdigit()
    with http(simulator) as c:  # served, so the engine sees (and quarantines) them
        listed = c.get("/patients", params=[("per_page", "100"), ("q[]", "archived_at:*")]).json()
    assert set(touched["malformed"]) <= {p["id"] for p in listed["patients"]}


def test_control_endpoints(simulator):
    with httpx.Client(base_url=simulator.root_url) as c:
        changed = c.post("/_control/changes", json={"create": 2, "cancel": 1}).json()
        assert len(changed["create"]) == 2 and len(changed["cancel"]) == 1
        assert c.post("/_control/changes", json={"explode": 1}).status_code == 400
        assert c.post("/_control/config", json={"fault_rate": 1.0}).json()["fault_rate"] == 1.0
        with http(simulator) as api:
            assert api.get("/patients").status_code in (502, 504)
        c.post("/_control/config", json={"fault_rate": 0.0, "rate_limit": 1, "rate_window_seconds": 30})
        with http(simulator) as api:
            assert api.get("/user").status_code == 200
            limited = api.get("/user")
            assert limited.status_code == 429
            assert int(limited.headers["X-RateLimit-Reset"]) >= time.time()
        stats = c.get("/_control/stats").json()
        assert stats["faults"] == 1 and stats["rate_limited"] == 1 and stats["total"] == 3
        assert stats["by_path"]["/v1/user"] == 2
        reset = c.post("/_control/reset").json()
        assert reset["patients"] == 60
        assert c.get("/_control/stats").json()["total"] == 0


def test_key_with_or_without_shard_suffix_and_wrong_password_rules(simulator):
    short_key = simulator.api_key.rsplit("-", 1)[0]
    with httpx.Client(base_url=simulator.base_url, headers=AGENT) as c:
        assert c.get("/user", auth=(short_key, "")).status_code == 200
        denied = c.get("/user", auth=("someone-else-au1", ""))
        assert denied.status_code == 401 and denied.headers["content-type"].startswith("text/plain")


async def test_mounted_simulator_links_carry_the_mount_prefix():
    outer = FastAPI()
    outer.mount(
        "/_simulator", create_app(SimulatorConfig(patients=230, appointments=0, api_keys=("mnt-key-au1",)))
    )
    server = ThreadedServer(outer, name="mounted simulator")
    server.start()
    try:
        base = f"{server.root_url}/_simulator/v1"
        async with ClinikoClient(
            "mnt-key-au1", base_url=base, page_concurrency=1, rate_limit=(10_000, 60.0)
        ) as client:
            pages = [p async for p in client.iter_pages("patients")]
        assert [len(p.items) for p in pages] == [100, 100, 30]
        assert all(i["links"]["self"].startswith(base + "/patients/") for p in pages for i in p.items)
        assert client.stats.requests == 3
    finally:
        server.stop()


def test_request_statistics_count_by_status(simulator_factory):
    sim = simulator_factory(fault_rate=0.5, seed=3)
    with http(sim) as c:
        statuses = Counter(c.get("/businesses").status_code for _ in range(40))
    assert statuses[200] > 5 and statuses[502] + statuses[504] > 5
    assert sim.stats()["faults"] == statuses[502] + statuses[504]


@pytest.mark.parametrize("agent", ["", "python-httpx/0.28", "Routiq"])
def test_user_agent_without_contact_email_is_refused(simulator, agent):
    with httpx.Client(base_url=simulator.base_url) as c:
        response = c.get("/user", auth=(simulator.api_key, ""), headers={"User-Agent": agent})
    assert response.status_code == 403 and "User-Agent" in response.json()["message"]


def _oas_properties(schema_name: str) -> set[str]:
    schema = orjson.loads(example("oas-2023_selected-schemas.json").read_bytes())[
        f"components.schemas.{schema_name}"
    ]
    props = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        props |= set(part.get("properties", {}))
    return props


@pytest.mark.parametrize(
    ("resource", "schema", "parse"),
    [
        ("patients", "Patient", "parse_patient"),
        ("individual_appointments", "IndividualAppointment", "parse_appointment"),
        ("appointment_types", "AppointmentType", "parse_appointment_type"),
        ("practitioners", "Practitioner", "parse_practitioner"),
        ("businesses", "Business", "parse_business"),
    ],
)
def test_simulator_payloads_match_clinikos_schema_and_parse(resource, schema, parse):
    state = create_app(SimulatorConfig(patients=300, appointments=600)).state.simulator
    records = state.clinic.records(resource)
    documented = _oas_properties(schema)
    assert documented, schema
    for record in records:
        assert set(record) <= documented, set(record) - documented  # no invented fields
        payload = orjson.loads(
            state.clinic.record_body(resource, record["id"], "https://api.au1.cliniko.com/v1")
        )
        parser = getattr(parsing, parse)
        row = parser(payload, True) if resource == "practitioners" else parser(payload)
        assert row[TARGETS[resource].key] == record["id"]


def test_demo_clinic_matches_the_seeds_and_guards_its_controls():
    demo = create_demo_app()
    summary = demo.state.simulator.clinic.summary()
    assert (summary["patients"], summary["appointments"]) == (648, 1247)
    server = ThreadedServer(demo, name="demo simulator")
    server.start()
    try:
        root = server.root_url
        response = httpx.get(f"{root}/v1/businesses", auth=(DEMO_CLINIKO_KEY, ""), headers=AGENT)
        assert response.status_code == 200 and response.json()["total_entries"] == 1
        assert httpx.get(f"{root}/_control/stats").status_code == 200  # this machine may use the controls
    finally:
        server.stop()
    # Anyone else may not (the demo is mounted in the public app): an ASGI call from another peer.
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/_control/reset",
        "raw_path": b"/_control/reset",
        "query_string": b"",
        "headers": [],
        "client": ("203.0.113.9", 5000),
        "server": ("x", 80),
        "scheme": "http",
        "root_path": "",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(demo(scope, receive, send))
    assert sent[0]["status"] == 403
