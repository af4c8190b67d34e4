"""Web CPU of the history's pages, in-process, on a database that bench/history_bench.py seeded.

    .venv/bin/python bench/pages_bench.py --reuse NAME [--database postgres|sqlite]
        [--user big] [--requests 40] [--profile SCENARIO [--profile-lines 30]] [--redis URL] [--json out.json]

As one person (the seed's "big" user: 100,000 jobs of their own and their team's), with
Django's test Client and production settings (DEBUG off), it requests each page after three
warm-up requests (so cached rows and counts are warm) and prints, per page, the minimum,
first quartile, p50 and p95 of the process's CPU time (time.process_time: Django, templates,
the database driver; the database server's own CPU is not in it), the p50 wall time, queries
and bytes. On a shared machine the minimum and first quartile tell two commits apart best: a
neighbour's load only ever adds time.

Pages: the rows fragment (HX-Request) first page, a deep page (2,000 pages down) and with a
status filter, in the cards layout and (first and deep) in the table layout; the filter
form's answer (the results region, HX-Target: history-results); the full page; a job's page.
`--profile fragment` (any scenario name's start) runs cProfile over that page's requests and
prints the top functions by own and total time.
`--cold-rows` empties the cache of rendered rows before each request (every row rendered).
`--redis URL` keeps the cache (counts, strip, summaries) and the sessions in Redis, as
production runs (bin/serve with REDIS_URL); without it they are in the database, as the demo
runs, which costs a query per cache read.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path
from statistics import median

from benchenv import PG, production_env, start_django


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", required=True, help="a seeded database: a PostgreSQL name or a SQLite path")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--user", default="big")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--profile", help="cProfile the scenario whose name starts with this")
    parser.add_argument("--profile-lines", type=int, default=30, help="functions listed per profile order")
    parser.add_argument("--cold-rows", action="store_true", help="empty the row cache before each request")
    parser.add_argument(
        "--redis",
        help="the cache and sessions in this Redis (as production runs: bin/serve with REDIS_URL), "
        "e.g. redis://127.0.0.1:6379/12; by default the database's cache table, as bin/start runs",
    )
    parser.add_argument("--json", help="also write the figures here")
    return parser.parse_args()


def setup(args: argparse.Namespace, var_dir: Path) -> None:
    url = f"sqlite:///{args.reuse}" if args.database == "sqlite" else PG + args.reuse
    os.environ["DATABASE_URL"] = url
    production_env(var_dir, SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
    os.environ.pop("REDIS_URL", None)
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
    start_django(web=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(p / 100 * len(ordered) + 0.5) - 1)]


def scenarios(user) -> list[tuple[str, str, dict]]:
    from history.models import Job
    from history.views import list_url

    visible = Job.objects.visible_to(user).order_by("-created", "-id")
    deep = visible.values_list("created", "id")[min(2000 * 50, visible.count() - 60)]
    job = (
        visible.filter(status=Job.Status.SUCCEEDED, kind=Job.Kind.MUSIC, provider="apikley").first()
        or visible.filter(status=Job.Status.SUCCEEDED).first()
    )
    hx = {"HX-Request": "true"}
    return [
        ("fragment: first page", "/history/", hx),
        ("fragment: deep page", list_url({"cursor": f"{deep[0].isoformat()}_{deep[1]}"}), hx),
        ("fragment: status=failed", "/history/?status=failed", hx),
        # The table layout (its default columns) asked for by the address, beside the cards above.
        ("fragment: table, first", "/history/?layout=table", hx),
        ("fragment: table, deep", list_url({"cursor": f"{deep[0].isoformat()}_{deep[1]}", "layout": "table"}), hx),
        ("results region: failed", "/history/?status=failed", {**hx, "HX-Target": "history-results"}),
        ("full page", "/history/", {}),
        ("job page", job.get_absolute_url(), {}),
    ]


def measure(args: argparse.Namespace) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user = get_user_model().objects.get(username=args.user)
    client = Client()
    client.force_login(user)
    results = []
    for name, url, headers in scenarios(user):
        for _ in range(3):
            client.get(url, headers=headers)
        cpu, wall = [], []
        profiler = cProfile.Profile(time.process_time) if args.profile and name.startswith(args.profile) else None
        for _ in range(args.requests):
            if args.cold_rows:
                caches["rows"].clear()
            started_cpu, started = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            response = client.get(url, headers=headers)
            if profiler:
                profiler.disable()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers=headers)
        results.append(
            {
                "name": name,
                "cpu_min": min(cpu),
                "cpu_p25": percentile(cpu, 25),
                "cpu_p50": median(cpu),
                "cpu_p95": percentile(cpu, 95),
                "wall_p50": median(wall),
                "queries": len(queries.captured_queries),
                "kb": len(response.content) / 1024,
            }
        )
        print(f"  measured {name}", file=sys.stderr)
        if profiler:
            for order in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.profile_lines)
                print(out.getvalue())
    return results


def report(results: list[dict], args: argparse.Namespace) -> None:
    from django.db import connection

    from history.models import Job

    print(
        f"\n{connection.vendor}: {Job.objects.count():,} jobs; as {args.user!r}; "
        f"{args.requests} requests per line after 3 warm-up "
        f"({'row cache emptied before each' if args.cold_rows else 'warm caches'}); "
        f"cache and sessions in {'Redis' if args.redis else 'the database'}"
    )
    print(
        f"{'page':<26} {'CPU min':>8} {'CPU p25':>8} {'CPU p50':>8} {'CPU p95':>8} {'wall p50':>9} "
        f"{'queries':>7} {'KB':>6}"
    )
    for r in results:
        print(
            f"{r['name']:<26} {r['cpu_min']:>6.1f}ms {r['cpu_p25']:>6.1f}ms {r['cpu_p50']:>6.1f}ms "
            f"{r['cpu_p95']:>6.1f}ms {r['wall_p50']:>7.1f}ms {r['queries']:>7} {r['kb']:>6.1f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


def main() -> None:
    import tempfile

    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="genboard-pages-bench-") as tmp:
        setup(args, Path(tmp))
        report(measure(args), args)


if __name__ == "__main__":
    main()
