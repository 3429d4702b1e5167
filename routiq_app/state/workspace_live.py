"""The clinic workspace's live state: the organization's recent record changes and its inventory list,
shared by every open tab (rx.SharedState linked per organization), plus each tab's own notifications.

The bridge (routiq_app/live/workspace_bridge.py) writes the shared states from `data.changed` events; each
tab's views merge the newest versions from `LiveChanges.changes` into what they loaded (a delta, never a
reload). Unlike the sync progress, these records are staff-only clinic data: every linked tab belongs to a
signed-in staff member of the same organization, who may read them anyway; logout unlinks the tab.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from routiq_app.live.links import LinkedUnderOneLock
from routiq_app.live.presenters import org_link_token
from routiq_app.live.workspace_changes import INVENTORY, Change, append_changes, merge_rows, notices_for
from sync_core import workspace
from sync_core.db import session_scope
from sync_core.workspace import Actor


def actor_for(ctx: Any) -> Actor:
    """The UI's actor for a validated StaffContext: shown to others as the person's name (or email)."""
    return Actor(organization_id=ctx.organization_id, name=ctx.full_name or ctx.email, role=ctx.role)


def _inventory_sort(row: dict[str, Any]) -> str:
    return str(row.get("name", "")).lower()


class LiveChanges(LinkedUnderOneLock, rx.SharedState):
    """The newest workspace changes of the organization (records included), numbered by `change_seq`."""

    change_seq: int = 0
    changes: list[dict[str, Any]] = []

    def _add_changes(self, entries: list[Change]) -> None:
        changes, seq = append_changes(self.changes, self.change_seq, entries)
        if seq != self.change_seq:
            self.changes, self.change_seq = changes, seq


class LiveInventory(LinkedUnderOneLock, rx.SharedState):
    """The organization's inventory, loaded once and then patched by id from each change's record."""

    items: list[dict[str, Any]] = []
    loaded: bool = False

    def _patch(self, entries: list[Change]) -> None:
        if self.loaded:
            self.items = merge_rows(self.items, entries, INVENTORY, sort_key=_inventory_sort)

    def _load(self, rows: list[dict[str, Any]], recent: list[Change]) -> None:
        # Changes that landed while the rows were read are applied again (versions decide).
        self.items = merge_rows(rows, recent, INVENTORY, sort_key=_inventory_sort)
        self.loaded = True


def _inventory_rows(organization_id: str) -> list[dict[str, Any]]:
    with session_scope() as session:
        return workspace.list_inventory(session, organization_id)


async def link_inventory(state: rx.State, organization_id: str) -> LiveInventory:
    """Links the tab to its organization's inventory, reading it from the database the first time."""
    inventory = await (await state.get_state(LiveInventory))._link_to(org_link_token(organization_id))
    if not inventory.loaded:
        rows = await asyncio.to_thread(_inventory_rows, organization_id)
        changes = await state.get_state(LiveChanges)
        inventory._load(rows, list(changes.changes))
    return inventory


class WorkspaceNotices(rx.State):
    """This tab's notifications of other people's changes ("Dr Lee used 2 units of Gloves")."""

    me: str = ""
    seen_seq: int = 0

    @rx.var
    async def notices(self) -> list[dict[str, Any]]:
        live = await self.get_state(LiveChanges)
        return notices_for(live.changes, self.me, self.seen_seq)

    @rx.event
    async def dismiss(self) -> None:
        self.seen_seq = (await self.get_state(LiveChanges)).change_seq


async def join_workspace(state: rx.State, ctx: Any) -> None:
    """Called when a tab joins its organization's live state: links the changes feed; a new person on the
    tab starts with no old notifications."""
    live = await (await state.get_state(LiveChanges))._link_to(org_link_token(ctx.organization_id))
    tab = await state.get_state(WorkspaceNotices)
    me = actor_for(ctx).name
    if tab.me != me:
        tab.me, tab.seen_seq = me, live.change_seq


async def leave_workspace(state: rx.State) -> list[Any]:
    """Unlinks the workspace's shared states (logout); returns Reflex's rehydrate events."""
    events: list[Any] = []
    for state_cls in (LiveChanges, LiveInventory):
        shared = await state.get_state(state_cls)
        if shared._linked_to:
            events.extend(await shared._unlink() or [])
    tab = await state.get_state(WorkspaceNotices)
    tab.me, tab.seen_seq = "", 0
    from routiq_app.state.appointment_notes import AppointmentNotesState
    from routiq_app.state.inventory import InventoryState
    from routiq_app.state.patient_workspace import PatientWorkspaceState
    from routiq_app.state.referrals import ReferralsState

    for page_state in (AppointmentNotesState, InventoryState, PatientWorkspaceState, ReferralsState):
        (await state.get_state(page_state)).reset()  # the next person on this tab sees none of it
    return events
