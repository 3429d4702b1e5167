"""Relaxed garbage collection while syncs run, restored when the last one ends."""

from __future__ import annotations

import gc

from sync_core.engine.gc_tuning import SYNC_GEN0_THRESHOLD, relaxed_gc


def test_thresholds_are_raised_while_any_sync_runs_and_restored_after_the_last() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with relaxed_gc():
            assert gc.get_threshold() == (SYNC_GEN0_THRESHOLD, 10, 10)
            with relaxed_gc():  # a second sync in the same process
                assert gc.get_threshold()[0] == SYNC_GEN0_THRESHOLD
            assert gc.get_threshold()[0] == SYNC_GEN0_THRESHOLD  # the first one still runs
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_a_failing_sync_restores_the_thresholds_too() -> None:
    before = gc.get_threshold()
    try:
        with relaxed_gc():
            raise RuntimeError("sync failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
