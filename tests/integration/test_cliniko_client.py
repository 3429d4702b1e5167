"""The Cliniko client against the simulator over real HTTP (no mocked transport)."""

from __future__ import annotations

import gc
import math
from datetime import UTC, datetime

import httpx
import pytest

from sync_core.cliniko.client import ClinikoClient, Page
from sync_core.cliniko.errors import ClinikoApiError, ClinikoAuthError, ClinikoNetworkError
from sync_core.cliniko.parse import parse_appointment, parse_patient

FAST = {"rate_limit": (100_000, 60.0), "backoff_initial": 0.01, "backoff_max": 0.05}


def client_for(sim, **kwargs) -> ClinikoClient:
    return ClinikoClient(
        sim.api_key, base_url=sim.base_url, contact_email="tests@routiq.example", **(FAST | kwargs)
    )


async def collect(client: ClinikoClient, resource: str, **kwargs) -> list[Page]:
    return [page async for page in client.iter_pages(resource, **kwargs)]


@pytest.mark.parametrize("patients", [0, 1, 100, 101, 10_000])
@pytest.mark.parametrize("concurrency", [1, 4])
async def test_pagination_returns_every_patient_once_in_page_order(simulator_factory, patients, concurrency):
    sim = simulator_factory(patients=patients, appointments=0)
    async with client_for(sim, page_concurrency=concurrency) as client:
        pages = await collect(client, "patients")
    expected_pages = max(1, math.ceil(patients / 100))
    assert [p.page_number for p in pages] == list(range(1, expected_pages + 1))
    assert all(p.total_pages == expected_pages and p.total_entries == patients for p in pages)
    assert all(len(p.items) <= 100 for p in pages)
    ids = [item["id"] for p in pages for item in p.items]
    assert len(ids) == len(set(ids)) == patients
    assert set(ids) == sim.clinic.ids("patients")
    assert client.stats.requests == expected_pages == sim.stats()["total"]


async def test_every_archived_patient_and_cancelled_appointment_is_found(simulator_factory):
    sim = simulator_factory(patients=500, appointments=1500)
    archived, cancelled = (
        sim.clinic.ids("patients", archived=True),
        sim.clinic.ids("individual_appointments", cancelled=True),
    )
    assert len(archived) == 40 and len(cancelled) == 150  # 8 % and 10 % of the clinic
    async with client_for(sim) as client:
        patients = [i for p in await collect(client, "patients") for i in p.items]
        appointments = [i for p in await collect(client, "individual_appointments") for i in p.items]
        visible = [i for p in await collect(client, "patients", include_hidden=False) for i in p.items]
    assert {p["id"] for p in patients} == sim.clinic.ids("patients")
    assert archived <= {p["id"] for p in patients}
    assert {a["id"] for a in appointments} == sim.clinic.ids("individual_appointments")
    assert cancelled <= {a["id"] for a in appointments}
    assert not archived & {p["id"] for p in visible}  # Cliniko hides them without the filter
    rows = [parse_appointment(a) for a in appointments]
    assert sum(1 for r in rows if r["cancelled_at"] is not None) == len(cancelled)
    assert sum(1 for r in map(parse_patient, patients) if r["merged_into_cliniko_patient_id"]) >= 1


async def test_practitioners_come_from_active_and_inactive_lists(simulator):
    async with client_for(simulator) as client:
        active = [i for p in await collect(client, "practitioners") for i in p.items]
        inactive = [i for p in await collect(client, "practitioners/inactive") for i in p.items]
    appointment_practitioners = {
        a["practitioner"]["links"]["self"].rsplit("/", 1)[1]
        for a in simulator.clinic.records("individual_appointments")
    }
    assert inactive and active
    assert appointment_practitioners <= {p["id"] for p in active + inactive}


async def test_19_digit_ids_survive_exactly(simulator):
    async with client_for(simulator) as client:
        pages = await collect(client, "individual_appointments")
    for item in (i for p in pages for i in p.items):
        row = parse_appointment(item)
        stored = simulator.clinic.find("individual_appointments", item["id"])
        assert row["cliniko_appointment_id"] == stored["id"] and len(stored["id"]) == 19
        assert int(stored["id"]) > 2**53  # would be corrupted by a float
        assert row["cliniko_patient_id"] == stored["patient"]["links"]["self"].rsplit("/", 1)[1]


