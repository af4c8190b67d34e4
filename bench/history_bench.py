"""Server time of the merged history at scale, beside the Django admin's OFFSET + COUNT.

    .venv/bin/python bench/history_bench.py [--database sqlite|postgres] [--users 1000]
        [--big 100000] [--total 1000000] [--requests 30] [--json out.json] [--keep | --reuse WHERE]
        [--explain] [--redis redis://127.0.0.1:6379/12]

It makes a throwaway database (a SQLite file in a temporary directory, or a fresh PostgreSQL
database on 127.0.0.1 that it creates and drops), migrates it, and seeds `--total` jobs across
`--users` people: one ("big") with `--big` jobs on six keys of the four providers, two of them
shared with the team "studio" where three teammates share one key each (so the big user sees
jobs through both paths of the access rule), and ~40 more teams sharing keys among the others.
Titles, prompts, models, statuses, kinds, outputs and the provider's raw record look like what
each provider sends. Seeding writes in batches with the secondary indexes and triggers dropped
(SQLite: history/rows.py's executemany; PostgreSQL: COPY), then builds them once, as a restore
would; PostgreSQL is then VACUUM ANALYZEd, as autovacuum would do after a bulk load. SQLite
gets statistics only if the application's own code or migrations gather them (`--analyze`
forces an ANALYZE, to see what statistics change).

Then, in this process, with Django's test Client as the big user, it times each request
(p50/p95 over `--requests` runs after warm-up; the fragments in turn, round after round) and
counts its queries, with the cache in the database as a default install has it (`--redis`:
in Redis, as production runs): the rows fragment
(HX-Request), first page and deep (page 2,000, or the last page of a shorter filtered list:
the cursor of its previous page's last row is built once with an OFFSET), unfiltered, with
each filter and with search, in the table layout, and each sort (history.sorting), and with the big user's own
stars and tag (`--stars`, `--tagged`: jobs spread over the whole history, marked through
annotations.bulk); the full page (counts, dashboard and the failed count by error, with a
cold and a warm cache); and, side by side, the admin changelist of the same jobs as a
superuser (ours, whose count is capped, and the same admin with Django's stock Paginator),
plus a stock
`Paginator(qs, 50)` `.count` and `.page(2000)`: the plain OFFSET + COUNT way.

`--explain` prints the plan of each sort's walks down one of the big user's keys at a deep
cursor (they must be index ranges without a sort step, on both databases).

`--keep` leaves the database behind and prints where; `--reuse WHERE` measures an existing one
(migrating it first, so new migrations are timed on a million rows).
"""

import argparse
import hashlib
import json
import logging
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from benchenv import PG, pg_admin, production_env, start_django

# A row of either layout: the cards' <li>, the table's <tr> (?layout=table).
ROW = re.compile(r'<(?:li|tr) class="job job-')
ROW_CODE = re.compile(r'id="job-([0-9a-f-]{36})"')
ADMIN_ROW = re.compile(r'<td class="action-checkbox">')
PAGE = 50
DEEP = 2000

# --- realistic content ---------------------------------------------------------------------

