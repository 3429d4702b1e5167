"""The organization's shared states on Reflex's Redis state manager, in process (no browser, no server).

With Reflex 0.10.1 alone, of several shared states linked to one token in one event only the first kept
the tab in its `_linked_from`; writes to the others then reached no tab (routiq_app/live/links.py). These
tests link them as a tab's login does and write as the live bridge does, against a real Redis.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
import reflex as rx
from reflex.istate.manager.redis import StateManagerRedis
from reflex.utils.token_manager import SocketRecord

from routiq_app.live.links import forget_closed_tabs
from routiq_app.live.presenters import org_link_token
from routiq_app.routiq_app import app as routiq_app
from routiq_app.state.auth import AuthState
from routiq_app.state.live import LiveActivity, LiveStats, LiveSync
from routiq_app.state.workspace_live import LiveChanges, LiveInventory
from tests.fixtures.redis_db import redis_database
from tests.fixtures.waiting import wait_for

SHARED = (LiveActivity, LiveStats, LiveSync, LiveChanges, LiveInventory)
ORG_TOKEN = org_link_token("org_links_test")


@pytest.fixture
async def app(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[rx.App]:
    """The Routiq app with the Redis state manager on a database of its own, its event processor running."""
    with redis_database() as url:
        manager = StateManagerRedis(redis=aioredis.from_url(url))
        monkeypatch.setattr(routiq_app, "_state_manager", manager)
        async with routiq_app._setup_event_processor():
            yield routiq_app
        await manager.close()


async def _link_tab(app: rx.App, tab: str) -> None:
    """What AuthState.require_login and the inventory page do for a tab, in one event."""
    async with app.modify_state(rx.BaseStateToken(ident=tab, cls=AuthState)) as root:
        # In a real event Reflex sets the tab's token from the socket's router data.
        root.rx_router_session = dataclasses.replace(root.rx_router_session, client_token=tab)
        for state_cls in SHARED:
            await (await root.get_state(state_cls))._link_to(ORG_TOKEN)
        # The tab writes to a shared state that is not the first one it linked (as _join_live does).
        (await root.get_state(LiveStats)).total_patients = 648


async def _shared(app: rx.App, state_cls: type[rx.SharedState]) -> Any:
    root = await app.state_manager.get_state(rx.BaseStateToken(ident=ORG_TOKEN, cls=state_cls))
    return await root.get_state(state_cls)


async def test_every_shared_state_linked_in_one_event_is_saved_with_the_tab(app: rx.App) -> None:
    tab = str(uuid.uuid4())
    await _link_tab(app, tab)
    for state_cls in SHARED:
        assert (await _shared(app, state_cls))._linked_from == {tab}, state_cls.__name__
    assert (await _shared(app, LiveStats)).total_patients == 648


async def test_a_write_to_the_organization_reaches_every_linked_tab(
    app: rx.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    tabs = [str(uuid.uuid4()) for _ in range(2)]
    for tab in tabs:
        await _link_tab(app, tab)
    namespace = app.event_namespace
    assert namespace is not None
    manager = namespace._token_manager
    for n, tab in enumerate(tabs):  # their sockets, as if connected to this worker
        record = SocketRecord(instance_id=manager.instance_id, sid=f"s{n}")
        monkeypatch.setitem(manager.token_to_socket, tab, record)
    sent: list[tuple[str, Any]] = []

    async def emit(event: str, data: Any, to: str | None = None, **_: Any) -> None:
        sent.append((to or "", data))

    monkeypatch.setattr(namespace, "emit", emit)

    # What the live bridge does for a progress event and its activity line: one write, two shared states.
    async with app.modify_state(rx.BaseStateToken(ident=ORG_TOKEN, cls=LiveSync)) as root:
        (await root.get_state(LiveSync)).percent = 42.0
        (await root.get_state(LiveActivity))._add_activity(
            "2025-01-01T12:00:00+00:00", [("step", "Step 4/8")]
        )

    def received(sid: str) -> set[str]:
        deltas = [update.delta for to, update in sent if to == sid]
        return {name for delta in deltas for name in delta}

    async def both_tabs_got_both() -> bool:
        wanted = {LiveSync.get_full_name(), LiveActivity.get_full_name()}
        return all(wanted <= received(f"s{n}") for n in range(len(tabs)))

    await wait_for(both_tabs_got_both, timeout=10, interval=0.02, what="the deltas of both tabs")
    sync_deltas = [
        update.delta[LiveSync.get_full_name()]
        for to, update in sent
        if to == "s0" and LiveSync.get_full_name() in update.delta
    ]
    # Reflex names a var in a delta "<name>_rx_state_".
    assert any(values.get("percent_rx_state_") == 42.0 for values in sync_deltas), sync_deltas


async def test_closed_tabs_are_unlinked_and_open_ones_stay(
    app: rx.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_tab, closed_tab = str(uuid.uuid4()), str(uuid.uuid4())
    for tab in (open_tab, closed_tab):
        await _link_tab(app, tab)
    namespace = app.event_namespace
    assert namespace is not None
    manager = namespace._token_manager
    record = SocketRecord(instance_id=manager.instance_id, sid="s-open")
    monkeypatch.setitem(manager.token_to_socket, open_tab, record)

    assert await forget_closed_tabs(app, "org_links_test", SHARED) == 1
    for state_cls in SHARED:
        assert (await _shared(app, state_cls))._linked_from == {open_tab}, state_cls.__name__
