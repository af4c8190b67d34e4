"""A fake of the four providers' documented APIs, served over real HTTP on loopback.

Used by the integration tests (tests/fixtures_simulator.py), the benchmarks and the demo
(`manage.py simulate_providers`). One server answers every provider: their paths do not
collide, so the four *_BASE_URL settings all point at it.

- world.py: accounts from keys (`sim-<provider>-<name>[-n<count>]`), lazily generated jobs,
  time, edits; control.py: faults, rate limits, the request log; clock.py: clocks.
- apimall.py, apikley.py, audiopod.py, munsit.py: each provider's endpoints and wire format
  (their docstrings say which fields go beyond the providers' docs).
- simapi.py: the simulator's own /_sim/ endpoints; media.py: generated WAV/PNG files.
- server.py: the HTTP server.
"""

from .clock import Clock, FakeClock, SystemClock
from .control import Fault, LoggedRequest
from .server import SimulatorServer
from .world import World, external_id, parse_key

__all__ = [
    "Clock",
    "FakeClock",
    "Fault",
    "LoggedRequest",
    "SimulatorServer",
    "SystemClock",
    "World",
    "external_id",
    "parse_key",
]
