"""The live-writer lease on a real Redis: one holder among the workers, handed over when it lets go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from routiq_app.live import writer
from routiq_app.live.writer import LEASE_KEY, LEASE_TTL_S, WriterLease
from tests.fixtures.redis_db import redis_database


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    with redis_database() as url:
        client = aioredis.from_url(url)
        yield client
        await client.aclose()


async def test_one_worker_holds_the_lease_until_it_lets_go(client: aioredis.Redis) -> None:
    first, second = WriterLease(client), WriterLease(client)
    assert await first.renew() and first.held
    assert not await second.renew() and not second.held  # taken
    assert await first.renew()  # the holder extends it
    assert 0 < await client.pttl(LEASE_KEY) <= LEASE_TTL_S * 1000

    await first.release()  # what a stopping worker does
    assert not first.held
    assert await second.renew() and second.held
    assert not await first.renew()  # now the other one's


async def test_a_waiting_worker_takes_over_and_is_told_so(
    client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "RENEW_EVERY_S", 0.05)  # the renewal period, shortened for the test
    holder, waiting = WriterLease(client), WriterLease(client)
    assert await holder.renew()
    took_over = asyncio.Event()
    task = asyncio.create_task(waiting.run(took_over.set))
    try:
        await holder.release()
        await asyncio.wait_for(took_over.wait(), timeout=5)
        assert waiting.held and not holder.held
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_without_redis_every_worker_writes() -> None:
    lease = WriterLease(None)
    assert lease.held and await lease.renew()
    await lease.run(lambda: None)  # nothing to keep: returns at once
