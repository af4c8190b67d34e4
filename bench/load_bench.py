"""Genboard under load, as an operator runs it: PostgreSQL with a million jobs, Redis, the
production web server, and Locust on loopback.

    .venv/bin/pip install -e ".[bench]"     # Locust
    .venv/bin/python bench/load_bench.py [--db genboard_load] [--redis redis://127.0.0.1:6379/13]
        [--people 50] [--duration 120] [--history-phase 40] [--web-concurrency 2] [--app-dir DIR]

1. Seeds the PostgreSQL database `--db` (created if missing; reused when it already holds
   jobs): 1,000,000 jobs of 1,000 people. Ten of them have histories of 100,000: five
   pairs, each person owning 50,000 jobs and seeing their partner's 50,000 through a team
   share. The other 990 share 500,000. Content as bench/history_bench.py makes it.
2. collectstatic, then the production server from the environment alone (DEBUG=0, behind
   the proxy header): `bin/serve` with no queue workers where it exists, else gunicorn with
   `--web-concurrency` sync workers on 127.0.0.1.
3. Locust headless (bench/locustfile.py), `--people` people (the ten with big histories
   among them), each with a session made beforehand as a log-in makes it, mixing next
   pages, filter and search fragments, job pages, full pages, static files and ten exports;
   20 s of warm-up first, not counted.
4. Prints req/s, p50/p95/p99 per endpoint group and overall, errors, and CPU per request:
   the web server's processes and this database's PostgreSQL backends, from /proc (sampled
   every second, so backends that come and go are counted). A second, shorter phase
   (`--history-phase` seconds, 0 to skip) sends history requests only, for the web CPU of
   a history request. The machine's load average is printed before and after: on a shared
   machine, other work shows there.

`--app-dir` runs another checkout of Genboard (e.g. an older commit unpacked with
`git archive`) with this checkout's virtualenv, for a before/after comparison.
"""

import argparse
import csv
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchenv import PG, cpu_seconds, free_port, load_average, production_env

ROOT = Path(__file__).resolve().parent.parent
HEAVY_PAIRS = 5
HEAVY_EACH = 50_000
TOTAL = 1_000_000
PEOPLE = 1_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="genboard_load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--duration", type=int, default=120)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--history-phase", type=int, default=40)
    parser.add_argument("--web-concurrency", type=int, default=2)
    parser.add_argument("--app-dir", default=str(ROOT))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    app = Path(args.app_dir).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="genboard-load-bench-"))
    port = free_port()
    production_env(
        tmp,
        DATABASE_URL=PG + args.db,
        REDIS_URL=args.redis,
        ALLOWED_HOSTS="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(args.web_concurrency),
        WORKERS="0",
    )
    pg_admin_create(args.db)
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=app, check=True)
    seed_if_empty()
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=app, check=True)
    people = sessions(choose_people(args.people))
    server = start_server(app, port, args.web_concurrency)
    try:
        wait_for(port)
        print(f"server: {server.describe}; load before: {load_average()}")
        host = f"http://127.0.0.1:{port}"
        # Not counted, and without exports: a large one runs in a worker, which this server has
        # not, so it would stay queued and hold its person's one export slot (429 later).
        locust(host, people, args.warm_up, tmp / "warm", mix="all", exports=False)
        figures = measured_run(server, args, host, people, tmp / "load", mix="all", seconds=args.duration)
        report("Mixed load", figures, args)
        if args.history_phase:
            figures = measured_run(server, args, host, people, tmp / "history", "history", args.history_phase)
            report("History requests only", figures, args)
        print(f"\nload after: {load_average()}")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# --- database -----------------------------------------------------------------------------


