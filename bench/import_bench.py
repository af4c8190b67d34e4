"""Import throughput of the real sync against the provider simulator, beside a naive import.

    .venv/bin/python bench/import_bench.py [--jobs 100000] [--naive-jobs 20000] [--provider audiopod]

It starts the simulator as a separate process (rate limits off, so the figure is ours, not
its throttle), migrates a fresh SQLite file in WAL mode (or the DATABASE_URL you give),
imports one key's whole history through history.sync.sync_credential (HTTP, parsing,
bulk upsert, progress rows, the lease: everything a worker does), and reports jobs/s and
this process's peak RSS. Then, in the same run, it imports `--naive-jobs` of another key
by reading the same pages with the same adapter and storing each job with a per-row
`update_or_create` (what a first version would do), and reports its jobs/s.

Last, it measures provider requests per refreshed job for list providers: a burst of
unfinished jobs at the head of an already imported history, refreshed by the next syncs.
"""

import argparse
import json
import os
import tempfile
import time
import urllib.request
from pathlib import Path

from benchenv import free_port, peak_rss_mb, production_env, simulator, start_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--naive-jobs", type=int, default=20_000)
    parser.add_argument("--provider", default="audiopod", choices=["apimall", "audiopod", "munsit"])
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="genboard-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    production_env(tmp)
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        os.environ[f"{name}_BASE_URL"] = base
    # --speed 20: unfinished jobs finish 0.75-12 s after they were made instead of 15-240 s.
    with simulator(port, "--no-rate-limits", "--new-every", "0", "--speed", "20"):
        run(args, base)


def run(args, base: str) -> None:
    start_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from history.models import Job
    from history.sync import record_values, sync_credential
    from providers.models import Credential

    settings.GENBOARD_RUN_BUDGET = 3600
    user = get_user_model().objects.create_user("bench")
    print(f"database: {connection.vendor}; provider: {args.provider}; simulator at {base}")

    def key(name: str, count: int) -> Credential:
        credential = Credential(owner=user, provider=args.provider, label=name, status=Credential.Status.OK)
        credential.set_secret(f"sim-{args.provider}-{name}-n{count}")
        credential.status = Credential.Status.OK
        credential.save()
        return credential

    # --- the real sync ---------------------------------------------------------------------
    credential = key("bench", args.jobs)
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    outcome = sync_credential(credential.pk)
    elapsed = time.perf_counter() - started
    stored = Job.objects.filter(credential=credential).count()
    outcome.run.refresh_from_db()
    assert outcome.error == "", outcome.error
    assert stored == args.jobs, (stored, args.jobs)
    print(
        f"real sync:  {stored:,} jobs in {elapsed:.1f} s = {stored / elapsed:,.0f} jobs/s "
        f"({outcome.run.requests:,} requests); peak RSS {peak_rss_mb():.0f} MB (before: {rss_before:.0f} MB)"
    )
    real_rate = stored / elapsed

    # --- naive: same pages, per-row update_or_create ------------------------------------------
    naive = key("naive", args.naive_jobs)
    provider = naive.client()
    started = time.perf_counter()
    count = 0
    for stream in provider.streams:
        index = 0
        while True:
            page = provider.history_page(stream, index)
            for record in page.records:
                values = record_values(record)
                values["created"] = record.created
                Job.objects.update_or_create(
                    credential=naive, external_id=record.external_id, defaults={"provider": naive.provider, **values}
                )
                count += 1
            if page.last:
                break
            index += 1
    elapsed = time.perf_counter() - started
    naive_rate = count / elapsed
    print(f"naive:      {count:,} jobs in {elapsed:.1f} s = {naive_rate:,.0f} jobs/s")
    print(f"speed-up:   {real_rate / naive_rate:.1f}x")

    # --- requests per refreshed job ---------------------------------------------------------
    # A burst of new, unfinished jobs at the head of a history; each round every unfinished
    # job is made due and one sync refreshes them. "Polls" counts unfinished jobs refreshed.
    for label, history in (("burst on an empty history", 0), ("burst on 1,000 older jobs", 1000)):
        fresh = key(f"refresh{history}", history)
        sync_credential(fresh.pk)
        secret = fresh.secret.reveal()
        post(base + "/_sim/jobs", {"key": secret, "count": 400})
        sync_credential(fresh.pk)  # the new, unfinished jobs arrive
        running = Job.objects.filter(credential=fresh, status__in=[Job.Status.PENDING, Job.Status.RUNNING])
        unfinished = Job.objects.filter(credential=fresh, status__in=Job.UNFINISHED, stale=False)
        before, polls, rounds = requests_made(base, secret), 0, 0
        while running.exists() and rounds < 20:
            time.sleep(3)  # the simulator (--speed 20) finishes jobs 0.75-12 s after they were made
            polls += unfinished.update(next_poll=timezone.now())
            sync_credential(fresh.pk)
            rounds += 1
        spent = requests_made(base, secret) - before
        print(
            f"refresh ({label}): {polls} polls of unfinished jobs in {rounds} syncs took {spent} requests "
            f"= 1 request per {polls / max(spent, 1):.0f} polls"
        )


def post(url: str, data: dict) -> None:
    request = urllib.request.Request(  # noqa: S310 (loopback simulator)
        url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(request).read()  # noqa: S310


def requests_made(base: str, key: str) -> int:
    with urllib.request.urlopen(base + "/_sim/log") as r:  # noqa: S310
        rows = json.load(r)
    return sum(row["count"] for row in rows["requests"] if row["key"] == key)


if __name__ == "__main__":
    main()