async def test_bad_key_fails_with_auth_error_after_exactly_one_request(simulator_factory):
    sim = simulator_factory()
    async with ClinikoClient("wrong-key-au1", base_url=sim.base_url, **FAST) as client:
        with pytest.raises(ClinikoAuthError) as err:
            await collect(client, "patients")
    assert err.value.error_type == "CLINIKO_AUTH_FAILED" and err.value.status_code == 401
    assert "API key" in err.value.message
    assert sim.stats()["total"] == 1


async def test_test_connection_reports_shard_and_patient_count(simulator_factory):
    sim = simulator_factory(patients=250, appointments=0)
    async with client_for(sim) as client:
        result = await client.test_connection()
    assert result.ok and result.shard == "au1" and result.error_type is None
    assert result.patient_count == 250  # archived patients included
    assert result.response_time_ms >= 0
    async with ClinikoClient("nope-au1", base_url=sim.base_url, **FAST) as client:
        failed = await client.test_connection()
    assert not failed.ok and failed.error_type == "CLINIKO_AUTH_FAILED" and failed.patient_count is None


async def test_twenty_percent_faults_still_end_with_every_record(simulator_factory):
    sim = simulator_factory(patients=2000, appointments=2000, fault_rate=0.2)
    async with client_for(sim, page_concurrency=4, max_retries=10) as client:
        patients = {i["id"] for p in await collect(client, "patients") for i in p.items}
        appointments = {i["id"] for p in await collect(client, "individual_appointments") for i in p.items}
    assert patients == sim.clinic.ids("patients")
    assert appointments == sim.clinic.ids("individual_appointments")
    assert sim.stats()["faults"] > 0 and client.stats.retries == sim.stats()["faults"]
    statuses = sim.stats()["by_status"]
    assert statuses.get("502", 0) > 0 and statuses.get("504", 0) > 0  # HTML 502s and empty 504s


async def test_persistent_html_502_becomes_a_network_error_after_the_retry_budget(simulator_factory):
    sim = simulator_factory(fault_rate=1.0)
    async with client_for(sim, max_retries=2) as client:
        with pytest.raises(ClinikoNetworkError) as err:
            await client.get("patients")
    assert err.value.error_type == "NETWORK_ERROR"
    assert sim.stats()["total"] == 3


async def test_400_is_not_retried_and_explains_itself(simulator):
    async with client_for(simulator) as client:
        with pytest.raises(ClinikoApiError) as err:
            await collect(client, "patients", extra_query=[("q[]", "notes:~pain")])
    assert err.value.status_code == 400 and "not searchable" in err.value.message
    assert simulator.stats()["total"] == 1


async def test_429_storm_waits_for_the_reset_and_ends_with_every_record(simulator_factory):
    sim = simulator_factory(patients=2500, appointments=0, rate_limit=8, rate_window_seconds=1.0)
    # The client believes in a far higher limit, so it runs into the simulator's.
    async with client_for(sim, page_concurrency=1, rate_limit=(1000, 1.0)) as client:
        ids = {i["id"] for p in await collect(client, "patients") for i in p.items}
    assert ids == sim.clinic.ids("patients")
    resets = sim.rate_limit_resets()
    assert resets and client.stats.rate_limited == len(resets)
    log = sim.request_log()
    for limited_at, reset in resets:
        later = [t for t, _path, _status in log if t > limited_at]
        assert later and min(later) >= reset  # nothing was sent before the announced reset


async def test_client_at_the_simulators_limit_never_gets_a_429(simulator_factory):
    sim = simulator_factory(
        patients=3000,
        appointments=0,
        rate_limit=10,
        rate_window_seconds=1.0,
        latency_ms=40,
        latency_jitter=0.9,
    )
    async with client_for(sim, page_concurrency=4, rate_limit=(10, 1.0)) as client:
        ids = {i["id"] for p in await collect(client, "patients") for i in p.items}
    assert ids == sim.clinic.ids("patients")
    assert client.stats.rate_limited == 0 and sim.stats()["rate_limited"] == 0
    assert client.stats.throttle_wait_seconds > 0  # 30 pages at 10 per second had to wait
    # No window of the limit's length saw more than the limit.
    times = sorted(t for t, _path, status in sim.request_log() if status == 200)
    assert all(times[i + 10] - times[i] >= 1.0 for i in range(len(times) - 10))


