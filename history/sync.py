"""The sync engine: import and refresh one key's history, within the provider's limits.

sync_credential() is the one entry point (the django-q2 task, `manage.py sync` and
"Sync now" all end up here). For one key it:

1. takes the key's lease (a conditional UPDATE, history/lease.py), so one worker at a time
   works on a key, and keeps renewing it while the run lives;
2. walks each history stream newest first, storing pages in bulk, until a page brings
   nothing new and nothing unfinished; the first sync backfills to the end, resuming from
   a saved page index if it was stopped (saved as it goes: a killed worker loses at most
   the last half second of it);
3. refreshes unfinished jobs that are due: per job where the provider has a detail call
   (Apikley, AudioPod), else by re-reading the page they are on (API Mall, Munsit);
4. records the outcome: 401/403 mark the key rejected (no more calls until it is saved
   again), 429 pauses it for Retry-After, other failures back off with jitter.

No HTTP happens inside a transaction: each page is fetched, then written in one short one.
"""

import logging
import random
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotations.models import follow_dates
from archive import archiver
from core import logs
from providers import balances, crypto
from providers.base import Provider
from providers.http import KeyRejected, OutOfCredits, ProviderError, RateLimited
from providers.models import Credential
from providers.records import CANCELED, FAILED, PENDING, RUNNING, SUCCEEDED, UNKNOWN, JobRecord, Page

from . import outage, removal, rows
from .lease import LeaseKeeper, LeaseLost, claim, release
from .models import Job, SyncRun

logger = logging.getLogger(__name__)

# A status only moves forward: pending → running (or unknown) → succeeded, failed or canceled.
RANK = {PENDING: 0, RUNNING: 1, UNKNOWN: 1, SUCCEEDED: 2, FAILED: 2, CANCELED: 2}
FIRST_POLL = timedelta(seconds=10)
MAX_POLL = timedelta(minutes=10)
# Keys whose webhooks arrive (hooks/) learn of changes without asking: polling is only the
# fallback for a lost call, so it starts later and backs off further.
RELAXED_FIRST_POLL = timedelta(minutes=2)
RELAXED_MAX_POLL = timedelta(minutes=30)
WEBHOOKS_FRESH = timedelta(days=1)
GIVE_UP_AFTER = timedelta(days=1)
PROGRESS_EVERY = 0.5  # seconds
# Due jobs refreshed per run; the rest wait for the next run.
REFRESH_LIMIT = 500
# Fields an import writes from a provider record (the rest is bookkeeping).
RECORD_FIELDS = [
    "kind",
    "title",
    "prompt",
    "model",
    "status",
    "provider_status",
    "error",
    "error_code",
    "created",
    "completed",
    "credits_used",
    "credits_refunded",
    "duration",
    "outputs",
    "inputs",
    "details",
    "parent_ref",
    "search_text",
    "raw",
]
UPDATE_FIELDS = [*RECORD_FIELDS, "seen", "next_poll", "poll_attempts", "polling_since", "stale"]


def sync_interval() -> timedelta:
    """How often a key's newest history is read for new jobs."""
    return timedelta(seconds=getattr(settings, "GENBOARD_SYNC_INTERVAL", 300))


def run_budget() -> float:
    """Seconds one run may spend walking history before it saves its place and yields."""
    return float(getattr(settings, "GENBOARD_RUN_BUDGET", 240))


@dataclass
class Tally:
    pages: int = 0
    requests: int = 0
    new: int = 0
    updated: int = 0
    # Unfinished jobs among those stored (for the progress display).
    unfinished: int = 0
    # Unfinished jobs that were due for a poll and got one from this page (the walk's cue
    # to read on: the next page may hold more of them).
    polled: int = 0
    skipped: int = 0

    def add(self, other: "Tally") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


# --- storing records ------------------------------------------------------------------------


def poll_gap(attempts: int, relaxed: bool = False) -> timedelta:
    """10 s after it was last seen, doubling up to 10 min (2 min to 30 min while webhooks arrive)."""
    if relaxed:
        return min(RELAXED_FIRST_POLL * 2 ** min(attempts, 10), RELAXED_MAX_POLL)
    return min(FIRST_POLL * 2 ** min(attempts, 10), MAX_POLL)


def webhooks_arrive(credential_id: int, now: datetime | None = None) -> bool:
    """Whether a webhook for this key was processed within the last day (hooks.process)."""
    since = (now or timezone.now()) - WEBHOOKS_FRESH
    return Credential.objects.filter(pk=credential_id, hook__last_event__gte=since).exists()