def pg_admin_create(name: str) -> None:
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed_if_empty() -> None:
    django_setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from history_bench import bulk_load, write_jobs

    from history.models import Export, Job
    from providers.models import Credential
    from teams.models import Member, Share, Team

    if Job.objects.exists():
        print(f"reusing {Job.objects.count():,} jobs in {os.environ['DATABASE_URL'].rsplit('/', 1)[1]}")
        # Large exports of an earlier run stayed queued (the server here has no workers) and
        # would hold their people's one export slot: this run starts without them.
        Export.objects.filter(state__in=[Export.State.QUEUED, Export.State.RUNNING]).delete()
        return
    started = time.perf_counter()
    rng = random.Random(2026)
    User = get_user_model()
    password = make_password("bench-pass-2026")
    heavy = [f"heavy{i:02d}" for i in range(1, 2 * HEAVY_PAIRS + 1)]
    names = heavy + [f"user{i:04d}" for i in range(1, PEOPLE - len(heavy) + 1)]
    User.objects.bulk_create([User(username=n, email=f"{n}@example.test", password=password) for n in names])
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    keys, plan = [], []

    def key(owner, provider: str, label: str) -> Credential:
        credential = Credential(owner=owner, provider=provider, label=label, status=Credential.Status.OK)
        credential.set_secret(f"sk-{provider}-{rng.getrandbits(64):016x}")
        credential.status = Credential.Status.OK
        keys.append(credential)
        return credential

    for name in heavy:
        for provider, share in (("apimall", 0.4), ("apikley", 0.2), ("audiopod", 0.3), ("munsit", 0.1)):
            plan.append((key(users[name], provider, f"{name} {provider}"), round(HEAVY_EACH * share), 365))
    rest = [users[n] for n in names[len(heavy) :]]
    remaining = TOTAL - sum(n for _, n, _ in plan)
    for i, user in enumerate(rest):
        count = remaining // len(rest) + (1 if i < remaining % len(rest) else 0)
        provider = rng.choice(["apimall", "apikley", "audiopod", "munsit"])
        plan.append((key(user, provider, f"My {provider}"), count, rng.randint(30, 700)))
    Credential.objects.bulk_create(keys)
    shares, members = [], []
    for pair in range(HEAVY_PAIRS):
        a, b = users[heavy[2 * pair]], users[heavy[2 * pair + 1]]
        team = Team.objects.create(name=f"Pair {pair}", slug=f"pair-{pair}")
        members += [Member(team=team, user=a, role=Member.Role.OWNER), Member(team=team, user=b)]
        shares += [Share(team=team, credential=c, shared_by_id=c.owner_id) for c in keys if c.owner_id in (a.pk, b.pk)]
    Member.objects.bulk_create(members)
    Share.objects.bulk_create(shares)
    with bulk_load():
        write_jobs(rng, plan)
    print(f"seeded {TOTAL:,} jobs of {PEOPLE:,} people in {time.perf_counter() - started:.0f} s")


def choose_people(count: int) -> list[str]:
    heavy = [f"heavy{i:02d}" for i in range(1, 2 * HEAVY_PAIRS + 1)]
    rng = random.Random(50)
    return heavy + [f"user{i:04d}" for i in rng.sample(range(1, PEOPLE - len(heavy) + 1), count - len(heavy))]


def sessions(people: list[str]) -> list[str]:
    """A logged-in session for each person, as a log-in makes it: "username:session key"."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

    store = import_module(settings.SESSION_ENGINE).SessionStore
    pairs = []
    for user in get_user_model().objects.filter(username__in=people).order_by("username"):
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        pairs.append(f"{user.username}:{session.session_key}")
    return pairs


def backends(database: str) -> list[int]:
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]).fetchall()
    return [pid for (pid,) in rows]


# --- the server -----------------------------------------------------------------------------


class Server:
    def __init__(self, process: subprocess.Popen, describe: str):
        self.process, self.describe = process, describe

    def pids(self) -> list[int]:
        """The server's process tree (it runs in its own process group)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.process.pid:
                        found.append(int(entry.name))
                except ProcessLookupError:
                    pass
        return found

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def start_server(app: Path, port: int, workers: int) -> Server:
    log = open(os.environ["GENBOARD_VAR_DIR"] + "/server.log", "w")  # noqa: SIM115 (lives with the server)
    if (app / "bin" / "serve").exists():
        command = [str(app / "bin" / "serve")]
        describe = f"bin/serve, WEB_CONCURRENCY={workers}, WORKERS=0"
    else:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        command = [gunicorn, "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
        command += ["--worker-class", "sync", "--access-logfile", "-"]
        describe = f"gunicorn, {workers} sync workers"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    process = subprocess.Popen(command, cwd=app, stdout=log, stderr=log, env=env, start_new_session=True)  # noqa: S603
    return Server(process, describe)


def wait_for(port: int) -> None:
    for _ in range(120):
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/accounts/login/", headers={"X-Forwarded-Proto": "https"}
            )
            urllib.request.urlopen(request, timeout=2).read()  # noqa: S310
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not answer in 60 s")


