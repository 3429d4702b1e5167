"""The Reflex app: pages, live state, the REST API and the background services, wired together."""

import reflex as rx

from routiq_app.api import create_api
from routiq_app.background import scheduler_lifespan
from routiq_app.live.bridge import live_updates
from routiq_app.logs import app_logging
from routiq_app.pages import (  # noqa: F401 (registers pages)
    appointments,
    dashboard,
    inventory,
    login,
    patients,
    referrals,
    settings,
    syncs,
)

api = create_api()

app = rx.App(api_transformer=api, head_components=[rx.el.link(rel="icon", href="/favicon.svg")])

# First, so the tasks below log from the start.
app.register_lifespan_task(app_logging)
# Engine events -> the organizations' shared live state (plus the cross-process bridge and the reaper).
app.register_lifespan_task(live_updates)
# Scheduled syncs (ENABLE_SYNC_SCHEDULER): any worker may run it; database claims keep it exactly-once.
app.register_lifespan_task(scheduler_lifespan)
