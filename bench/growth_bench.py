"""How the history's costs grow with the jobs stored: 10,000, 100,000 and 1,000,000.

    .venv/bin/python bench/growth_bench.py [--sizes 10000,100000,1000000] [--requests 30]
        [--key-jobs 2000] [--new 50] [--reuse 1000000=bench_perf,…]

For each size, a PostgreSQL database seeded as bench/history_bench.py seeds it (1,000 people
at 1M, 100 at 10k and 100k; the "big" person holds a tenth of the jobs), created as
`genboard_growth_<size>` and kept for the next run (`--reuse SIZE=NAME` names one already
seeded, e.g. by history_bench.py --keep). In that database, in a fresh process each:

- the web CPU (time.process_time, p50 of `--requests` after warm-up) of the big person's
  rows fragment, first and deep page, and of the full page (bench/pages_bench.py's way);
- a key's sync against the provider simulator (bench/import_bench.py's way, rate limits
  off): a new AudioPod key with `--key-jobs` jobs imported whole, then `--new` new jobs
  appear at the provider and the next sync brings them.

It prints one line per size: the curve.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import median

from benchenv import PG, free_port, production_env, simulator, start_django

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--key-jobs", type=int, default=2000)
    parser.add_argument("--new", type=int, default=50)
    parser.add_argument("--reuse", default="", help="SIZE=NAME pairs, comma-separated")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # SIZE=NAME: measure one database
    parser.add_argument("--simulator", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.child:
        return child(args)
    reuse = dict(pair.split("=", 1) for pair in args.reuse.split(",") if pair)
    results = []
    with simulator(free_port(), "--no-rate-limits", "--new-every", "0") as base:
        for size in [int(s) for s in args.sizes.split(",")]:
            name = reuse.get(str(size)) or f"genboard_growth_{size}"
            if str(size) not in reuse:
                seed(size, name)
            options = ["--requests", str(args.requests), "--key-jobs", str(args.key_jobs), "--new", str(args.new)]
            command = [sys.executable, __file__, "--child", f"{size}={name}", "--simulator", base, *options]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
            results.append(json.loads(out.strip().splitlines()[-1]))
            print(f"  measured {size:,} jobs", file=sys.stderr)
    print(f"\nPostgreSQL; the big person holds a tenth of the jobs; web CPU p50 of {args.requests} requests, warm")
    print(
        f"{'jobs':>10} {'big sees':>9} {'fragment':>9} {'deep page':>10} {'full page':>10} "
        f"{'import ' + format(args.key_jobs, ','):>12} {'+' + str(args.new) + ' new':>9}"
    )
    for r in results:
        print(
            f"{r['jobs']:>10,} {r['visible']:>9,} {r['fragment']:>7.1f}ms {r['deep']:>8.1f}ms {r['full']:>8.1f}ms "
            f"{r['import_s']:>11.2f}s {r['incremental_s']:>8.2f}s"
        )


def seed(size: int, name: str) -> None:
    """history_bench.py seeds it, and keeps it (`--reuse` of an existing one seeds nothing)."""
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    users = max(100, min(1000, size // 1000))
    options = ["--total", str(size), "--big", str(size // 10), "--users", str(users), "--only", "nothing"]
    command = [sys.executable, str(ROOT / "bench" / "history_bench.py"), "--database", "postgres", "--reuse", name]
    subprocess.run([*command, *options, "--requests", "1"], check=True, stdout=subprocess.DEVNULL)  # noqa: S603


# --- one database, in its own process -------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    size, name = args.child.split("=", 1)
    with tempfile.TemporaryDirectory(prefix="genboard-growth-") as tmp:
        os.environ["DATABASE_URL"] = PG + name
        production_env(Path(tmp), SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
        os.environ.pop("REDIS_URL", None)
        for provider in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
            os.environ[f"{provider}_BASE_URL"] = args.simulator
        start_django(web=True)
        from django.conf import settings

        settings.GENBOARD_RUN_BUDGET = 3600
        figures = {"jobs": int(size), **pages(args.requests), **sync_times(args)}
    print(json.dumps(figures))


def pages(requests: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from history.models import Job
    from history.views import list_url

    big = get_user_model().objects.get(username="big")
    client = Client()
    client.force_login(big)
    visible = Job.objects.visible_to(big).order_by("-created", "-id")
    total = visible.count()
    last = visible.values_list("created", "id")[min(2000 * 50, total - 60)]
    hx = {"HX-Request": "true"}
    cases = {
        "fragment": ("/history/", hx),
        "deep": (list_url({"cursor": f"{last[0].isoformat()}_{last[1]}"}), hx),
        "full": ("/history/", {}),
    }
    figures: dict = {"visible": total}
    for name, (url, headers) in cases.items():
        for _ in range(3):
            client.get(url, headers=headers)
        cpu = []
        for _ in range(requests):
            started = time.process_time()
            assert client.get(url, headers=headers).status_code == 200
            cpu.append((time.process_time() - started) * 1000)
        figures[name] = median(cpu)
    return figures


def sync_times(args: argparse.Namespace) -> dict:
    from django.contrib.auth import get_user_model

    from history.models import Job
    from history.sync import sync_credential
    from providers.models import Credential

    big = get_user_model().objects.get(username="big")
    label = f"growth-{time.time_ns()}"
    key = Credential(owner=big, provider="audiopod", label=label, status=Credential.Status.OK)
    key.set_secret(f"sim-audiopod-{label}-n{args.key_jobs}")
    key.status = Credential.Status.OK
    key.save()
    try:
        started = time.perf_counter()
        outcome = sync_credential(key.pk)
        imported = time.perf_counter() - started
        assert outcome.error == "", outcome.error
        assert Job.objects.filter(credential=key).count() == args.key_jobs
        request = urllib.request.Request(  # noqa: S310 (the loopback simulator)
            args.simulator + "/_sim/jobs",
            data=json.dumps({"key": key.secret.reveal(), "count": args.new}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request).read()  # noqa: S310
        started = time.perf_counter()
        outcome = sync_credential(key.pk)
        incremental = time.perf_counter() - started
        assert outcome.error == "", outcome.error
        assert Job.objects.filter(credential=key).count() == args.key_jobs + args.new
    finally:
        key.delete()  # the database stays as seeded for the next run
    return {"import_s": imported, "incremental_s": incremental}


if __name__ == "__main__":
    main()