# --- measuring ------------------------------------------------------------------------------


class CpuSampler(threading.Thread):
    """CPU seconds of the server's processes and of this database's PostgreSQL backends,
    sampled each second, so a backend that ends mid-run still counts, and the CPU of any
    window (the requests counted, not the log-ins before them) can be read afterwards."""

    def __init__(self, server: Server, database: str):
        super().__init__(daemon=True)
        self.server, self.database = server, database
        self.samples: list[tuple[float, dict[tuple[str, int], float]]] = []
        self.done = threading.Event()

    def sample(self) -> None:
        now = {("web", pid): cpu_seconds(pid) for pid in self.server.pids()}
        now.update({("pg", pid): cpu_seconds(pid) for pid in backends(self.database)})
        self.samples.append((time.time(), {k: v for k, v in now.items() if v}))

    def run(self) -> None:
        self.sample()
        while not self.done.wait(1):
            self.sample()

    def stop(self) -> None:
        self.done.set()
        self.join()
        self.sample()

    def used(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds from the last sample before `start` to the first after `end`; a
        process first seen later started from nothing, one gone keeps its last value."""
        first = max((i for i, (t, _) in enumerate(self.samples) if t <= start), default=0)
        last = min((i for i, (t, _) in enumerate(self.samples) if t >= end), default=len(self.samples) - 1)
        seen: dict[tuple[str, int], float] = {}
        for _, values in self.samples[: first + 1]:
            seen.update(values)
        before = dict(seen)
        for _, values in self.samples[first + 1 : last + 1]:
            seen.update(values)
        used = {"web": 0.0, "pg": 0.0}
        for key, value in seen.items():
            used[key[0]] += max(0.0, value - before.get(key, 0.0))
        return used


def locust(host: str, people: list[str], seconds: int, prefix: Path, mix: str, exports: bool = True) -> Path:
    out = prefix.with_suffix(".csv")
    env = {
        **os.environ,
        "LOAD_SESSIONS": ",".join(people),
        "LOAD_EXPORTERS": ",".join(pair.split(":")[0] for pair in people[::5]) if exports else "",
        "LOAD_MIX": mix,
        "LOAD_OUT": str(out),
    }
    command = [str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locustfile.py")]
    command += ["--headless", "--host", host, "-u", str(len(people)), "-r", str(len(people))]
    command += ["-t", f"{seconds}s", "--only-summary", "--loglevel", "ERROR", "--stop-timeout", "30"]
    subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    return out


def measured_run(server: Server, args, host: str, people: list[str], prefix: Path, mix: str, seconds: int) -> dict:
    sampler = CpuSampler(server, args.db)
    sampler.start()
    load = load_average()
    out = locust(host, people, seconds, prefix, mix)
    sampler.stop()
    with open(out) as f:
        log = [(float(t), name, float(ms), failed == "True") for t, name, ms, failed in csv.reader(f)]
    start, end = sampler.samples[0][0], max(t for t, _, _, _ in log)
    return {"log": log, "cpu": sampler.used(start, end), "seconds": end - start, "load": load}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report(title: str, figures: dict, args) -> None:
    log, seconds = figures["log"], figures["seconds"]
    print(f"\n{title}: {args.people} people, {seconds:.0f} s, load average at start {figures['load']}")
    print(f"{'group':<12} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
    groups = sorted({name for _, name, _, _ in log})
    for name in [*groups, "all"]:
        rows = [r for r in log if name in ("all", r[1])]
        times = [ms for _, _, ms, _ in rows]
        errors = sum(1 for r in rows if r[3])
        print(
            f"{name:<12} {len(rows):>8} {len(rows) / seconds:>7.1f} {percentile(times, 50):>7.0f} "
            f"{percentile(times, 95):>7.0f} {percentile(times, 99):>7.0f} {errors:>6}"
        )
    web, pg = figures["cpu"]["web"], figures["cpu"]["pg"]
    print(
        f"CPU per request: web {web / len(log) * 1000:.1f} ms, PostgreSQL {pg / len(log) * 1000:.1f} ms "
        f"({web:.1f} s and {pg:.1f} s over {len(log):,} requests)"
    )


if __name__ == "__main__":
    main()
