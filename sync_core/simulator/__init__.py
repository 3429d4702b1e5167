"""The built-in Cliniko simulator: a real HTTP API with Cliniko's behaviour and deterministic clinic data.

- `create_app(SimulatorConfig(...))`: a Starlette app serving `/v1/...` (patients, individual_appointments,
  appointment_types, practitioners, practitioners/inactive, businesses, user, settings) and `/_control/...`:
  `POST /_control/changes {"update": n, "archive": n, "create": n, "cancel": n, "malformed": n}` (returns the
  ids touched per kind), `GET /_control/stats`, `POST /_control/config` (latency_ms, latency_jitter,
  rate_limit, rate_window_seconds, fault_rate, page_overlap), `POST /_control/reset`.
  `app.state.simulator` holds the clinic (`.clinic`), knobs (`.config`) and counters (`.stats()`,
  `.request_log()`).
- `create_demo_app()`: the demo clinic mounted at /_simulator by the web app (648 patients, 1,247
  appointments, key `sync_core.demo.DEMO_CLINIKO_KEY`, controls answer only to this machine).
- `routiq simulator --port ... --patients ... --rate-limit ... --fault-rate ...`: standalone server.
- Tests: the `simulator_factory` / `simulator` fixtures in tests/fixtures/simulator.py.
"""

from sync_core.simulator.app import SimulatorState, create_app, create_demo_app
from sync_core.simulator.clinic import CHANGE_KINDS, Clinic
from sync_core.simulator.config import DEFAULT_TEST_KEY, SimulatorConfig

__all__ = ["CHANGE_KINDS", "DEFAULT_TEST_KEY", "Clinic", "SimulatorConfig", "SimulatorState", "create_app",
           "create_demo_app"]
