"""Fewer garbage-collector passes while syncs run.

A sync allocates millions of short-lived objects (decoded JSON, parsed rows) that reference counting frees
on its own; none of them form cycles. With the default thresholds CPython still runs a collection every
700 allocations and regularly walks every object of the process, which cost 10-15 % of a large sync's CPU.
While at least one sync runs in the process, the first generation's threshold is raised; the previous
thresholds come back when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SYNC_GEN0_THRESHOLD = 50_000

_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def relaxed_gc() -> Iterator[None]:
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(SYNC_GEN0_THRESHOLD, _saved[0]), *_saved[1:])
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