MOODS = ["cheerful", "melancholic", "dreamy", "energetic", "dark", "uplifting", "calm", "epic", "playful", "moody"]
GENRES = [
    "lo-fi",
    "synthwave",
    "jazz",
    "folk",
    "techno",
    "ambient",
    "hip hop",
    "orchestral",
    "indie rock",
    "bossa nova",
]
INSTRUMENTS = [
    "piano", "acoustic guitar", "ukulele", "cello", "analog synth", "drums", "saxophone", "violin",
    "bass", "flute", "harp", "trumpet", "808s", "strings", "organ",
]  # fmt: skip
TOPICS = [
    "summer nights", "a road trip", "the city at dawn", "lost love", "the ocean", "rainy mornings",
    "a birthday", "winter in the mountains", "coffee shops", "space travel", "an old friend", "home",
]  # fmt: skip
TITLE_A = ["Midnight", "Sunny", "Neon", "Golden", "Silent", "Electric", "Velvet", "Paper", "Crystal", "Wild", "Lazy"]
TITLE_B = ["Drive", "Song", "Dreams", "Skyline", "Echoes", "Waves", "Heart", "Lights", "Garden", "Memories", "Run"]
SUBJECTS = ["a red fox", "a lighthouse", "a cyberpunk street", "a bowl of ramen", "a mountain lake", "an astronaut"]
STYLES = ["in snow", "at sunset", "watercolor", "cinematic lighting, 35mm", "isometric, 3d render", "studio photo"]
FILES = ["interview", "podcast_ep", "voice_memo", "lecture", "meeting", "street_recording", "vlog", "audiobook_ch"]
MODELS = {
    ("apimall", "audio"): ["suno-v4", "suno-v4.5", "udio-130"],
    ("apimall", "image"): ["flux-1.1-pro", "gpt-image-1", "sdxl"],
    ("apikley", "music"): ["V3_5", "V4", "V4_5"],
    ("audiopod", "music"): ["audiopod-music-v2"],
    ("munsit", "denoise"): [""],
}
RAW_STATUS = {
    "apimall": {"succeeded": "completed", "failed": "failed", "running": "processing", "pending": "queued"},
    "apikley": {
        "succeeded": "SUCCESS", "failed": "GENERATE_AUDIO_FAILED", "running": "FIRST_SUCCESS", "pending": "PENDING",
    },
    "audiopod": {"succeeded": "COMPLETED", "failed": "FAILED", "running": "PROCESSING", "pending": "PENDING"},
    "munsit": {"succeeded": "success", "failed": "failed", "running": "pending", "pending": "pending"},
}  # fmt: skip
# What failed jobs say, commonest first (the failed-count breakdown groups them).
ERRORS = (
    ["Generation failed: the model timed out"] * 6
    + ["Internal Error: upstream returned 502"] * 3
    + ["Content policy: the prompt was refused"] * 2
    + ["Insufficient credits", "Audio too short to process", "Unknown error (code 17)"]
)
STATUSES = ["succeeded"] * 880 + ["failed"] * 90 + ["running"] * 15 + ["pending"] * 10 + ["unknown"] * 5
RARE_WORD = "zanzibar"  # in a dozen of the big user's prompts, a few dozen of everyone else's
COMMON_WORD = "piano"  # in ~13% of music prompts
BIG_KEYS = [  # provider, label, share of the big user's jobs, shared with the team "studio"
    ("apimall", "Mall main", 0.30, True),
    ("apimall", "Mall images", 0.10, False),
    ("apikley", "Suno", 0.20, False),
    ("audiopod", "Pod studio", 0.25, True),
    ("audiopod", "Pod drafts", 0.05, False),
    ("munsit", "Clean", 0.10, False),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per figure (after warm-up)")
    parser.add_argument("--analyze", action="store_true", help="SQLite: ANALYZE after seeding")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--only", help="measure only scenarios whose name contains this (comma-separated: any)")
    parser.add_argument("--explain", action="store_true", help="print the plans of the sort walks")
    parser.add_argument(
        "--redis", help="the cache and sessions in this Redis database, as production runs (emptied by cold figures)"
    )
    parser.add_argument("--stars", type=int, default=1000, help="jobs the big user starred (app annotations)")
    parser.add_argument("--tagged", type=int, default=2000, help="jobs the big user tagged `keeper`")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", action="store_true", help="keep the database and say where it is")
    where.add_argument("--reuse", help="an existing seeded database: a SQLite path or a PostgreSQL name")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="genboard-history-bench-"))
    created_pg = ""
    if args.database == "sqlite":
        path = Path(args.reuse) if args.reuse else tmp / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        name = args.reuse or f"genboard_history_bench_{os.getpid()}"
        if not args.reuse:
            pg_admin(f'CREATE DATABASE "{name}"')
            created_pg = name
        os.environ["DATABASE_URL"] = PG + name
    # Plain HTTP inside the process and the database cache, as a default install has (or
    # Redis, as production runs).
    production_env(tmp, SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
    os.environ.pop("REDIS_URL", None)
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
    try:
        run(args)
    finally:
        if created_pg and not args.keep:
            from django.db import connections

            connections.close_all()
            pg_admin(f'DROP DATABASE IF EXISTS "{created_pg}" WITH (FORCE)')
        elif args.keep:
            print(f"\nkept: {os.environ['DATABASE_URL']}")
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    migrated = start_django(web=True)
    from django.db import connection

    from history.models import Job

    print(f"{describe(connection)}; migrate took {migrated:.1f} s")
    if not Job.objects.exists():
        seed(args)
    elif args.reuse:
        print(f"reusing {Job.objects.count():,} jobs")
    if args.analyze and connection.vendor == "sqlite":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"ANALYZE took {time.perf_counter() - started:.1f} s")
    if args.explain:
        explain_sorts()
    results = measure(args)
    report(results, args, migrated)


