"""The web process's own log lines (scheduler, sync engine, live push) on stderr at ROUTIQ_LOG_LEVEL.

Reflex configures only its own loggers, so without this the app's INFO lines ("Starting automated
comprehensive sync for organization ...", which worker writes the live state) were never shown: Python's
last-resort handler prints warnings and errors only. It runs as a lifespan context, i.e. in every worker
after the server has set up logging for it (Granian replaces fork-inherited handlers).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator

from sync_core.config import get_settings

APP_LOGGERS = ("sync_core", "routiq")
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"


def configure_app_logging() -> None:
    level = getattr(logging, get_settings().log_level.upper(), logging.INFO)
    for name in APP_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(getattr(h, "_routiq", False) for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(_FORMAT))
            handler._routiq = True  # type: ignore[attr-defined]  (found again on a dev hot reload)
            logger.addHandler(handler)
        logger.propagate = False  # once, even if something configures the root logger too


@contextlib.asynccontextmanager
async def app_logging() -> AsyncIterator[None]:
    configure_app_logging()
    yield