def record_values(record: JobRecord) -> dict:
    return {
        "kind": record.kind,
        "title": record.title[:300],
        "prompt": record.prompt,
        "model": record.model[:100],
        "status": record.status,
        "provider_status": record.provider_status[:60],
        "error": record.error,
        "error_code": record.error_code[:60],
        "completed": record.completed,
        "credits_used": record.credits_used,
        "credits_refunded": record.credits_refunded,
        "duration": record.duration,
        "outputs": [o.as_json() for o in record.outputs],
        "inputs": [o.as_json() for o in record.inputs],
        "details": record.details,
        "parent_ref": record.parent_ref[:200],
        "search_text": record.search_text,
        "raw": record.raw,
    }


def schedule_poll(job: Job, now: datetime, *, progressed: bool, relaxed: bool = False) -> None:
    """Set when to look at an unfinished job again, or give up politely after a day."""
    if now - (job.polling_since or job.imported) > GIVE_UP_AFTER:
        job.next_poll, job.stale = None, True
        return
    job.poll_attempts = 0 if progressed else job.poll_attempts + 1
    job.next_poll = now + poll_gap(job.poll_attempts, relaxed)
    job.seen = now


def new_row(credential: Credential, record: JobRecord, now: datetime, relaxed: bool = False) -> dict:
    """The column values of a job seen for the first time."""
    return {
        "code": uuid.uuid4(),
        "credential_id": credential.pk,
        "provider": credential.provider,
        "external_id": record.external_id,
        "created": record.created or now,
        "imported": now,
        "seen": now,
        "next_poll": now + poll_gap(0, relaxed) if record.unfinished else None,
        "poll_attempts": 0,
        "polling_since": now if record.unfinished else None,
        "stale": False,
        **record_values(record),
    }


def merge(job: Job, record: JobRecord, now: datetime, relaxed: bool = False) -> bool:
    """Bring a stored job up to date with a provider record; True if it needs saving."""
    if RANK[record.status] < RANK[job.status]:
        # A late page or a lagging replica: what we stored is newer. Keep it.
        return False
    values = record_values(record)
    if record.created is not None:
        values["created"] = record.created
    changed = {name: value for name, value in values.items() if getattr(job, name) != value}
    for name, value in changed.items():
        setattr(job, name, value)
    if record.unfinished:
        schedule_poll(job, now, progressed="status" in changed or "outputs" in changed, relaxed=relaxed)
        return True
    if job.next_poll is not None or job.stale or job.polling_since is not None:
        job.next_poll, job.stale, job.polling_since, changed["next_poll"] = None, False, None, None
    if changed:
        job.seen = now
    return bool(changed)


def restart(job: Job, status: str) -> None:
    """The provider queued a finished job again (AudioPod's retry of a FAILED job): the one
    way a status moves back. The old outcome is cleared and polling starts afresh."""
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=status,
        error="",
        error_code="",
        completed=None,
        next_poll=now,
        poll_attempts=0,
        polling_since=now,
        stale=False,
        seen=now,
    )


def store(
    credential: Credential, records: Iterable[JobRecord], now: datetime | None = None, *, relaxed: bool = False
) -> Tally:
    """Insert new jobs and update known ones in one short transaction. `relaxed`: the key's
    webhooks arrive, so unfinished jobs are polled less often."""
    now = now or timezone.now()
    by_id = {record.external_id: record for record in records}  # a page may repeat a record
    for external_id in removal.buried(credential, by_id):  # removed by its owner: stays removed
        del by_id[external_id]
    tally = Tally()
    if not by_id:
        return tally
    existing = {job.external_id: job for job in Job.objects.filter(credential=credential, external_id__in=by_id)}
    to_create, to_update, media_changed, redated = [], [], [], []
    for external_id, record in by_id.items():
        job = existing.get(external_id)
        if job is None:
            to_create.append(new_row(credential, record, now, relaxed))
            tally.unfinished += record.unfinished
            continue
        was_due = job.next_poll is not None and job.next_poll <= now
        before, created = (job.status, job.outputs, job.inputs), job.created
        if merge(job, record, now, relaxed):
            to_update.append(job)
            if (job.status, job.outputs, job.inputs) != before:
                media_changed.append(job)
            if job.created != created:
                redated.append(job.pk)
        tally.unfinished += job.status in Job.UNFINISHED and not job.stale
        tally.polled += was_due
    with transaction.atomic():
        # Conflicts are skipped: a concurrent import may have inserted the same job
        # meanwhile; the unique constraint keeps one row and the next sync updates it.
        rows.insert_ignoring_conflicts(Job, to_create, conflict=["credential_id", "external_id"])
        rows.update_by_pk(Job, to_update, UPDATE_FIELDS)
        if redated:
            follow_dates(redated)  # the stars and tags on them walk by their date
        # Jobs that finished here, or whose media changed, get it archived (archive.archiver).
        # A finished job updated with the same media was planned when it finished.
        archiver.plan_finished(credential, to_create, media_changed)
    tally.new, tally.updated = len(to_create), len(to_update)
    return tally


