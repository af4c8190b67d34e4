"""Exports benchmark: how fast one person's history answers while four other people's large
exports run, against the same history at rest (goal: within 1.5×).

    .venv/bin/python bench/export_bench.py [--exporters 4] [--export-jobs 60000] [--viewer-jobs 100000]

Production shape on this machine: PostgreSQL (its own database, --database, made afresh),
Redis (--redis, default db 9, emptied first), `bin/serve` with 2 web processes and
2 qcluster processes of 2 workers each. The viewer asks for the history fragment
(HX-Request) again and again; the exporters each ask for a JSON export of every job they
have, which runs in a worker. Prints p50/p95 of the viewer's requests at rest and while the
exports run, the exports' durations, their workers' peak memory, and the machine's load.
"""

import argparse
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-pass-2026"

from bench.benchenv import PG, free_port, load_average, pg_admin, production_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exporters", type=int, default=4)
    parser.add_argument("--export-jobs", type=int, default=60_000)
    parser.add_argument("--viewer-jobs", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--database", default="bench_ops_export")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="genboard-export-bench-"))
    pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{args.database}"')
    production_env(
        tmp,
        DATABASE_URL=PG + args.database,
        REDIS_URL=args.redis,
        ALLOWED_HOSTS="127.0.0.1",
        MEDIA_ROOT=str(tmp / "media"),
        STATIC_ROOT=str(tmp / "static"),
    )
    # bin/serve refuses the benchmarks' usual repetitive key (check --deploy: too few
    # distinct characters).
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    redis.from_url(args.redis).flushdb()
    started = time.perf_counter()
    seed(args)
    print(
        f"seeded {args.viewer_jobs + args.exporters * args.export_jobs:,} jobs in {time.perf_counter() - started:.0f} s"
    )
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own script)
        [str(ROOT / "bin" / "serve")],
        cwd=ROOT,
        env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "2", "WORKERS": "2"},
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "serve.log", "w"),  # noqa: SIM115 (open while the server runs)
        start_new_session=True,
    )
    try:
        run(args, f"http://127.0.0.1:{port}", server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def seed(args) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from history.models import Job
    from providers.models import Credential

    User = get_user_model()
    password = make_password(PASSWORD)
    names = ["viewer"] + [f"exporter{i}" for i in range(args.exporters)]
    users = User.objects.bulk_create([User(username=name, password=password) for name in names])
    rng = random.Random(13)
    now = datetime.now(UTC)
    for user in users:
        count = args.viewer_jobs if user.username == "viewer" else args.export_jobs
        key = Credential(owner=user, provider="audiopod", label=f"{user.username}'s AudioPod")
        key.set_secret(f"sk-bench-{uuid.uuid4().hex}")
        key.status = Credential.Status.OK
        key.archive = False  # the media archive would fetch from made-up hosts: not measured here
        key.save()
        batch = []
        for n in range(count):
            batch.append(
                Job(
                    credential=key,
                    provider="audiopod",
                    kind="music",
                    external_id=str(1_000_000 + n),
                    title=f"Track {n} {rng.choice(['midnight drive', 'piano', 'rain', 'city lights'])}",
                    prompt="lo-fi beat with warm piano, vinyl crackle and soft rain, 80 bpm " * 2,
                    model="audiopod-music-v2",
                    status=rng.choice(["succeeded"] * 8 + ["failed", "running"]),
                    provider_status="COMPLETED",
                    created=now - timedelta(minutes=n),
                    outputs=[
                        {
                            "kind": "audio",
                            "url": f"https://cdn.audiopod.example/{n}.mp3",
                            "title": "",
                            "duration": 93.2,
                        },
                        {
                            "kind": "audio",
                            "url": f"https://cdn.audiopod.example/{n}.wav",
                            "title": "",
                            "duration": 93.2,
                        },
                    ],
                    raw={"id": n, "status": "COMPLETED"},
                )
            )
            if len(batch) == 5000:
                Job.objects.bulk_create(batch)
                batch.clear()
        Job.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def log_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    # What the TLS-terminating proxy in front of Genboard says (production redirects plain
    # HTTP); its cookies are Secure, which requests keeps from a plain-HTTP URL unless told.
    session.headers["X-Forwarded-Proto"] = "https"

    def unsecure() -> None:
        for cookie in session.cookies:
            cookie.secure = False

    page = session.get(base + "/accounts/login/").text
    unsecure()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    session.post(
        base + "/accounts/login/",
        data={"login": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": base.replace("http:", "https:") + "/accounts/login/"},
        allow_redirects=False,
    )
    unsecure()
    assert session.get(base + "/history/", allow_redirects=False).status_code == 200, f"{username} cannot log in"
    return session


def sample(session: requests.Session, base: str) -> float:
    began = time.perf_counter()
    answer = session.get(base + "/history/", headers={"HX-Request": "true"})
    elapsed = (time.perf_counter() - began) * 1000
    assert answer.status_code == 200, answer.status_code
    return elapsed


def summary(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"p50 {statistics.median(values):.0f} ms, p95 {p95:.0f} ms (n={len(values)})"


def worker_peak_rss_mb(group: int) -> float:
    peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            stat = (status.parent / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) != group or b"qcluster" not in (status.parent / "cmdline").read_bytes():
                continue
            hwm = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
        except OSError:
            continue
        if hwm:
            peak = max(peak, int(hwm.group(1)))
    return peak / 1024


def run(args, base: str, group: int) -> None:
    from history.models import Export

    for _ in range(240):
        try:
            if requests.get(base + "/healthz?workers=1", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        raise SystemExit("bin/serve did not come up: see serve.log in the benchmark's directory")
    viewer = log_in(base, "viewer")
    exporters = [log_in(base, f"exporter{i}") for i in range(args.exporters)]
    for _ in range(5):
        sample(viewer, base)  # warm
    print(f"load before: {load_average()}")
    idle = [sample(viewer, base) for _ in range(args.samples)]
    print(f"history fragment at rest: {summary(idle)}; load {load_average()}")

    asked = time.perf_counter()
    for session in exporters:
        answer = session.get(base + "/history/export.json", allow_redirects=False)
        assert answer.status_code == 302, answer.status_code
    second = exporters[0].get(base + "/history/export.csv", allow_redirects=False)
    print(f"a second export while one runs: {second.status_code}, Retry-After {second.headers.get('Retry-After')}")
    busy, all_running = [], []
    while Export.objects.exclude(state__in=["done", "failed"]).exists():
        running = Export.objects.filter(state="running").count()
        value = sample(viewer, base)
        if running:
            busy.append(value)
        if running >= args.exporters:
            all_running.append(value)
    total = time.perf_counter() - asked
    print(f"history fragment while exports run: {summary(busy)}; load {load_average()}")
    if all_running:
        print(f"  … while all {args.exporters} ran at once: {summary(all_running)}")
    after = [sample(viewer, base) for _ in range(args.samples)]
    print(f"history fragment at rest again: {summary(after)}; load {load_average()}")
    rest = statistics.median(idle + after)
    print(f"slow-down: p50 ×{statistics.median(busy) / rest:.2f} (against both rests: the machine is shared)")
    for job in Export.objects.order_by("pk"):
        seconds = (job.finished - job.created).total_seconds()
        print(
            f"export {job.owner.username}: {job.state}, {job.total:,} jobs, {job.size / 1e6:.1f} MB "
            f"in {seconds:.1f} s after it was asked for ({job.total / seconds:,.0f} jobs/s)"
        )
    print(f"all exports done {total:.1f} s after they were asked for")
    print(f"peak memory of a qcluster process: {worker_peak_rss_mb(group):.0f} MB")


if __name__ == "__main__":
    main()
