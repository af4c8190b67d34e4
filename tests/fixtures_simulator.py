"""Pytest fixtures for the provider simulator (providers/simulator), registered in conftest.

- `simulator`: a fresh simulator on 127.0.0.1 (a free port) for one test, on a FakeClock;
  the four *_BASE_URL settings point at it. It exposes `.base_url` and `.world`;
  `simulator.world.clock.advance(seconds)` moves time (jobs finish, new ones appear,
  rate-limit windows pass). Rate limits are on, as in the real world:
  `simulator.world.rate_limits = False` turns them off, `simulator.world.new_every = 0`
  stops new jobs from appearing (default: one per account every 120 s of the clock).
- `sim_clock`: that FakeClock.
- `make_simulator(**world_options)`: more simulators, e.g. `make_simulator(speed=10)`;
  they do not touch settings.
- `sim_key(provider, name="test", jobs=None)` and `auth_headers(provider, key)`: helpers.
"""

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet

from providers.simulator import FakeClock, SimulatorServer, World

BASE_URL_SETTINGS = ("APIMALL_BASE_URL", "APIKLEY_BASE_URL", "AUDIOPOD_BASE_URL", "MUNSIT_BASE_URL")


def sim_key(provider: str, name: str = "test", jobs: int | None = None) -> str:
    """A key the simulator accepts for `provider`, with `jobs` jobs (default 150)."""
    return f"sim-{provider}-{name}" + (f"-n{jobs}" if jobs is not None else "")


def auth_headers(provider: str, key: str) -> dict[str, str]:
    """The header each provider takes its key in."""
    if provider == "audiopod":
        return {"X-API-Key": key}
    if provider == "munsit":
        return {"x-api-key": key}
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., SimulatorServer]]:
    servers: list[SimulatorServer] = []

    def make(clock: FakeClock | None = None, **world_options: Any) -> SimulatorServer:
        world = World(clock or FakeClock(), **world_options)
        world.sse_interval = 0.01  # keep Munsit's progress streams quick
        server = SimulatorServer(world).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def simulator(make_simulator, settings) -> SimulatorServer:
    server = make_simulator()
    for name in BASE_URL_SETTINGS:
        setattr(settings, name, server.base_url)
    return server


@pytest.fixture
def sim_clock(simulator) -> FakeClock:
    return simulator.world.clock


def separate_process_env(simulator: SimulatorServer, var_dir, **extra: str) -> dict[str, str]:
    """The environment of a Genboard process the test starts (a worker, `manage.py sync`):
    its own SQLite file and key under `var_dir`, every provider pointed at the simulator."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var_dir / 'genboard.sqlite3'}",
        "DEBUG": "1",
        "GENBOARD_VAR_DIR": str(var_dir),
        "CREDENTIAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "LOG_LEVEL": "WARNING",
        **{f"{name}_BASE_URL": simulator.base_url for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT")},
        **extra,
    }
