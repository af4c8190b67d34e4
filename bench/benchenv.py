"""What the benchmarks share: the production environment set before Django starts, a free
loopback port, peak memory, a process's CPU, and the provider simulator running beside them."""

import os
import resource
import socket
import subprocess
import sys
import time
import warnings
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


def start_django(web: bool = False) -> float:
    """Set Django up in this process for an in-process benchmark and migrate its database (one
    seeded by an older checkout, too); returns how long the migration took, in seconds.
    `web`: then load config.wsgi as the web server does (its checks, the web statements' time
    limit and its garbage collector settings), for benchmarks of web requests."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    # whitenoise looks for collected static files, which a benchmark does not need.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    # Templates use {% static %}; production's manifest storage needs a collectstatic that a
    # benchmark has no business running in the checkout, and serving files is not measured.
    # override_settings (not an assignment) so the storages that models already built at
    # start-up are built again.
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    took = time.perf_counter() - started
    if web:
        import config.wsgi  # noqa: F401
    return took


PG = "postgres://postgres@127.0.0.1:5432/"


def pg_admin(sql: str) -> None:
    """One statement on the PostgreSQL server's maintenance database (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        conn.execute(sql)


def load_average() -> str:
    """The machine's load over 1, 5 and 15 minutes, printed beside figures taken on it."""
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used (user and system, from /proc): 0 once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