def explain_sorts() -> None:
    """The plans of every sort's walks (history.sorting.walks) down the big user's biggest key,
    from a cursor half way down."""
    from django.db import connection

    from history import sorting
    from history.models import Job
    from providers.models import Credential

    key = Credential.objects.get(owner__username="big", label="Mall main")
    jobs = Job.objects.filter(credential=key)
    for sort in sorting.SORTS.values():
        ordered = jobs.order_by(*sort.ordering())
        middle = ordered[ordered.count() // 2]
        cursor = sorting.parse_cursor(sort, sorting.make_cursor(sort, middle))
        for n, walk in enumerate(sorting.walks(sort, jobs, cursor)):
            sql, params = walk.values("pk")[: PAGE + 1].query.sql_with_params()
            with connection.cursor() as cursor_:
                prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
                cursor_.execute(prefix + sql, params)
                lines = [str(row[-1]) for row in cursor_.fetchall()]
            print(f"plan of sort={sort.value} walk {n + 1}: " + " | ".join(line.strip() for line in lines))


def describe(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("show server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


# --- seeding -------------------------------------------------------------------------------


def seed(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from providers.models import Credential
    from teams.models import Member, Share, Team

    rng = random.Random(2026)
    started = time.perf_counter()
    User = get_user_model()
    password = make_password("bench-pass-2026")
    User.objects.bulk_create(
        [
            User(username=f"user{i:04d}", email=f"user{i:04d}@example.test", password=password)
            for i in range(1, args.users)
        ]
        + [User(username="big", email="big@example.test", password=password)]
    )
    User.objects.create_superuser("admin", "admin@example.test", "admin-pass-2026")
    users = list(User.objects.filter(is_superuser=False).order_by("id"))
    big = next(u for u in users if u.username == "big")
    others = [u for u in users if u is not big]

    keys: list[Credential] = []
    plan: list[tuple[Credential, int, int]] = []  # key, jobs, days of history

    def key(owner, provider: str, label: str) -> Credential:
        credential = Credential(owner=owner, provider=provider, label=label, status=Credential.Status.OK)
        credential.set_secret(f"sk-{provider}-{uuid.uuid4().hex}")
        credential.status = Credential.Status.OK
        keys.append(credential)
        return credential

    for provider, label, share, _ in BIG_KEYS:
        plan.append((key(big, provider, label), round(args.big * share), 365))
    rest = args.total - sum(n for _, n, _ in plan)
    per_user = [rest // len(others) + (1 if i < rest % len(others) else 0) for i in range(len(others))]
    for user, count in zip(others, per_user, strict=True):
        providers = rng.sample(["apimall", "apikley", "audiopod", "munsit"], rng.choice([1, 1, 2, 2, 3, 4]))
        weights = [rng.random() + 0.2 for _ in providers]
        split = [math.floor(count * w / sum(weights)) for w in weights]
        split[0] += count - sum(split)
        days = rng.randint(30, 700)
        for provider, n in zip(providers, split, strict=True):
            plan.append((key(user, provider, f"My {provider}"), n, days))
    Credential.objects.bulk_create(keys)
    big_keys = {c.label: c for c in keys if c.owner_id == big.pk}

    studio = Team.objects.create(name="Studio", slug="studio")
    mates = others[:5]
    Member.objects.bulk_create(
        [Member(team=studio, user=big, role=Member.Role.OWNER)]
        + [Member(team=studio, user=u, role=Member.Role.MEMBER) for u in mates]
    )
    shares = [Share(team=studio, credential=big_keys[label], shared_by=big) for _, label, _, s in BIG_KEYS if s]
    mate_keys = [next(c for c in keys if c.owner_id == u.pk) for u in mates[:3]]
    shares += [Share(team=studio, credential=c, shared_by_id=c.owner_id) for c in mate_keys]
    for t in range(40):
        team = Team.objects.create(name=f"Team {t}", slug=f"team-{t}")
        people = rng.sample(others[5:], rng.randint(2, 6))
        Member.objects.bulk_create([Member(team=team, user=u) for u in people])
        for u in people[: rng.randint(1, len(people))]:
            shares.append(Share(team=team, credential=next(c for c in keys if c.owner_id == u.pk), shared_by=u))
    Share.objects.bulk_create(shares)
    print(f"seeded {len(users):,} users, {len(keys):,} keys, 41 teams in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    with bulk_load():
        write_jobs(rng, plan)
    print(f"seeded {args.total:,} jobs in {time.perf_counter() - started:.1f} s (indexes and triggers included)")


class bulk_load:
    """Secondary indexes and triggers of history_job dropped while rows go in, built again
    after (what a restore does). A full-text table kept by triggers is rebuilt from the rows."""

    def __enter__(self):
        from django.db import connection

        self.connection = connection
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'history_job' "
                    "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
                )
            else:
                cursor.execute(
                    "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE tablename = 'history_job' "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
                )
            self.saved = cursor.fetchall()
            for kind, name, _ in self.saved:
                cursor.execute(f'DROP {kind.upper()} "{name}"')
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return
        started = time.perf_counter()
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                cursor.execute("SET maintenance_work_mem = '512MB'")
            for kind, _, sql in self.saved:
                if kind == "index":
                    cursor.execute(sql)
            if self.connection.vendor == "sqlite":
                # Full-text tables kept in step with history_job by triggers: built in one go.
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%USING fts5%'")
                for (table,) in cursor.fetchall():
                    cursor.execute(f'INSERT INTO "{table}"("{table}") VALUES (\'rebuild\')')  # noqa: S608
            for kind, _, sql in self.saved:
                if kind == "trigger":
                    cursor.execute(sql)
            if self.connection.vendor == "postgresql":
                cursor.execute("VACUUM ANALYZE")
        print(f"built {len(self.saved)} indexes/triggers in {time.perf_counter() - started:.1f} s")


def write_jobs(rng: random.Random, plan) -> None:
    from django.db import connection, transaction

    from history import rows
    from history.models import Job

    now = datetime.now(UTC).replace(microsecond=0)
    batch: list[dict] = []
    rare = {rng.randrange(100_000) for _ in range(12)}  # the big user's jobs that say RARE_WORD
    written = big_written = 0

    def flush():
        if not batch:
            return
        if connection.vendor == "sqlite":
            with transaction.atomic():
                rows.insert_ignoring_conflicts(Job, batch, conflict=["credential_id", "external_id"])
        else:
            copy_rows(connection, batch)
        batch.clear()

    order = list(plan)
    rng.shuffle(order)  # keys are backfilled one after the other, in no particular order
    for credential, count, days in order:
        big = credential.owner.username == "big"
        start = now - timedelta(days=rng.uniform(0, 30) if not big else 0)
        span = timedelta(days=days).total_seconds()
        # A backfill stores a key's history newest first.
        offsets = sorted(rng.uniform(0, span) for _ in range(count))
        for n, offset in enumerate(offsets):
            created = start - timedelta(seconds=offset)
            if big:
                word = RARE_WORD if big_written in rare else ""
                big_written += 1
            else:
                word = RARE_WORD if rng.random() < 0.00005 else ""
            batch.append(make_job(rng, credential, created, n, word))
            if len(batch) >= 5000:
                flush()
        written += count
    flush()


def copy_rows(connection, batch: list[dict]) -> None:
    """PostgreSQL's COPY: several times faster than any INSERT for a bulk load."""
    names = list(batch[0])
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        columns = ", ".join(names)
        with raw.copy(f"COPY history_job ({columns}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row([json.dumps(v) if isinstance(v, (list, dict)) else v for v in row.values()])


def make_job(rng: random.Random, credential, created: datetime, n: int, word: str) -> dict:
    provider = credential.provider
    kind = {"apikley": "music", "audiopod": "music", "munsit": "denoise"}.get(provider)
    if kind is None:
        kind = "image" if (credential.label == "Mall images" or rng.random() < 0.35) else "audio"
    status = rng.choice(STATUSES)
    raw_status = RAW_STATUS[provider].get(status, "mystery_state")
    model = rng.choice(MODELS[(provider, kind)])
    cdn = f"https://cdn.{provider}.example/{uuid.UUID(int=rng.getrandbits(128)).hex}"
    credits = None
    outputs: list[dict] = []
    inputs: list[dict] = []
    if kind in ("audio", "music"):
        title = f"{rng.choice(TITLE_A)} {rng.choice(TITLE_B)}"
        extra = rng.choice(INSTRUMENTS)
        prompt = (
            f"a {rng.choice(MOODS)} {rng.choice(GENRES)} track with {rng.choice(INSTRUMENTS)} and {extra}, "
            f"{rng.randint(70, 160)} bpm, about {rng.choice(TOPICS)}{' in ' + word if word else ''}"
        )
        credits = Decimal(rng.choice([5, 10, 12, 20])) if provider != "munsit" else None
        if status == "succeeded":
            tracks = 2 if provider == "apikley" else 1
            outputs = [
                {"kind": "audio", "url": f"{cdn}/{i}.mp3", "title": title, "duration": round(rng.uniform(60, 240), 1)}
                for i in range(tracks)
            ] + [{"kind": "image", "url": f"{cdn}/cover.jpg", "title": "Cover"}]
    elif kind == "image":
        prompt = f"{rng.choice(SUBJECTS)} {rng.choice(STYLES)}{', ' + word if word else ''}"
        title = prompt[:60]
        credits = Decimal(rng.choice(["2", "4.5", "8"]))
        if status == "succeeded":
            outputs = [{"kind": "image", "url": f"{cdn}/{i}.png"} for i in range(rng.choice([1, 1, 4]))]
    else:
        title = (
            f"{rng.choice(FILES)}{rng.randint(1, 300)}_{'take' + str(rng.randint(1, 5))}.{rng.choice(['wav', 'mp3'])}"
        )
        prompt = word
        inputs = [{"kind": "audio", "url": f"{cdn}/original.wav"}]
        if status == "succeeded":
            outputs = [{"kind": "audio", "url": f"{cdn}/clean.wav", "duration": round(rng.uniform(10, 900), 1)}]
    external_id = {
        "apimall": f"am_{rng.getrandbits(64):016x}",
        "apikley": f"{rng.getrandbits(128):032x}",
        "audiopod": str(10_000_000 + credential.pk * 200_000 + n),
        "munsit": str(uuid.UUID(int=rng.getrandbits(128))),
    }[provider]
    finished = status in ("succeeded", "failed")
    completed = created + timedelta(seconds=rng.randint(20, 400)) if finished else None
    error = rng.choice(ERRORS) if status == "failed" else ""
    raw = {
        "id": external_id,
        "status": raw_status,
        "model": model,
        "prompt": prompt,
        "title": title,
        "created_at": created.isoformat(),
        "completed_at": completed.isoformat() if completed else None,
        "outputs": outputs,
        "meta": {"seed": rng.getrandbits(32), "region": rng.choice(["us-east", "eu-west"]), "v": 3},
    }
    return {
        "code": uuid.UUID(int=rng.getrandbits(128), version=4),
        "credential_id": credential.pk,
        "provider": provider,
        "kind": kind,
        "external_id": external_id,
        "title": title,
        "prompt": prompt,
        "model": model,
        "status": status,
        "provider_status": raw_status,
        "error": error,
        "error_code": "TIMEOUT" if error else "",
        "created": created,
        "completed": completed,
        "credits_used": credits,
        "credits_refunded": None,
        # As the sync stores it (providers.records.JobRecord.duration).
        "duration": outputs[0]["duration"] if outputs and outputs[0]["kind"] in ("audio", "video") else None,
        "outputs": outputs,
        "inputs": inputs,
        "details": {},
        "parent_ref": "",
        "search_text": "",
        "raw": raw,
        "imported": created + timedelta(minutes=5),
        "seen": created + timedelta(minutes=5),
        "next_poll": None,
        "poll_attempts": 0,
        "polling_since": None,
        "stale": not finished,
    }


# --- measuring -----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def timed(requests: int, call, before=None, warm: int = 3) -> dict:
    return timed_together(requests, [call], before, warm)[0]


def timed_together(requests: int, calls: list, before=None, warm: int = 3) -> list[dict]:
    """Each call's figures, the calls timed in turn, round after round: on a shared machine
    whose speed drifts from minute to minute, every call meets the same drift, so their
    figures compare (timed one after the other, the last could run on a slower machine)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for call in calls:
        for _ in range(warm):
            if before:
                before()
            call()
    times, cpu = [[] for _ in calls], [[] for _ in calls]
    for _ in range(requests):
        for n, call in enumerate(calls):
            if before:
                before()
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            times[n].append((time.perf_counter() - started) * 1000)
            cpu[n].append((time.process_time() - started_cpu) * 1000)
    figures = []
    for n, call in enumerate(calls):
        if before:
            before()
        with CaptureQueriesContext(connection) as queries:
            outcome = call()
        figures.append(
            {
                "p50": percentile(times[n], 50),
                "p95": percentile(times[n], 95),
                # This process's CPU (with SQLite, the database's work too): what a loaded
                # machine's other processes change least.
                "cpu95": percentile(cpu[n], 95),
                "queries": len(queries.captured_queries),
                **(outcome if isinstance(outcome, dict) else {}),
            }
        )
    return figures


def measure(args: argparse.Namespace) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.paginator import Paginator
    from django.test import Client, RequestFactory

    from history import sorting
    from history.admin import JobAdmin
    from history.filters import JobFilter
    from history.models import Job
    from history.views import list_url
    from providers.models import Credential

    User = get_user_model()
    big = User.objects.get(username="big")
    typical = User.objects.get(username=f"user{args.users // 2:04d}")
    admin = User.objects.get(username="admin")
    keys = {c.label: c for c in Credential.objects.filter(owner=big)}
    request = RequestFactory().get("/history/")
    request.user = big

    def ordered(user, params):
        request.user = user
        filters = JobFilter(params, queryset=Job.objects.visible_to(user), request=request)
        return filters.qs.order_by(*filters.order.ordering())

    visible = ordered(big, {})
    keeper = marks(args, big, visible)
    middle = visible.values_list("external_id", flat=True)[len_half(visible)]
    six_months = (datetime.now(UTC) - timedelta(days=180)).date()
    window = {"created_after": str(six_months - timedelta(days=30)), "created_before": str(six_months)}
    scenarios = [
        ("all", {}),
        ("layout=table", {"layout": "table"}),
        ("layout=table+sort=credits", {"layout": "table", "sort": "credits"}),
        ("status=failed", {"status": "failed"}),
        ("status=unknown (rare)", {"status": "unknown"}),
        ("provider=audiopod", {"provider": "audiopod"}),
        ("kind=image", {"kind": "image"}),
        ("credential=Pod studio", {"credential": str(keys["Pod studio"].code)}),
        ("team=studio", {"team": "studio"}),
        ("30 days, 6 months ago", window),
        ("status+provider", {"status": "succeeded", "provider": "apimall"}),
        (f"q={COMMON_WORD} (common)", {"q": COMMON_WORD}),
        (f"q={RARE_WORD} (rare)", {"q": RARE_WORD}),
        ("q=midnight drive (a title, 0.6%)", {"q": "midnight drive"}),
        ("q=<external id>", {"q": middle}),
        ("q=lo (2 chars, common)", {"q": "lo"}),
        ("q=qz (2 chars, none)", {"q": "qz"}),
        (f"q={COMMON_WORD}+status=failed", {"q": COMMON_WORD, "status": "failed"}),
        *((f"sort={value}", {"sort": value}) for value in sorting.SORTS if value != sorting.DEFAULT.value),
        ("sort=-duration+status=succeeded", {"sort": "-duration", "status": "succeeded"}),
        ("model=suno-v4.5", {"model": "suno-v4.5"}),
        ("has_error=1", {"has_error": "1"}),
        ("error=<commonest>+status=failed", {"status": "failed", "error": ERRORS[0]}),
        ("period=7d", {"period": "7d"}),
        ("period=month", {"period": "month"}),
        ("period=30d+sort=credits", {"period": "30d", "sort": "credits"}),
        (f"starred ({args.stars:,} stars)", {"starred": "1"}),
        (f"tag=keeper ({args.tagged:,} jobs)", {"tag": str(keeper.code)}),
        ("starred+status=failed", {"starred": "1", "status": "failed"}),
    ]  # fmt: skip
    client = Client()
    client.force_login(big)
    results: list[dict] = []

    def want(name: str) -> bool:
        return not args.only or any(part in name for part in args.only.split(","))

    def get(url: str, headers: dict | None = None, c=client, row=ROW):
        def call():
            response = c.get(url, headers=headers or {})
            assert response.status_code in (200, 302), (url, response.status_code)
            text = response.content.decode()
            codes = ROW_CODE.findall(text)
            return {
                "rows": len(row.findall(text)),
                "status": response.status_code,
                "digest": hashlib.blake2b(" ".join(codes).encode(), digest_size=4).hexdigest(),
            }

        return call

    # The fragments are timed together (timed_together), the first and the deep page of each.
    hx = {"HX-Request": "true"}
    pages = []  # (result without its figures, call)
    for name, params in scenarios:
        if not want("fragment: " + name):
            continue
        qs = ordered(big, params)
        total = qs.count()
        first = {"name": "fragment: " + name, "page": 1, "matching": total}
        pages.append((first, get(list_url(params), hx)))
        # Page 2,000, or the last full page of a shorter list (a page of a few rows renders
        # faster whatever its query costs).
        page = min(DEEP, total // PAGE)
        if page > 1:
            sort = sorting.get(params.get("sort"))
            last = qs[(page - 1) * PAGE - 1]
            url = list_url({**params, "cursor": sorting.make_cursor(sort, last)})
            pages.append(({"name": "fragment: " + name, "page": page, "matching": total, "vs": first}, get(url, hx)))
    for (result, _), figures in zip(pages, timed_together(args.requests, [call for _, call in pages]), strict=True):
        result.update(figures)
        results.append(result)
    if pages:
        print(f"  measured {len(pages)} fragments, in turn", file=sys.stderr)

    for name, params, cold in [
        ("all, cold cache", {}, True),
        ("all, warm cache", {}, False),
        ("sort=-duration, warm cache", {"sort": "-duration"}, False),
        ("status=failed, cold cache", {"status": "failed"}, True),
        (f"q={COMMON_WORD}, cold cache", {"q": COMMON_WORD}, True),
        (f"q={RARE_WORD}, cold cache", {"q": RARE_WORD}, True),
    ]:
        if want("full page: " + name):
            figure = timed(args.requests, get(list_url(params)), before=cache.clear if cold else None)
            results.append({"name": "full page: " + name, "page": 1, **figure})
            print(f"  measured full page: {name}", file=sys.stderr)

    if want("typical user"):
        other = Client()
        other.force_login(typical)
        qs = ordered(typical, {})
        total = qs.count()
        first = timed(args.requests, get("/history/", hx, c=other))
        results.append({"name": f"fragment: typical user ({typical.username})", "page": 1, "matching": total, **first})
        deepest = total // PAGE
        last = qs.values_list("created", "id")[(deepest - 1) * PAGE - 1]
        url = list_url({"cursor": f"{last[0].isoformat()}_{last[1]}"})
        deep = timed(args.requests, get(url, hx, c=other))
        results.append(
            {"name": f"fragment: typical user ({typical.username})", "page": deepest, "matching": total, **deep}
        )

    if want("saved view"):
        # A view with three filters: its own address (a redirect), then the full page it opens
        # with 21 tabs drawn (15 of the big user's views, 5 of the team's, and it), beside the
        # same filters' page with no saved view at all.
        from saved_views.models import SavedView
        from teams.models import Team

        studio = Team.objects.get(slug="studio")
        three = {"status": "succeeded", "provider": "apimall", "kind": "audio"}
        SavedView.objects.filter(user=big).delete()
        plain = timed(args.requests, get(list_url(three)), before=cache.clear)
        results.append({"name": "full page: 3 filters, no views, cold", "page": 1, **plain})
        views = [SavedView(user=big, name=f"View {n}", query="status=failed&kind=image", position=n) for n in range(15)]
        views += [SavedView(user=big, team=studio, name=f"Team view {n}", position=n) for n in range(5)]
        SavedView.objects.bulk_create(views)
        view = SavedView.objects.create(user=big, name="Three filters", query=urlencode(three), position=15)
        figure = timed(args.requests, get(view.get_absolute_url()))
        results.append({"name": "saved view: its address (302)", "page": 1, **figure})
        figure = timed(args.requests, get(list_url({**three, "view": str(view.code)})), before=cache.clear)
        results.append({"name": "full page: saved view, 21 tabs, cold", "page": 1, **figure})
        SavedView.objects.filter(user=big).delete()
        print("  measured saved view", file=sys.stderr)

    # --- the admin, side by side ---------------------------------------------------------
    staff = Client()
    staff.force_login(admin)
    owner_filter = f"credential__owner__id__exact={big.pk}"
    for name in ("django.request", "django.security"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # the probe's 400 is expected
    if staff.get(f"/admin/history/job/?{owner_filter}").status_code == 400:
        # ModelAdmin.lookup_allowed refuses a lookup two relations deep that no list_filter
        # names; the same jobs by their keys' ids is allowed.
        owner_filter = "credential__id__in=" + ",".join(str(c.pk) for c in keys.values())
    admin_total = Job.objects.filter(credential__owner=big).count()
    deep = min(DEEP, admin_total // PAGE)
    # The admin shows 100 rows a page; at 50, its page 2,000 holds the same rows as ours.
    JobAdmin.list_per_page = PAGE
    if want("admin"):
        for page in (1, 200, deep):
            figure = timed(args.requests, get(f"/admin/history/job/?{owner_filter}&p={page}", c=staff, row=ADMIN_ROW))
            results.append(
                {"name": "admin changelist (ours, count capped)", "page": page, "matching": admin_total, **figure}
            )
        print("  measured admin (ours)", file=sys.stderr)
        # The same admin with Django's stock Paginator: a full COUNT and an OFFSET.
        saved = (JobAdmin.paginator, JobAdmin.show_full_result_count)
        JobAdmin.paginator, JobAdmin.show_full_result_count = Paginator, True
        try:
            for page in (1, deep):
                figure = timed(
                    args.requests, get(f"/admin/history/job/?{owner_filter}&p={page}", c=staff, row=ADMIN_ROW)
                )
                results.append(
                    {"name": "admin changelist (stock Paginator)", "page": page, "matching": admin_total, **figure}
                )
        finally:
            JobAdmin.paginator, JobAdmin.show_full_result_count = saved
        print("  measured admin (stock)", file=sys.stderr)

        def stock(page: int):
            def call():
                paginator = Paginator(Job.objects.visible_to(big).order_by("-created", "-id"), PAGE)
                assert paginator.count
                return {"rows": len(list(paginator.page(page).object_list))}

            return call

        for page in (1, min(DEEP, visible.count() // PAGE)):
            figure = timed(args.requests, stock(page))
            name = "Paginator(visible, 50): count + page"
            results.append({"name": name, "page": page, "matching": visible.count(), **figure})
    return results


def marks(args: argparse.Namespace, big, visible):
    """The big user's stars and their tag `keeper` on jobs spread over the whole history
    (made once; a reused database keeps them), through the bulk service (annotations.bulk)."""
    from annotations import bulk
    from annotations.models import Star, Tag
    from history.models import Job

    keeper, _ = Tag.objects.get_or_create(owner=big, name="keeper")
    if not Star.objects.filter(user=big).exists():
        rng = random.Random(14)
        ids = list(visible.values_list("pk", flat=True))
        started = time.perf_counter()
        bulk.star(big, Job.objects.filter(pk__in=rng.sample(ids, min(args.stars, len(ids)))))
        bulk.tag(big, keeper, Job.objects.filter(pk__in=rng.sample(ids, min(args.tagged, len(ids)))))
        print(f"starred {args.stars:,} and tagged {args.tagged:,} jobs in {time.perf_counter() - started:.1f} s")
    return keeper


def len_half(qs) -> int:
    return qs.count() // 2


def report(results: list[dict], args: argparse.Namespace, migrated: float) -> None:
    from django.db import connection

    from history.models import Job

    title = f"{describe(connection)}: {Job.objects.count():,} jobs, {args.users:,} users, big user {args.big:,}"
    print(f"\n{title}; {args.requests} timed requests per line, after 3 warm-up; migrate {migrated:.1f} s")
    columns = (
        ("page", 5), ("matching", 9), ("rows", 4), ("queries", 7), ("p50 ms", 8), ("p95 ms", 8), ("cpu p95", 8),
        ("deep/1st", 9), ("/cards", 6),
    )  # fmt: skip
    header = f"{'what':<44} " + " ".join(f"{name:>{width}}" for name, width in columns)
    print(header)
    print("-" * len(header))
    print(
        "(rows: job rows in the answer, or its HTTP status when not 200; cpu p95: this process's CPU ms;"
        " deep/1st: p95 of a deep page over page 1's, and of its CPU; /cards: p95 over the cards layout's"
        " first page, unfiltered)"
    )
    cards = next((r for r in results if r["name"] == "fragment: all" and r["page"] == 1), None)
    for r in results:
        ratio = f"{r['p95'] / r['vs']['p95']:.2f}/{r['cpu95'] / r['vs']['cpu95']:.2f}" if r.get("vs") else ""
        matching = f"{r['matching']:,}" if "matching" in r else ""
        over = f"{r['p95'] / cards['p95']:.2f}" if cards and r["name"].startswith("fragment: ") else ""
        rows = r.get("rows", "") if r.get("status", 200) == 200 else r["status"]
        print(
            f"{r['name']:<44} {r['page']:>5} {matching:>9} {rows:>4} {r['queries']:>7} "
            f"{r['p50']:>8.1f} {r['p95']:>8.1f} {r['cpu95']:>8.1f} {ratio:>9} {over:>6}"
        )
    if args.json:
        for r in results:
            r.pop("vs", None)
        Path(args.json).write_text(
            json.dumps({"title": title, "date": str(date.today()), "results": results}, indent=1)
        )


if __name__ == "__main__":
    main()
