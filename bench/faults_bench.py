"""The slowest `manage.py sync` pass under each provider fault the simulator plays.

    .venv/bin/python bench/faults_bench.py [--keys 3] [--jobs 60] [--scale 1.0] [--each]

A fresh SQLite database in a temporary directory, the simulator in this process (its clock
frozen), `--keys` keys of each of the four providers with `--jobs` jobs each, one clean pass,
then every fault of tests/reliability/harness.py switched on for all four providers at once,
each with a pass under it and one after (`--each`: on one provider at a time, the slowest of
the four reported). Prints the figures the reliability suite asserts
(crashes, rows lost, calls after a 401, calls before Retry-After) and the slowest pass per
fault. The HTTP timeouts are the real ones (5 s connect, 30 s read, 60 s a request) and so is
a provider's share of a pass (60 s) unless `--scale` shrinks them (0.05: 0.25 s, 1.5 s, 3 s,
3 s), the hang with them; the drip stays 16 bytes every 0.05 s.
"""

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

from benchenv import production_env, start_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=3, help="keys per provider")
    parser.add_argument("--jobs", type=int, default=60, help="jobs per key")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the HTTP timeouts by this")
    parser.add_argument(
        "--each", action="store_true", help="play each fault on one provider at a time (the slowest of the four)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        production_env(Path(var), ALLOWED_HOSTS="testserver")
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
        run(args)


def run(args) -> None:
    start_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from providers import base
    from providers.http import Http
    from providers.simulator import FakeClock, SimulatorServer, World
    from tests.reliability.harness import BASE_URL_SETTINGS, PROVIDERS, faults, make_keys, play, report

    http = Http(connect_timeout=5.0 * args.scale, read_timeout=30.0 * args.scale, deadline=60.0 * args.scale)
    settings.GENBOARD_PROVIDER_PASS_BUDGET = 60.0 * args.scale
    base.default_http = lambda: http
    world = World(FakeClock())
    world.new_every = 0
    with SimulatorServer(world) as simulator:
        for name in BASE_URL_SETTINGS:
            setattr(settings, name, simulator.base_url)
        keys = make_keys(get_user_model().objects.create_user("bench"), world, args.keys, args.jobs)
        started = time.monotonic()
        call_command("sync", stdout=io.StringIO())
        clean = time.monotonic() - started
        print(f"{len(keys)} keys, {args.jobs} jobs each; clean pass {clean:.1f} s; timeouts {http.connect_timeout:g} s")
        print(f"connect, {http.read_timeout:g} s read, {http.deadline:g} s a request")
        # Hang past the read timeout; drip 16 bytes per 0.05 s, so a page outlasts the deadline.
        results = []
        for fault in faults(hang=http.read_timeout + 5 * args.scale, drip=0.05, slow=0.3):
            if args.each:
                played = [play(fault, simulator, keys, target=provider) for provider in PROVIDERS]
                result = max(played, key=lambda figures: figures.slowest)
                for figures in played:  # the zeros must hold for every provider, not only the slowest
                    for name in ("crashes", "rows_lost", "calls_after_401", "calls_before_retry_after"):
                        setattr(result, name, max(getattr(result, name), getattr(figures, name)))
                result.fault += " (slowest provider)"
            else:
                result = play(fault, simulator, keys)
            results.append(result)
            print(f"  {result.slowest:7.2f} s  {result.fault}", flush=True)
    print(report(results))


if __name__ == "__main__":
    main()
