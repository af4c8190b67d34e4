"""Bulk stars and tags (annotations.bulk): how long starring and tagging N selected jobs takes
(goal: 10,000 jobs in under 2 s), on and off, on a person's own jobs and through a team.

    .venv/bin/python bench/annotations_bench.py [--database sqlite|postgres] [--jobs 10000]
        [--history 100000] [--rounds 5]

It makes a throwaway database (a SQLite file, or a fresh PostgreSQL database it creates and
drops), migrates it, gives one person `--history` jobs on two keys (one shared with a team
they own), selects `--jobs` of them spread over the history (the selection is a queryset, as
the bulk bar's "select all N matching" hands over), and times each call `--rounds` times
(p50 and the worst), with the machine's load beside the figures.
"""

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchenv import PG, load_average, pg_admin, production_env, start_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="genboard-annotations-bench-"))
    name = f"genboard_annotations_bench_{os.getpid()}"
    if args.database == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        pg_admin(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = PG + name
    production_env(tmp, SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
    os.environ.pop("REDIS_URL", None)
    try:
        run(args)
    finally:
        if args.database == "postgres":
            from django.db import connections

            connections.close_all()
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    start_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotations import bulk
    from annotations.models import Tag
    from history.models import Job
    from providers.models import Credential
    from teams.models import Member, Share, Team

    person = get_user_model().objects.create_user("big", "big@example.test", "bench-pass-2026")
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=person, role=Member.Role.OWNER)
    keys = []
    for provider in ("audiopod", "apimall"):
        key = Credential(owner=person, provider=provider, label=provider, status=Credential.Status.OK)
        key.set_secret(f"sk-{provider}-{uuid.uuid4().hex}")
        key.save()
        keys.append(key)
    Share.objects.create(team=team, credential=keys[0], shared_by=person)
    started = time.perf_counter()
    now = datetime.now(UTC)
    Job.objects.bulk_create(
        (
            Job(
                credential=keys[n % 2],
                provider=keys[n % 2].provider,
                kind="music",
                external_id=str(n),
                title=f"Song {n}",
                status="succeeded",
                created=now - timedelta(minutes=n),
            )
            for n in range(args.history)
        ),
        batch_size=2000,
    )
    print(f"{connection.vendor}: seeded {args.history:,} jobs in {time.perf_counter() - started:.1f} s")

    ids = list(Job.objects.values_list("pk", flat=True))
    chosen = random.Random(14).sample(ids, args.jobs)
    selection = Job.objects.filter(pk__in=chosen)
    own = Tag.objects.create(owner=person, name="keeper")
    shared = Tag.objects.create(team=team, name="final")
    calls = [
        ("star", lambda: bulk.star(person, selection)),
        ("unstar", lambda: bulk.star(person, selection, on=False)),
        ("tag (own)", lambda: bulk.tag(person, own, selection)),
        ("untag (own)", lambda: bulk.tag(person, own, selection, on=False)),
        ("tag (team: the shared key's jobs)", lambda: bulk.tag(person, shared, selection)),
        ("untag (team)", lambda: bulk.tag(person, shared, selection, on=False)),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in calls}
    changed: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, call in calls:
            began = time.perf_counter()
            changed[name] = call()
            times[name].append(time.perf_counter() - began)
    print(f"{args.jobs:,} selected of {args.history:,} jobs, {args.rounds} rounds; load {load_average()}")
    for name, _ in calls:
        spent = times[name]
        p50, worst = statistics.median(spent), max(spent)
        print(f"  {name:<36} {changed[name]:>7,} changed  p50 {p50:6.3f} s  worst {worst:6.3f} s")


if __name__ == "__main__":
    main()
