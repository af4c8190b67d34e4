"""What the benchmarks share: the production environment set before Django starts, a free
loopback port, peak memory, and the provider simulator running beside them."""

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_env(var_dir: Path, **extra: str) -> None:
    """Production settings (DEBUG off: Django keeps no query's SQL in memory, templates carry
    no debug information), with throwaway secrets and files under `var_dir`."""
    os.environ.update(
        DEBUG="0",
        SECRET_KEY="bench-" + "k" * 50,
        CREDENTIAL_ENCRYPTION_KEYS="bXVzdC1iZS0zMi11cmwtc2FmZS1iYXNlNjQtYnl0ZXM=",
        LOG_LEVEL="WARNING",
        GENBOARD_VAR_DIR=str(var_dir),
        **extra,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def simulator(port: int, *options: str) -> Iterator[str]:
    """`manage.py simulate_providers` on a loopback port for the length of the block; yields
    its base URL once it accepts connections."""
    sim = subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "manage.py", "simulate_providers", "--port", str(port), *options],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        sim.terminate()
