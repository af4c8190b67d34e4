import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.template.defaultfilters import filesizeformat

from archive import archiver
from archive.models import ArchivedFile
from history.management.keys import add_key_arguments, key_label, selected_keys

PROGRESS_EVERY = 2.0  # seconds


class Command(BaseCommand):
    help = (
        "Archive the media of finished jobs now, in the foreground: plan every finished job of the "
        "selected keys that archive (the key setting), then copy every due file, at most "
        "ARCHIVE_HOST_CONCURRENCY at a time per media host, printing progress."
    )

    def add_arguments(self, parser):
        add_key_arguments(parser)

    def handle(self, *args, user=None, provider=None, **options):
        credentials = selected_keys(user, provider)
        chosen = []
        for credential in credentials:
            label = key_label(credential)
            if not credential.archive:
                self.stdout.write(f"{label}: skipped, archiving is off for this key")
                continue
            planned = archiver.plan_credential(credential.pk)
            self.stdout.write(f"{label}: {planned:,} new file(s) planned")
            chosen.append(credential.pk)
        due = archiver.due(credentials=chosen)
        total = due.count()
        hosts = sorted(set(due.values_list("host", flat=True)))
        self.stdout.write(f"{total:,} file(s) to archive from {len(hosts)} host(s).")
        if total:
            self.run(hosts, chosen, total)

    def run(self, hosts: list[str], chosen: list[int], total: int) -> None:
        counts = {state: 0 for state in ArchivedFile.State.values}
        done_bytes = 0
        lock = threading.Lock()
        last = [time.monotonic()]
        started = time.monotonic()

        def on_file(row: ArchivedFile, outcome: str) -> None:
            nonlocal done_bytes
            with lock:
                counts[outcome] += 1
                if outcome == ArchivedFile.State.DONE:
                    done_bytes += ArchivedFile.objects.filter(pk=row.pk).values_list("size", flat=True)[0] or 0
                if time.monotonic() - last[0] >= PROGRESS_EVERY:
                    last[0] = time.monotonic()
                    self.progress(counts, total, done_bytes, started)

        def slot(host: str) -> None:
            try:
                archiver.run_slot(host, budget=float("inf"), credentials=chosen, on_file=on_file)
            finally:
                close_old_connections()

        slots = [host for host in hosts for _ in range(archiver.host_concurrency())]
        with ThreadPoolExecutor(max_workers=min(len(slots), 16)) as pool:
            for future in [pool.submit(slot, host) for host in slots]:
                future.result()
        self.progress(counts, total, done_bytes, started)
        self.stdout.write(self.style.SUCCESS("Done."))

    def progress(self, counts: dict[str, int], total: int, done_bytes: int, started: float) -> None:
        tried = sum(counts.values())
        seconds = max(time.monotonic() - started, 0.001)
        problems = ", ".join(
            f"{counts[state]:,} {ArchivedFile.State(state).label.lower()}"
            for state in (ArchivedFile.State.FAILED, ArchivedFile.State.GONE, ArchivedFile.State.FULL)
            if counts[state]
        )
        self.stdout.write(
            f"{tried:,}/{total:,} files: {counts[ArchivedFile.State.DONE]:,} archived "
            f"({filesizeformat(done_bytes)}, {done_bytes / seconds / 1e6:,.1f} MB/s)"
            + (f"; {problems}" if problems else "")
        )
