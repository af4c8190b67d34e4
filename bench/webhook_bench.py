"""The webhook receiver under load: latency and requests/s of /hooks/<token>/ with 50
concurrent senders, and whether every accepted event was stored and queued.

    .venv/bin/python bench/webhook_bench.py [--senders 50] [--events 40] [--keys 50] [--server gunicorn|threads]

It migrates a fresh SQLite file (or the DATABASE_URL you give; REDIS_URL as well for the
cache and broker: both scratch, the queue is emptied at the end), makes `--keys` AudioPod keys
with a signing secret each, starts the site in a separate process with production settings
(gunicorn with `--workers` processes of 8 threads when it is installed, else the standard
library's threaded WSGI server), and lets `--senders` threads each POST `--events` signed
events (keep-alive, round-robin over the keys), as AudioPod would: back to back, or one every
`--interval` seconds per sender (a steady load: 0.1 s is 500 events/s from 50 senders).
Figures: p50/p95/p99 and max latency as the sender sees it (and, with gunicorn, the time each
request spent inside the server), requests/s, and lost events
(answered 2xx but not stored, or stored but not queued for a worker).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from benchenv import ROOT, free_port, production_env, start_django

SERVE_THREADS = """
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from config.wsgi import application


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


class Quiet(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


make_server("127.0.0.1", int(sys.argv[1]), application, server_class=Server, handler_class=Quiet).serve_forever()
"""


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"The site did not start at {url}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--events", type=int, default=40, help="events per sender")
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--server", choices=["gunicorn", "threads"], default=None)
    parser.add_argument(
        "--interval", type=float, default=0.0, help="seconds from one event's start to the next per sender (0: at once)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="genboard-hooks-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    production_env(tmp, ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0", WEBHOOK_RATE_LIMIT="1000000")
    start_django()
    from django.contrib.auth import get_user_model
    from django_q.brokers import get_broker

    from hooks.models import Event, Hook
    from providers.audiopod import webhook_signature
    from providers.models import Credential

    # Re-runnable on a DATABASE_URL you give: the bench's own user and keys are made afresh.
    owner, _ = get_user_model().objects.get_or_create(username="bench-webhooks")
    Credential.objects.filter(owner=owner).delete()
    secret = "whsec_bench-signing-secret"
    hooks = []
    for i in range(args.keys):
        credential = Credential(owner=owner, provider="audiopod", label=f"Pod {i}", status="ok")
        credential.set_secret(f"sim-audiopod-bench{i}")
        credential.save()
        hook = Hook(credential=credential)
        hook.set_secret(secret)
        hook.save()
        hooks.append(hook.token)
    from django.db import connections

    connections.close_all()
    queued_before = get_broker().queue_size()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_kind = args.server
    if server_kind is None:
        try:
            import gunicorn  # noqa: F401

            server_kind = "gunicorn"
        except ImportError:
            server_kind = "threads"
    if server_kind == "gunicorn":
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers), "--threads", "8", "--worker-class", "gthread", "--log-level", "warning",
            # Each request's time inside the server, in microseconds: the receiver's own share.
            "--access-logfile", str(tmp / "access.log"), "--access-logformat", "%(U)s %(D)s",
        ]  # fmt: skip
    else:
        command = [sys.executable, "-c", SERVE_THREADS, str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())  # noqa: S603 (our own command)
    try:
        wait_for(base + "/accounts/login/")
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        start_line = threading.Barrier(args.senders)

        def sender(n: int) -> None:
            session = requests.Session()
            mine, counts = [], {}
            start_line.wait()
            # Senders start spread over one interval, as independent providers would.
            time.sleep(args.interval * n / args.senders)
            next_at = time.perf_counter()
            for i in range(args.events):
                token = hooks[(n * args.events + i) % len(hooks)]
                event_id = uuid.uuid4().hex
                payload = {"event_type": "job.completed", "event_id": event_id, "job_id": 1000 + i}
                body = json.dumps(payload | {"job_type": "music_generation"}).encode()
                stamp = int(time.time())
                headers = {
                    "Content-Type": "application/json",
                    "X-AudioPod-Timestamp": str(stamp),
                    "X-AudioPod-Signature": webhook_signature(secret, stamp, body),
                    "X-AudioPod-Event-Id": event_id,
                }
                if args.interval and i:
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                began = time.perf_counter()
                next_at = began + args.interval
                response = session.post(f"{base}/hooks/{token}/", data=body, headers=headers, timeout=30)
                mine.append((time.perf_counter() - began) * 1000)
                counts[response.status_code] = counts.get(response.status_code, 0) + 1
            with lock:
                latencies.extend(mine)
                for code, count in counts.items():
                    statuses[code] = statuses.get(code, 0) + count

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(args.senders)]
        load = os.getloadavg()
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(10)

    accepted = sum(count for code, count in statuses.items() if 200 <= code < 300)
    stored = Event.objects.filter(hook__credential__owner=owner).count()
    queued = get_broker().queue_size() - queued_before
    database = "PostgreSQL" if "postgres" in os.environ["DATABASE_URL"] else "SQLite"
    broker = "Redis" if os.environ.get("REDIS_URL") else "ORM"
    print(f"load average before: {load[0]:.1f}, after: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    print(f"server: {server_kind}" + (f" ({args.workers} processes × 8 threads)" if server_kind == "gunicorn" else ""))
    print(f"database: {database}, broker: {broker}; {args.senders} senders × {args.events} events, {args.keys} keys")
    print(f"requests: {len(latencies)} in {elapsed:.2f} s = {len(latencies) / elapsed:,.0f} requests/s")
    print(
        f"latency ms: p50 {statistics.median(latencies):.1f}  p95 {percentile(latencies, 95):.1f}  "
        f"p99 {percentile(latencies, 99):.1f}  max {max(latencies):.1f}"
    )
    if server_kind == "gunicorn":
        lines = (tmp / "access.log").read_text().split("\n")
        inside = [int(line.split()[1]) / 1000 for line in lines if line.startswith("/hooks/")]
        print(
            f"time in the server ms: p50 {statistics.median(inside):.1f}  p95 {percentile(inside, 95):.1f}  "
            f"p99 {percentile(inside, 99):.1f}"
        )
    print(f"answers: {dict(sorted(statuses.items()))}")
    lost = accepted - min(stored, queued)
    print(f"events: {accepted} accepted, {stored} stored, {queued} queued for workers; lost: {lost}")
    # Leave the scratch database and queue as they were: no worker should process these.
    Credential.objects.filter(owner=owner).delete()
    get_broker().purge_queue()


if __name__ == "__main__":
    main()
