"""Bulk actions benchmark (history/bulk_actions.py): how long one request takes to ask about,
and to do, a bulk action on 10,000 selected jobs (goal: under 2 s each).

    .venv/bin/python bench/bulk_bench.py [--database sqlite|postgres] [--jobs 10000] [--pg-name bench_bulk]

A fresh database (a SQLite file in a temporary directory, or a PostgreSQL database made
afresh) with one person's key holding --jobs jobs plus 2,000 more, shared with a team, and a
teammate's 500 jobs in the same team. Through Django's test Client with production settings,
it times, as the bulk bar sends them (all codes joined in one `job` field, or all=1 with a
filter):
- the confirmation of a removal (the counts: how many are yours, how many a teammate's);
- the start of an export of the selection (10,000 jobs: queued for a worker, as every export
  of more than 5,000 jobs is);
- the removal itself (audit events, tombstones, the rows and what hangs off them);
each once for the codes and once for all=1, re-seeding between removals. Prints the
figures and the machine's load.
"""

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchenv import PG, load_average, pg_admin, production_env, start_django


def seed(jobs: int) -> dict:
    from django.contrib.auth import get_user_model

    from history.models import Job
    from providers.models import Credential
    from teams.models import Member, Share, Team

    users = get_user_model().objects
    alice = users.filter(username="alice").first() or users.create_user("alice", "alice@example.test", "x")
    bob = users.filter(username="bob").first() or users.create_user("bob", "bob@example.test", "x")
    Job.objects.all().delete()
    Credential.objects.all().delete()
    Team.objects.all().delete()
    team = Team.objects.create(name="Crew", slug="crew")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.MEMBER)
    keys = {}
    for owner, label in ((alice, "alice"), (bob, "bob")):
        key = Credential(owner=owner, provider="audiopod", label=f"{label}'s key")
        key.set_secret(f"sk-bench-bulk-{label}")
        key.save()
        Share.objects.create(team=team, credential=key, shared_by=owner)
        keys[label] = key
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def make(key, n: int, prefix: str, status: str) -> None:
        Job.objects.bulk_create(
            (
                Job(
                    credential=key,
                    provider="audiopod",
                    kind="music",
                    status=status,
                    external_id=f"{prefix}-{i}",
                    title=f"{prefix} song {i}",
                    created=start + timedelta(seconds=i),
                    outputs=[{"kind": "audio", "url": f"https://cdn.example/{prefix}-{i}.mp3", "duration": 120.0}],
                    raw={"id": i, "status": status.upper()},
                )
                for i in range(n)
            ),
            batch_size=2000,
        )

    make(keys["alice"], jobs, "picked", "failed")
    make(keys["alice"], 2000, "other", "succeeded")
    make(keys["bob"], 500, "teammate", "succeeded")
    return {"alice": alice}


def timed(client, data: dict) -> tuple[str, object]:
    """The request's wall time and this process's CPU time (which holds SQLite's work, and is
    what a loaded machine distorts least), in ms."""
    started, cpu = time.perf_counter(), time.process_time()
    response = client.post("/history/bulk/", data)
    wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    return f"{wall:6.0f} ms (CPU {cpu:5.0f} ms)", response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-name", default="bench_bulk")
    parser.add_argument("--jobs", type=int, default=10_000)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="genboard-bulk-bench-"))
    if args.database == "postgres":
        pg_admin(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{args.pg_name}"')
        os.environ["DATABASE_URL"] = PG + args.pg_name
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    production_env(var_dir, SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
    os.environ.pop("REDIS_URL", None)
    start_django()
    from django.test import Client

    from history.models import Export, Job

    print(f"{args.database}, {args.jobs:,} selected jobs; load average {load_average()}")
    for mode in ("codes", "all=1"):
        alice = seed(args.jobs)["alice"]
        client = Client()
        client.force_login(alice)
        picked = Job.objects.filter(status="failed")
        selection = (
            {"job": ",".join(str(code) for code in picked.values_list("code", flat=True))}
            if mode == "codes"
            else {"all": "1", "status": "failed"}
        )
        ms, response = timed(client, {"action": "remove", **selection})
        assert response.status_code == 200 and "Remove" in response.text, response.status_code
        print(f"  {mode:6} remove, confirmation with counts: {ms}")
        ms, response = timed(client, {"action": "export_csv", "confirm": "1", **selection})
        assert response.status_code == 302 and Export.objects.exists(), response.status_code
        print(f"  {mode:6} export started (queued):        {ms}")
        Export.objects.all().delete()
        ms, response = timed(client, {"action": "remove", "confirm": "1", **selection})
        assert response.status_code == 302 and not Job.objects.filter(status="failed").exists()
        print(f"  {mode:6} removed:                        {ms}")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
