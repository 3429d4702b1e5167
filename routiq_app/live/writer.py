"""Which web worker writes the organizations' shared sync progress: all of them, or one at a time with Redis.

Every web worker hears every engine event, because the bridge relays each one to every process. Without
Redis each worker keeps its own copy of the shared states and must apply every event. With the Redis state
manager the whole deployment shares one copy, so applying every event in every worker is wrong, not just
wasteful: each activity line is appended once per worker, and worker A's write of an older event can land
after worker B's write of a newer one, so the bar moves back. So in a Redis deployment one worker holds a
short lease in that same Redis and is the only writer. If it stops or dies, another worker takes the lease
over within LEASE_TTL_S and first rewrites the latest sync state it has seen for each organization.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import reflex as rx

log = logging.getLogger("routiq.live")

LEASE_KEY = "routiq-live-writer"  # not "*_lock": Reflex watches those keys for its own state locks
LEASE_TTL_S = 6.0
RENEW_EVERY_S = LEASE_TTL_S / 3
_TTL_MS = int(LEASE_TTL_S * 1000)

# Takes the lease if it is free, or extends it if this worker holds it: one atomic step.
_ACQUIRE_OR_RENEW = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class WriterLease:
    """`held` says whether this worker writes the shared sync progress now (always True without Redis)."""

    def __init__(self, redis: Any | None) -> None:
        self._redis = redis
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._valid_until = 0.0

    @classmethod
    def for_app(cls, app: rx.App) -> WriterLease:
        from reflex.istate.manager.redis import StateManagerRedis

        manager = app.state_manager
        return cls(manager.redis if isinstance(manager, StateManagerRedis) else None)

    @property
    def held(self) -> bool:
        # Judged by the local clock as well: a worker whose loop stalled past the TTL stops writing even
        # before it learns that another one took over.
        return self._redis is None or time.monotonic() < self._valid_until

    async def run(self, on_acquired: Callable[[], None]) -> None:
        """Keeps the lease (or waits for it) until cancelled; calls `on_acquired` each time it is won."""
        if self._redis is None:
            return
        while True:
            had_it = self.held
            if await self.renew() and not had_it:
                log.info("this worker (%s) now writes the shared live sync state", self._owner)
                on_acquired()
            await asyncio.sleep(RENEW_EVERY_S)  # the renewal period, not a stand-in for a condition

    async def renew(self) -> bool:
        """One attempt: takes the lease if free, extends it if held. True when this worker holds it."""
        if self._redis is None:
            return True
        started = time.monotonic()
        try:
            won = await self._redis.eval(_ACQUIRE_OR_RENEW, 1, LEASE_KEY, self._owner, _TTL_MS)
        except Exception:
            log.warning("could not renew the live-writer lease", exc_info=True)
            won = 0
        self._valid_until = started + LEASE_TTL_S if won else 0.0
        return bool(won)

    async def release(self) -> None:
        """Hands the lease back at shutdown, so another worker takes over at its next renewal."""
        if self._redis is None or not self.held:
            return
        self._valid_until = 0.0
        with contextlib.suppress(Exception):
            await self._redis.eval(_RELEASE, 1, LEASE_KEY, self._owner)
