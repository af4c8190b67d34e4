"""Workers benchmark: N qcluster processes import K keys × J simulator jobs on PostgreSQL +
Redis; then the same with one cluster killed (kill -9 of its whole process group) mid-run.

    .venv/bin/python bench/workers_bench.py [--clusters 1 2 4] [--kill 2 4] [--keys 200] [--jobs 1000]

Prints per round: jobs/s, duplicate rows (must be 0), double syncs (two runs of one key whose
times overlap: must be 0), and for a kill round the seconds from the kill until every key
the killed cluster was syncing had finished (goal ≤ 90 s), with the machine's load.
Uses its own PostgreSQL database (--database, default bench_ops_workers, made afresh) and
Redis database (--redis, default redis://127.0.0.1:6379/9, emptied first).
"""

import argparse
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROVIDERS = ["audiopod", "munsit", "apimall"]

from bench.benchenv import PG, free_port, load_average, pg_admin, production_env, simulator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--kill", type=int, nargs="*", default=[2, 4], help="cluster counts to run a kill round with")
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--database", default="bench_ops_workers")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="genboard-workers-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{args.database}"')
    production_env(
        tmp,
        DATABASE_URL=PG + args.database,
        REDIS_URL=args.redis,
        SECURE_SSL_REDIRECT="0",
        **{f"{name}_BASE_URL": base for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT")},
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    redis.from_url(args.redis).flushdb()
    try:
        with simulator(port, "--no-rate-limits", "--new-every", "0"):
            seed(args)
            print(
                f"{args.keys} keys × {args.jobs} jobs ({', '.join(PROVIDERS)}); "
                f"PostgreSQL, Redis; {os.cpu_count()} CPUs"
            )
            print(
                "| clusters | killed | jobs/s | time | duplicates | double syncs | interrupted runs (orphaned) "
                "| killed keys done after | load (1/5/15 min) |"
            )
            print("|---|---|---|---|---|---|---|---|---|")
            for n in args.clusters:
                round_(args, n, kill=False)
            for n in args.kill:
                round_(args, n, kill=True)
    finally:
        from django.db import connections

        connections.close_all()
        pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def seed(args) -> None:
    from django.contrib.auth import get_user_model

    from providers.models import Credential

    users = get_user_model().objects.bulk_create([get_user_model()(username=f"w{i:03d}") for i in range(args.keys)])
    keys = []
    for i, user in enumerate(users):
        provider = PROVIDERS[i % len(PROVIDERS)]
        credential = Credential(owner=user, provider=provider, label=f"key {i}")
        credential.set_secret(f"sim-{provider}-w{i:03d}-n{args.jobs}")
        credential.status = Credential.Status.OK
        credential.archive = False  # syncing is measured here, not the media archive
        keys.append(credential)
    Credential.objects.bulk_create(keys)


def reset(args) -> None:
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE history_job, history_syncrun, django_q_task, django_q_ormq CASCADE")
        cursor.execute(
            "UPDATE providers_credential SET cursor = '{}', next_sync = NULL, last_sync = NULL, enqueued = NULL, "
            "lease_until = NULL, lease_token = NULL, paused_until = NULL, failures = 0, sync_error = ''"
        )
    redis.from_url(args.redis).flushdb()


def start_cluster() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a kill takes the whole cluster
    )


def round_(args, n: int, *, kill: bool) -> None:
    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone

    from history.models import Job, SyncRun
    from history.tasks import dispatch
    from providers.models import Credential

    reset(args)
    clusters = [start_cluster() for _ in range(n)]
    try:
        time.sleep(3)  # clusters up
        expected = args.keys * args.jobs
        began = time.monotonic()
        dispatch()  # what the minute schedule does; the clusters' own scheduler goes on from there
        killed_at = None
        killed_keys: set[int] = set()
        while True:
            stored = Job.objects.count()
            done = Credential.objects.filter(last_sync__isnull=False).count()
            if kill and killed_at is None and stored >= expected * 0.3:
                victim = clusters.pop(0)
                killed_keys = set(
                    SyncRun.objects.filter(state=SyncRun.State.RUNNING).values_list("credential_id", flat=True)
                )
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait()
                killed_at, kill_time = time.monotonic(), timezone.now()
            if stored >= expected and done >= args.keys:
                break
            if time.monotonic() - began > args.timeout:
                print(f"timed out: {stored:,} of {expected:,} jobs, {done} of {args.keys} keys")
                break
            time.sleep(0.25)
        elapsed = time.monotonic() - began
        recovered = ""
        if kill:
            # The killed cluster's keys: those it was syncing (interrupted) and those whose
            # task it had taken off the queue (synced for the first time after the kill).
            interrupted = set(
                SyncRun.objects.filter(state=SyncRun.State.INTERRUPTED).values_list("credential_id", flat=True)
            )
            keys = killed_keys | interrupted
            finished = [
                max(
                    SyncRun.objects.filter(credential_id=k, state=SyncRun.State.DONE).values_list("finished", flat=True)
                )
                for k in keys
            ]
            after = max((f - kill_time).total_seconds() for f in finished) if finished else 0
            recovered = f"{after:.0f} s ({len(keys)} keys)"
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) - count(DISTINCT (credential_id, external_id)) FROM history_job")
            duplicates = cursor.fetchone()[0]
        double = double_syncs()
        interrupted_runs = SyncRun.objects.filter(state=SyncRun.State.INTERRUPTED).count()
        # Runs still "running" whose key's lease has lapsed: a dead worker's, never closed.
        lapsed = Q(credential__lease_until__isnull=True) | Q(credential__lease_until__lt=timezone.now())
        orphaned = SyncRun.objects.filter(lapsed, state=SyncRun.State.RUNNING).count()
        rate = Job.objects.count() / elapsed
        print(
            f"| {n} | {'1 (kill -9 of its group)' if kill else '—'} | {rate:,.0f} | {elapsed:.1f} s | {duplicates} | "
            f"{double} | {interrupted_runs} ({orphaned} orphaned) | "
            f"{recovered or '—'} | {load_average()} |",
            flush=True,
        )
    finally:
        for cluster in clusters:
            os.killpg(cluster.pid, signal.SIGTERM)
        for cluster in clusters:
            try:
                cluster.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)


def double_syncs() -> int:
    """Pairs of runs of one key whose [started, finished] overlap: two workers at once."""
    from history.models import SyncRun

    overlaps = 0
    runs: dict[int, list[tuple]] = {}
    for key, started, finished in SyncRun.objects.filter(started__isnull=False, finished__isnull=False).values_list(
        "credential_id", "started", "finished"
    ):
        runs.setdefault(key, []).append((started, finished))
    for spans in runs.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            overlaps += start < end
    return overlaps


if __name__ == "__main__":
    main()
