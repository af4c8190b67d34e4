"""Archive throughput and memory against the provider simulator.

    .venv/bin/python bench/archive_bench.py [--files 1000] [--mb 20] [--big-gb 2]

It starts the simulator as a separate process, migrates a fresh SQLite file (or the
DATABASE_URL you give), and archives through the real code a worker runs
(archive.archiver.run_slot: claim, safe fetch, size and type checks, sha256, stream into
the local storage, record), ARCHIVE_HOST_CONCURRENCY slots in threads as the dispatcher
would start them:

1. one file of `--big-gb` GB, sampling this process's RSS every 0.1 s while it streams:
   the growth is what holding the file would cost (nothing, when streamed);
2. `--files` files of `--mb` MB each: files/s, MB/s and the process's peak RSS.

Archived files are deleted as soon as they are recorded (`--keep` keeps them) so the run
needs little disk; the figures include writing them.
"""

import argparse
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchenv import free_port, peak_rss_mb, production_env, simulator, start_django


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--big-gb", type=float, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the archived files")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="genboard-archive-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    production_env(
        tmp,
        MEDIA_ROOT=str(tmp / "media"),
        ARCHIVE_ALLOWED_HOSTS=f"127.0.0.1:{port}",
        ARCHIVE_USER_QUOTA="0",
        ARCHIVE_MAX_FILE_SIZE=str(4 * 1024**3),
        ARCHIVE_FETCH_DEADLINE="3600",
    )
    with simulator(port, "--no-rate-limits"):
        run(args, base)


def run(args, base: str) -> None:
    start_django()
    from django.contrib.auth import get_user_model
    from django.db import close_old_connections, connection
    from django.utils import timezone

    from archive import archiver, fetch
    from archive.models import ArchivedFile
    from archive.storage import archive_storage
    from history.models import Job
    from providers.models import Credential

    user = get_user_model().objects.create_user("bench")
    credential = Credential(owner=user, provider="apikley", label="bench")
    credential.set_secret("sim-apikley-bench")
    credential.save()
    host = fetch.host_key(base)
    slots = archiver.host_concurrency()
    print(f"database: {connection.vendor}; simulator at {base}; {slots} slots per host")

    def make_jobs(count: int, size: int, prefix: str) -> None:
        now = timezone.now()
        jobs = [
            Job(
                credential=credential,
                provider="apikley",
                kind="music",
                external_id=f"{prefix}-{n}",
                title=f"Bench {n}",
                status="succeeded",
                created=now,
                outputs=[{"kind": "audio", "url": f"{base}/_sim/media/audio/{prefix}{n}.mp3?bytes={size}"}],
            )
            for n in range(count)
        ]
        archiver.plan(Job.objects.bulk_create(jobs))

    def forget(row, outcome) -> None:
        if outcome != "done":
            print(f"  file {row.pk}: {outcome}: {ArchivedFile.objects.get(pk=row.pk).error}")
        elif not args.keep:
            archive_storage().delete(ArchivedFile.objects.get(pk=row.pk).path)

    def archive_everything() -> float:
        def slot() -> None:
            try:
                archiver.run_slot(host, budget=float("inf"), on_file=forget)
            finally:
                close_old_connections()

        started = time.perf_counter()
        with ThreadPoolExecutor(slots) as pool:
            for future in [pool.submit(slot) for _ in range(slots)]:
                future.result()
        return time.perf_counter() - started

    # --- one big file, RSS sampled while it streams --------------------------------------
    big = int(args.big_gb * 1024**3)
    make_jobs(1, big, "big")
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(rss_mb())
            time.sleep(0.1)

    before = rss_mb()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    elapsed = archive_everything()
    stop.set()
    sampler.join()
    done = ArchivedFile.objects.filter(state="done", size=big).count()
    print(
        f"{args.big_gb:g} GB file: {'archived' if done else 'NOT archived'} in {elapsed:.1f} s "
        f"({big / elapsed / 1e6:,.0f} MB/s); RSS before {before:.0f} MB, "
        f"during {min(samples):.0f}–{max(samples):.0f} MB "
        f"({len(samples)} samples), growth {max(samples) - before:+.0f} MB"
    )

    # --- many files ----------------------------------------------------------------------
    size = args.mb * 1_000_000
    make_jobs(args.files, size, "f")
    elapsed = archive_everything()
    done = ArchivedFile.objects.filter(state="done", size=size).count()
    total = done * size
    print(
        f"{args.files:,} files of {args.mb} MB: {done:,} archived in {elapsed:.1f} s = {done / elapsed:,.1f} files/s, "
        f"{total / elapsed / 1e6:,.0f} MB/s; peak RSS {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
