"""Several shared states on one link token, under one lock: a fix of Reflex 0.10.1 for its Redis manager.

An organization's shared states (LiveSync, LiveActivity, LiveStats, LiveChanges, LiveInventory) are all
linked to one token, `org_link_token(org)`. Reflex locks a linked token once per event and keeps it for the
event; `SharedStateBaseInternal._internal_patch_linked_state` (reflex/istate/shared.py:338-361) does so
for the first shared state of the token, and fetches every further one with a plain
`get_state_manager().get_state(...)`. The memory and disk managers return their one cached tree there. The
Redis manager (REFLEX_REDIS_URL, i.e. every multi-worker deployment) returns a fresh copy read from Redis
(istate/manager/redis.py:362-380), outside the lock, that is never written back: whatever the event changes
in it is lost, and so is the tab's entry in its `_linked_from` (shared.py:369-370). The fan-out to linked
tabs reads `_linked_from` (shared.py:494-519), so writes to LiveSync reached no browser, on any worker.

`LinkedUnderOneLock` is that method with the one difference: a further state of a token already locked in
this event is taken from the locked tree, so it is saved with it. One token per organization (not one per
state) keeps one lock per organization per event: several tokens would be locked in whatever order each
handler touches them, and two events taking two of them in opposite orders would wait on each other until
Reflex's lock expires (10 s). Reflex is pinned (pyproject.toml); tests/integration/test_shared_links.py
checks this against a real Redis, so an upgrade that changes the internals used here fails there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from reflex.istate.manager.token import BaseStateToken
from reflex.state import State
from reflex_base.utils.exceptions import ReflexRuntimeError

from routiq_app.live.presenters import org_link_token

# Where the locked tree of a token is kept: beside the linked states in the event's `_held_locks[token]`,
# under the root class (only SharedState instances are read from there as linked states).
_ROOT = State


class LinkedUnderOneLock:
    """Mixin for an rx.SharedState that shares its link token with other shared states: list it first."""

    async def _internal_patch_linked_state(self, token: str, full_delta: bool = False) -> Any:
        from reflex.istate.manager import get_state_manager
        from reflex.istate.shared import SharedState, _patch_state

        state: Any = self
        holder = state._linked_locks_holder()
        held = holder._held_locks
        if holder._exit_stack is None or held is None:
            msg = "Cannot link shared state outside of _modify_linked_states context."
            raise ReflexRuntimeError(msg)
        async with holder._held_locks_lock:
            if token not in held:
                root = await holder._exit_stack.enter_async_context(
                    get_state_manager().modify_state(BaseStateToken(ident=token, cls=type(state)))
                )
                # As Reflex does: later get_state calls on the linked root load the token's own instances.
                if (session := root.rx_router_session).client_token != token:
                    root.rx_router_session = dataclasses.replace(session, client_token=token)
                held[token] = {_ROOT: root}
        root = held[token].get(_ROOT)
        if root is None:  # locked by Reflex's own method (a shared state without this mixin)
            root = await get_state_manager().get_state(BaseStateToken(ident=token, cls=type(state)))
        # The fix: the locked tree, not a fresh copy. get_state loads the class into it if needed.
        linked_state = await root.get_state(type(state))
        if not isinstance(linked_state, SharedState):
            msg = f"Linked state for token {token} is not a SharedState."
            raise ReflexRuntimeError(msg)
        held[token].setdefault(type(state), linked_state)
        client_token = state.rx_router_session.client_token
        if client_token not in linked_state._linked_from:
            linked_state._linked_from.add(client_token)
        if linked_state._linked_to != token:
            linked_state._linked_to = token
        await holder._exit_stack.enter_async_context(
            _patch_state(original_state=state, linked_state=linked_state, full_delta=full_delta)
        )
        return linked_state


async def forget_closed_tabs(app: Any, organization_id: str, state_classes: tuple[type, ...]) -> int:
    """Drops the tabs whose socket is gone from the organization's shared states; returns how many tabs.

    Reflex 0.10.1 never removes a tab from `_linked_from`, and every write to the shared states checks each
    tab listed there (with Redis: one lookup per tab). Without this the list grows with every tab ever
    opened. A tab that reconnects later links itself again with the hydrate event it sends.
    """
    namespace = getattr(app, "event_namespace", None)
    if namespace is None:
        return 0
    sockets = namespace._token_manager  # Reflex's own fan-out asks it the same question
    closed: set[str] = set()
    token = BaseStateToken(ident=org_link_token(organization_id), cls=state_classes[0])
    async with app.modify_state(token) as root:
        for state_cls in state_classes:
            shared = await root.get_state(state_cls)
            for tab in list(shared._linked_from):
                if tab in closed or not await sockets.is_token_connected(tab):
                    shared._linked_from.discard(tab)
                    closed.add(tab)
    return len(closed)