async def test_incremental_read_returns_exactly_the_changed_records(simulator_factory):
    sim = simulator_factory(patients=400, appointments=800)
    since = datetime.now(UTC)
    touched = sim.apply_changes(update=5, archive=3, create=4, cancel=6, malformed=2)
    async with client_for(sim) as client:
        patients = [i for p in await collect(client, "patients", updated_since=since) for i in p.items]
        appointments = [
            i for p in await collect(client, "individual_appointments", updated_since=since) for i in p.items
        ]
    expected = {*touched["update"], *touched["archive"], *touched["create"], *touched["malformed"]}
    assert {p["id"] for p in patients} == expected and len(patients) == len(expected)
    assert {a["id"] for a in appointments} == set(touched["cancel"])
    assert all(a["cancelled_at"] for a in appointments)
    updated_at = [p["updated_at"] for p in patients]
    assert updated_at == sorted(updated_at)  # sort=updated_at


async def test_every_request_carries_auth_accept_and_user_agent(simulator):
    async with client_for(simulator) as client:
        await client.get("user")
    # The simulator enforces the User-Agent rule and Basic auth: a bare request is refused.
    async with httpx.AsyncClient() as raw:
        no_agent = await raw.get(
            f"{simulator.base_url}/user", auth=(simulator.api_key, ""), headers={"User-Agent": ""}
        )
        no_auth = await raw.get(f"{simulator.base_url}/user", headers={"User-Agent": "X (a@b.co)"})
    assert no_agent.status_code == 403 and no_auth.status_code == 401
    assert simulator.stats()["by_status"] == {"200": 1, "403": 1, "401": 1}


def test_one_limiter_per_key_shared_by_clients():
    a = ClinikoClient("shared-key-au2", rate_limit=(20, 6.0))
    b = ClinikoClient("shared-key-au2", rate_limit=(20, 6.0))
    c = ClinikoClient("other-key-au2", rate_limit=(20, 6.0))
    assert a.limiter is b.limiter and a.limiter is not c.limiter
    assert a.base_url == "https://api.au2.cliniko.com/v1"


async def test_stopping_early_cancels_pages_in_flight(simulator_factory):
    from contextlib import aclosing

    sim = simulator_factory(patients=2000, appointments=0, latency_ms=50)
    async with client_for(sim, page_concurrency=4) as client:
        async with aclosing(client.iter_pages("patients")) as pages:
            async for page in pages:
                if page.page_number == 3:
                    break
        requests_when_stopped = client.stats.requests
        assert requests_when_stopped <= 3 + 4  # page 1 plus at most page_concurrency ahead
        # Nothing was left running in the background: a new read starts from a quiet client.
        first = await anext(aiter(client.iter_pages("businesses")))
        assert first.total_entries == 2
    assert client.stats.requests == requests_when_stopped + 1


async def test_client_for_a_stored_connection_uses_its_key_and_url_override(pg_url, simulator_factory):
    from sync_core import accounts
    from sync_core.cliniko.client import client_for_connection
    from sync_core.db import session_scope
    from sync_core.models import ClinikoConnection

    sim = simulator_factory(patients=120, appointments=0)
    with session_scope(pg_url) as session:
        org = accounts.create_organization(session, name="Client test clinic")
        accounts.set_cliniko_connection(session, org.id, api_key=sim.api_key, base_url_override=sim.base_url)
        conn = session.get(ClinikoConnection, org.id)
        assert conn.api_key_encrypted != sim.api_key  # stored encrypted
    async with client_for_connection(conn, page_concurrency=2) as client:
        assert client.base_url == sim.base_url and client.shard == "au1"
        assert (await client.test_connection()).patient_count == 120


async def test_a_page_read_is_freed_without_the_cycle_collector(simulator_factory):
    # Syncs run with the cycle collector slowed down (engine/gc_tuning.py): a page whose response waited
    # for it (httpx's response and stream point at each other) stayed in memory, and memory grew with the
    # clinic's size. Pages read and dropped must be freed by reference counting alone.
    sim = simulator_factory(patients=1000, appointments=0)

    def responses_alive() -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, httpx.Response))

    gc.collect()
    gc.disable()
    try:
        before = responses_alive()
        async with client_for(sim, page_concurrency=2) as client:
            read = 0
            async for page in client.iter_pages("patients"):
                read += len(page.records)
            alive = responses_alive() - before
    finally:
        gc.enable()
    assert read == 1000 and client.stats.requests == 10
    assert alive <= 1  # at most the one being handed over
