"""The web CPU of one page, and where it goes: one URL asked many times in-process, on a
database that bench/history_bench.py seeded.

    .venv/bin/python bench/page_cpu.py --reuse NAME --url /history/ [--htmx | --results]
        [--requests 60] [--redis URL] [--wrap history.views.page_rows history.filters:JobFilter.__init__ …]

As the seed's "big" person, with production settings (DEBUG off) and Django's test Client, it
asks the page five times to warm the caches, then `--requests` times, and prints the minimum
and p50 of the process's CPU per request, and the CPU its PostgreSQL backend used per request
(from /proc: the database on this machine). Each `--wrap` (a module's function, or
`module:Class.method`) is timed inside those requests too, inclusive of what it calls: what
cProfile (`bench/pages_bench.py --profile`) shows without its overhead, which inflates code
that makes many small calls (templates) against code that makes few.

`--url job` asks a finished song's page. Two checkouts compared: run this script from each in
turn (`git worktree add`), a minute apart, several rounds; on a shared machine compare the
minimum and p50 of runs close in time, never figures from different hours.
"""

import argparse
import functools
import importlib
import os
import tempfile
import time
from pathlib import Path
from statistics import median

from benchenv import PG, cpu_seconds, production_env, start_django


def add_page_arguments(parser: argparse.ArgumentParser) -> None:
    """Which page, on which database: this script's and bench/page_instructions.py's."""
    parser.add_argument("--reuse", required=True, help="a seeded PostgreSQL database's name (bench/history_bench.py)")
    parser.add_argument("--url", required=True, help="the page's address, or `job` for a song's page")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--htmx", action="store_true", help="as htmx asks it (a next page: the rows fragment)")
    kind.add_argument("--results", action="store_true", help="as the filter form asks it (the results region)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_page_arguments(parser)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--user", default="big")
    parser.add_argument("--redis", help="the cache and sessions in this Redis, as production runs")
    parser.add_argument("--wrap", nargs="*", default=[], help="functions to time inside the requests")
    return parser.parse_args()


def timed(target: str, spent: dict[str, float]) -> None:
    """Replace `module.function` or `module:Class.method` by a wrapper that adds its CPU time to
    spent[target]. Functions imported by name elsewhere before this keep the original."""
    module_name, _, attribute = target.rpartition(".")
    module_name, _, class_name = module_name.partition(":")
    owner = importlib.import_module(module_name)
    if class_name:
        owner = getattr(owner, class_name)
    original = getattr(owner, attribute)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[target] = spent.get(target, 0.0) + time.process_time() - started

    setattr(owner, attribute, wrapper)


def main() -> None:
    args = parse_args()
    os.environ["DATABASE_URL"] = PG + args.reuse
    var_dir = Path(tempfile.mkdtemp(prefix="genboard-page-cpu-"))
    production_env(var_dir, SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
    os.environ.pop("REDIS_URL", None)
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
    start_django(web=True)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from history.models import Job

    spent: dict[str, float] = {}
    for target in args.wrap:
        timed(target, spent)
    user = get_user_model().objects.get(username=args.user)
    url = args.url
    if url == "job":
        songs = Job.objects.visible_to(user).filter(status=Job.Status.SUCCEEDED, kind=Job.Kind.MUSIC)
        url = songs.filter(provider="apikley").first().get_absolute_url()
    headers = {}
    if args.htmx or args.results:
        headers["HX-Request"] = "true"
    if args.results:
        headers["HX-Target"] = "history-results"
    client = Client()
    client.force_login(user)
    for _ in range(5):
        client.get(url, headers=headers)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    backend_started = cpu_seconds(backend)
    totals, per_function = [], {}
    for _ in range(args.requests):
        spent.clear()
        started = time.process_time()
        response = client.get(url, headers=headers)
        totals.append((time.process_time() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        for target, seconds in spent.items():
            per_function.setdefault(target, []).append(seconds * 1000)
    database = (cpu_seconds(backend) - backend_started) * 1000 / args.requests
    asked = "htmx" if args.htmx else "results" if args.results else "page"
    print(f"{url} ({asked}, {args.requests} requests): CPU min {min(totals):.2f} ms, p50 {median(totals):.2f} ms; "
          f"PostgreSQL {database:.2f} ms per request")  # fmt: skip
    for target, values in sorted(per_function.items(), key=lambda item: -median(item[1])):
        print(f"  {target:<64} min {min(values):6.2f}  p50 {median(values):6.2f} ms")


if __name__ == "__main__":
    main()
