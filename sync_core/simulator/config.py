"""Knobs of the Cliniko simulator."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

DEFAULT_TEST_KEY = "sim-test-key-au1"


@dataclass
class SimulatorConfig:
    patients: int = 60
    appointments: int = 150
    seed: int = 42
    # Per-request latency in ms; jitter is a fraction of it (0.5 = latency ± 50 %).
    latency_ms: float = 0.0
    latency_jitter: float = 0.0
    # Requests accepted per API key per window (None = unlimited); over it: 429 + X-RateLimit-Reset.
    rate_limit: int | None = None
    rate_window_seconds: float = 60.0
    # Share of API requests answered by an HTML 502 or an empty 504 instead of the data.
    fault_rate: float = 0.0
    # Every list page after the first also repeats the last N records of the page before it, as Cliniko's
    # offset pages do when records are added ahead of a reader while it pages.
    page_overlap: int = 0
    api_keys: tuple[str, ...] = (DEFAULT_TEST_KEY,)
    # Generated dates are relative to this instant (default: today 00:00 UTC): a seed gives one clinic.
    anchor: datetime | None = None
    practitioners: int = 5
    inactive_practitioners: int = 2
    archived_patient_rate: float = 0.08
    cancelled_appointment_rate: float = 0.10
    require_user_agent: bool = True
    request_log_size: int = 200_000
    # The demo clinic inside the public app: /_control answers only to this machine.
    control_loopback_only: bool = False

    # Fields that POST /_control/config may change while running.
    RUNTIME_FIELDS = ("latency_ms", "latency_jitter", "rate_limit", "rate_window_seconds", "fault_rate",
                      "page_overlap")

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown simulator setting {name!r}")
            setattr(self, name, value)
        self.validate()

    def validate(self) -> None:
        if self.patients < 0 or self.appointments < 0:
            raise ValueError("patients and appointments must be >= 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 or None")
        if self.rate_window_seconds <= 0:
            raise ValueError("rate_window_seconds must be > 0")
        if self.page_overlap < 0:
            raise ValueError("page_overlap must be >= 0")
        if self.latency_ms < 0 or not 0.0 <= self.latency_jitter <= 1.0:
            raise ValueError("latency_ms must be >= 0 and latency_jitter between 0 and 1")