# --- one run --------------------------------------------------------------------------------


class Syncer:
    def __init__(
        self, credential: Credential, provider: Provider, run: SyncRun, token: uuid.UUID, budget: float | None = None
    ):
        self.credential = credential
        self.provider = provider
        self.run = run
        self.token = token
        self.tally = Tally()
        limit = run_budget() if budget is None else min(run_budget(), budget)
        self.deadline = time.monotonic() + limit
        self.more_to_do = False
        self.saved = 0.0
        self.positions: dict[tuple[str, datetime], range] = {}
        # Pages each stream's walk read this run: a due job on them was refreshed already.
        self.walked: dict[str, set[int]] = {}
        self.relaxed = webhooks_arrive(credential.pk)
        self.keeper: LeaseKeeper | None = None

    def save_progress(self, tally: Tally, *, force: bool = False) -> None:
        """Count what a step did; write it for the progress bar, with the backfill's place, at
        most twice a second (a commit per page would cost more than the page itself)."""
        self.tally.add(tally)
        if self.keeper is not None and self.keeper.lost:
            raise LeaseLost
        if not force and time.monotonic() - self.saved < PROGRESS_EVERY:
            return
        self.saved = time.monotonic()
        self.write_counts()
        Credential.objects.filter(pk=self.credential.pk).update(cursor=self.credential.cursor)

    def write_counts(self) -> None:
        SyncRun.objects.filter(pk=self.run.pk).update(
            pages=self.tally.pages,
            requests=self.tally.requests,
            new=self.tally.new,
            updated=self.tally.updated,
            unfinished=self.tally.unfinished,
            skipped=self.tally.skipped,
        )

    def store_page(self, page: Page) -> Tally:
        tally = store(self.credential, page.records, relaxed=self.relaxed)
        tally.pages, tally.requests, tally.skipped = 1, 1, page.skipped
        self.save_progress(tally)
        return tally

    def fetch(self, stream: str, index: int) -> tuple[Page, Tally]:
        """Read and store one page; the tally says what it brought."""
        page = self.provider.history_page(stream, index)
        return page, self.store_page(page)

    def walk(self, stream: str) -> None:
        """Newest first until a page brings nothing new and nothing unfinished; the first
        time, on to the end, resuming where an earlier run stopped. ("Unfinished" here means
        unfinished jobs due for a poll, and only while more of them lie on the next page: one
        that was polled a moment ago is no reason to read on, and refresh_by_pages() goes
        straight to the pages of due ones further down.)

        While backfilling, the next page is fetched in a second thread as this one is stored
        (HTTP and database work overlap); never where the walk might stop or skip ahead,
        so no page is asked for in vain except when a run's time is up.
        """
        cursor = dict(self.credential.cursor.get(stream) or {})
        # The live dict: save_progress() writes it as the walk goes, so a killed worker's
        # successor resumes near where it stopped.
        self.credential.cursor[stream] = cursor
        index, ahead = 0, None
        with ThreadPoolExecutor(max_workers=1) as pool:
            try:
                while True:
                    page = ahead.result() if ahead else self.provider.history_page(stream, index)
                    ahead = None
                    if not page.last and not cursor.get("done") and index + 1 >= cursor.get("resume", 0):
                        ahead = pool.submit(self.provider.history_page, stream, index + 1)
                    brought = self.store_page(page)
                    self.walked.setdefault(stream, set()).add(index)
                    if page.last:
                        cursor = {"done": True}
                        return
                    index += 1
                    if cursor.get("done"):
                        if brought.new == 0 and not (brought.polled and self.due_on_page(stream, page, index)):
                            return  # caught up with what we have, and no due job on the next page
                    else:
                        if brought.new == 0:
                            # Everything down to where the backfill stopped is stored: skip
                            # ahead (unfinished jobs on the way are refreshed by page later).
                            index = max(index, cursor.get("resume", 0))
                        cursor["resume"] = max(index, cursor.get("resume", 0))
                    # Out of time: stop after a page that brought something, so every run
                    # makes progress; the next run resumes here.
                    if brought.new and time.monotonic() > self.deadline:
                        self.more_to_do = True
                        return
            finally:
                if ahead is not None:  # asked for, not used
                    self.tally.requests += 1
                self.credential.cursor[stream] = cursor
                Credential.objects.filter(pk=self.credential.pk).update(cursor=self.credential.cursor)

    def due_on_page(self, stream: str, page: Page, index: int) -> bool:
        """Whether a job of this stream that is due for a poll lies on page `index`, the one
        after `page`. Due jobs further down are not worth the pages in between:
        refresh_by_pages() goes straight to theirs."""
        oldest = min((record.created for record in page.records if record.created), default=None)
        if oldest is None:
            return True  # no dates to compare: read on, as the rule says
        # The newest due job at or below this page's oldest (a burst made in one instant
        # shares a time, so "at" counts as below); its position is the number of newer jobs.
        due = self.due_jobs(timezone.now()).filter(kind__in=self.stream_kinds(stream), created__lte=oldest)
        nearest = due.order_by("-created").first()
        if nearest is None:
            return False
        newer = self.stream_jobs(stream).filter(created__gt=nearest.created).count()
        return newer < (index + 1) * self.provider.page_size

    def stream_kinds(self, stream: str) -> list[str]:
        return [kind for kind in Job.Kind.values if self.provider.stream_for(kind) == stream]

    def stream_jobs(self, stream: str):
        """This key's jobs that the provider lists in `stream`."""
        return Job.objects.filter(credential=self.credential, kind__in=self.stream_kinds(stream))

    def due_jobs(self, now: datetime):
        return Job.objects.filter(credential=self.credential, next_poll__lte=now).order_by("next_poll")

    def refresh_per_job(self) -> None:
        now = timezone.now()
        for job in self.due_jobs(now)[:REFRESH_LIMIT]:
            if time.monotonic() > self.deadline:
                self.more_to_do = True
                return
            tally = Tally(requests=1)
            try:
                record = self.provider.job(job.external_id)
            except RateLimited as e:
                if self.provider.rate_limit_per_job:
                    # The limit is per job (Apikley): only this job waits.
                    Job.objects.filter(pk=job.pk).update(next_poll=timezone.now() + timedelta(seconds=e.retry_after))
                    self.save_progress(tally)
                    continue
                raise
            except ProviderError as e:
                if e.permanent or e.status not in (404, 422):
                    raise
                self.provider_does_not_know(job, e)
                self.save_progress(tally)
                continue
            tally.add(store(self.credential, [record], relaxed=self.relaxed))
            self.save_progress(tally)

    def provider_does_not_know(self, job: Job, error: ProviderError) -> None:
        """The provider answered that it has no such job."""
        now = timezone.now()
        if job.status == Job.Status.PENDING and not job.raw:  # an imported id, never described
            if now - job.imported < self.provider.not_known_grace:
                # Not known yet (Apikley, right after a task is created): still pending, asked again.
                schedule_poll(job, now, progressed=False)
                values = {"next_poll": job.next_poll, "poll_attempts": job.poll_attempts}
            else:
                # The provider never knew it: a failed job carrying its message.
                message = self.provider.not_found(error)
                values = {"status": Job.Status.FAILED, "error": message, "error_code": str(error.status or "")}
                values["next_poll"] = None
            Job.objects.filter(pk=job.pk).update(**values, seen=now)
        else:
            # It existed and is gone at the provider (deleted there): keep what we have.
            note = f"{self.provider.name} no longer knows this job: {error.message}"
            Job.objects.filter(pk=job.pk).update(error=note, next_poll=None, stale=True, seen=now)

    def refresh_by_pages(self) -> None:
        """Re-read the pages unfinished jobs are on: one request refreshes a page of them."""
        now = timezone.now()
        due = list(
            self.due_jobs(now).only("pk", "kind", "created", "external_id", "poll_attempts", "imported")[:REFRESH_LIMIT]
        )
        by_stream: dict[str, list[tuple[range, Job]]] = {}
        for job in due:
            stream = self.provider.stream_for(job.kind)
            by_stream.setdefault(stream, []).append((self.pages_of(stream, job.created), job))
        for stream, wanted in by_stream.items():
            read = set(self.walked.get(stream, ()))
            for index in sorted({index for pages, _ in wanted for index in pages} - read):
                if not any(index in pages for pages, _ in wanted):
                    continue  # the jobs that could be here were found on an earlier page
                if not self.read_for(stream, index, wanted, read):
                    return
            for index in sorted({pages.start - 1 for pages, _ in wanted if pages.start > 0} - read):
                # A job deleted above shifts the ones below it up a page.
                if not self.read_for(stream, index, wanted, read):
                    return
            for _, job in wanted:  # not where we expected it: look again later
                schedule_poll(job, timezone.now(), progressed=False, relaxed=self.relaxed)
                Job.objects.filter(pk=job.pk).update(
                    next_poll=job.next_poll, poll_attempts=job.poll_attempts, stale=job.stale
                )

    def pages_of(self, stream: str, created: datetime) -> range:
        """The pages a job made at `created` may be on. Newest first, its position is the
        number of newer jobs of its stream; jobs made in the same instant may come in any
        order, so a burst of them spans every page they fill."""
        if (stream, created) not in self.positions:
            jobs = self.stream_jobs(stream)
            newer = jobs.filter(created__gt=created).count()
            same = jobs.filter(created=created).count()
            size = self.provider.page_size
            self.positions[stream, created] = range(newer // size, (newer + max(same, 1) - 1) // size + 1)
        return self.positions[stream, created]

    def read_for(self, stream: str, index: int, wanted: list[tuple[range, Job]], read: set[int]) -> bool:
        """Read page `index` and strike the wanted jobs found on it; False when time is up."""
        if time.monotonic() > self.deadline:
            self.more_to_do = True
            return False
        found = {record.external_id for record in self.fetch(stream, index)[0].records}
        read.add(index)
        wanted[:] = [(pages, job) for pages, job in wanted if job.external_id not in found]
        return True

    def sync(self) -> None:
        try:
            if self.credential.status in (Credential.Status.UNCHECKED, Credential.Status.OUT_OF_CREDITS):
                # Saved while the provider could not be asked, or out of credits at the last
                # look: ask now (one cheap call). A refusal or failure stops the run like any
                # other provider error.
                self.save_progress(Tally(requests=1))
                balance = self.provider.check_key()
                Credential.objects.filter(pk=self.credential.pk).update(
                    status=Credential.Status.OK, balance=balance[:100], last_error="", checked=timezone.now()
                )
            if balances.refresh(self.credential, self.provider):
                self.save_progress(Tally(requests=1))
            for stream in self.provider.streams:
                self.walk(stream)
            if self.provider.refreshes_per_job:
                self.refresh_per_job()
            else:
                self.refresh_by_pages()
        finally:
            self.write_counts()


@dataclass
class Outcome:
    credential: Credential
    run: SyncRun
    error: str = ""
    # Why the provider counts as down: it did not answer in time or could not be reached
    # (history/outage.py).
    provider_down: str = ""


def sync_credential(
    credential_id: int,
    *,
    run_id: int | None = None,
    trigger: str = SyncRun.Trigger.SCHEDULE,
    budget: float | None = None,
    only_if_due: bool = False,
) -> Outcome | None:
    """Sync one key now, if no other worker is on it. Returns None for a key that is gone.

    `budget` (seconds) shortens the run's own budget: what is left of its provider's share
    of a `manage.py sync` pass. `only_if_due` (the schedule's tasks): a key queued twice (its
    first task was lost with a killed worker, so the schedule queued it again) is synced once;
    the later copy finds it no longer due and returns None without a run.
    """
    from .tasks import still_due  # tasks.py queues this function: import at call time

    if only_if_due and not still_due(credential_id):
        Credential.objects.filter(pk=credential_id).update(enqueued=None)
        return None
    credential = Credential.objects.filter(pk=credential_id).first()
    if credential is None:
        return None
    Credential.objects.filter(pk=credential_id).update(enqueued=None)
    run = SyncRun.objects.filter(pk=run_id).first() if run_id else None
    run = run or SyncRun.objects.create(credential=credential, trigger=trigger)
    if why := outage.down(credential.provider):
        # Another key just paid a full timeout to learn this: no point paying it again.
        finish(run, SyncRun.State.SKIPPED, outage.waiting_message(credential.provider, why))
        return Outcome(credential, run, "", provider_down=why)
    token = uuid.uuid4()
    if not claim(credential_id, token):
        finish(run, SyncRun.State.SKIPPED, "Another worker is syncing this key right now.")
        return Outcome(credential, run, "")
    now = timezone.now()
    began = time.monotonic()
    SyncRun.objects.filter(pk=run.pk).update(state=SyncRun.State.RUNNING, started=now)
    try:
        credential.refresh_from_db()
        outcome = Outcome(credential, run)
        if not credential.usable:
            finish(run, SyncRun.State.SKIPPED, f"The key is {credential.get_status_display().lower()}: not used.")
            return outcome
        try:
            syncer = Syncer(credential, credential.client(), run, token, budget)
            with LeaseKeeper(credential_id, token) as syncer.keeper:
                syncer.sync()
        except crypto.SecretUnavailable:
            credential.check_with_provider()  # records "re-enter" and says why
            outcome.error = credential.last_error
        except LeaseLost:
            outcome.error = "Stopped: another worker took over this key."
        except ProviderError as e:
            outcome.error = e.message
            record_failure(credential, e)
            if outage.is_outage(e):
                outage.mark_down(credential.provider, e)
                outcome.provider_down = e.message
        else:
            record_success(credential, more_to_do=syncer.more_to_do)
        run.refresh_from_db()
        finish(run, SyncRun.State.FAILED if outcome.error else SyncRun.State.DONE, outcome.error)
        log_run(run, credential, time.monotonic() - began)
        return outcome
    except Exception:
        # One bad key must not crash-loop a worker: push its next try out, then re-raise.
        Credential.objects.filter(pk=credential_id).update(
            next_sync=timezone.now() + timedelta(minutes=15), sync_error="Internal error during sync; retrying later."
        )
        finish(run, SyncRun.State.FAILED, "Internal error during sync.")
        raise
    finally:
        release(credential_id, token)


def log_run(run: SyncRun, credential: Credential, seconds: float) -> None:
    """One structured line per sync run: ids and counts, never a secret (nor its last four)."""
    logs.event(
        logger,
        "sync",
        key=credential.pk,
        provider=credential.provider,
        trigger=run.trigger,
        state=run.state,
        pages=run.pages,
        requests=run.requests,
        new=run.new,
        updated=run.updated,
        duration_ms=round(seconds * 1000),
    )


def finish(run: SyncRun, state: str, message: str) -> None:
    SyncRun.objects.filter(pk=run.pk).update(state=state, finished=timezone.now(), message=message[:500])
    run.state, run.message = state, message[:500]
    # Keep the latest runs of each key only.
    old = SyncRun.objects.filter(credential_id=run.credential_id).order_by("-created")[SyncRun.KEEP_PER_CREDENTIAL :]
    SyncRun.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()


def record_success(credential: Credential, *, more_to_do: bool) -> None:
    now = timezone.now()
    Credential.objects.filter(pk=credential.pk).update(
        last_sync=now,
        next_sync=now if more_to_do else now + sync_interval(),
        failures=0,
        paused_until=None,
        sync_error="",
    )


def record_failure(credential: Credential, error: ProviderError) -> None:
    now = timezone.now()
    if isinstance(error, KeyRejected):
        Credential.objects.filter(pk=credential.pk).update(
            status=Credential.Status.REJECTED, last_error=error.message[:500], checked=now, sync_error=""
        )
        return
    if isinstance(error, OutOfCredits):
        # Asking every minute changes nothing until the owner tops up: hourly, or at once
        # when they check or save the key (Credential.check_with_provider, set_secret).
        Credential.objects.filter(pk=credential.pk).update(
            status=Credential.Status.OUT_OF_CREDITS,
            last_error=error.message[:500],
            checked=now,
            paused_until=now + Credential.OUT_OF_CREDITS_PAUSE,
            sync_error="",
        )
        return
    if isinstance(error, RateLimited):
        wait = timedelta(seconds=error.retry_after or 60)
        message = f"Rate limited by {credential.get_provider_display()}: {error.message}"
        Credential.objects.filter(pk=credential.pk).update(paused_until=now + wait, sync_error=message[:500])
        return
    # 5xx, timeouts, garbage: back off exponentially, with jitter so keys do not retry in step.
    failures = credential.failures + 1
    delay = min(30 * 2 ** (failures - 1), 3600) * random.uniform(0.5, 1.5)
    Credential.objects.filter(pk=credential.pk).update(
        failures=F("failures") + 1, paused_until=now + timedelta(seconds=delay), sync_error=error.message[:500]
    )
