"""Exports that do not hold the web tier.

- A small export (at most STREAM_LIMIT jobs, counted with a bounded COUNT) streams from the
  web process as before, in constant memory.
- A larger one becomes an `Export` row and a django-q2 task: a worker writes the file to
  storage (Django's storage API: the "archive" storage, MEDIA_ROOT locally or the bucket
  when one is set), reporting progress as it goes, and its owner downloads it when it is ready.
- One export at a time per person, streamed or not: a second one is refused with 429 and
  Retry-After. Streams hold a short-lived slot in the shared cache (released when the stream
  ends or the client goes away); a background export holds it by being unfinished.
"""

import logging
import tempfile
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django_q.tasks import async_task

from core import logs

from . import export
from .filters import JobFilter
from .models import Export, Job, export_storage

logger = logging.getLogger(__name__)

# Above this many jobs an export runs in a worker. About 0.1 ms of web CPU per row: 5,000
# rows hold a web process for about half a second (docs/performance.md, "Exports").
STREAM_LIMIT = 5000
# A stream's slot lapses after this even if its process died without releasing it.
STREAM_SLOT = timedelta(minutes=10)
# An unfinished background export whose progress has not moved for this long lost its
# worker: it no longer blocks its owner (and is shown as failed).
STALLED_AFTER = timedelta(minutes=10)
RETRY_STREAM = 10  # seconds
RETRY_BACKGROUND = 30
STREAMS = {Export.Format.JSON: export.json_stream, Export.Format.CSV: export.csv_stream}


class Busy(Exception):
    """Another export of this person's is running: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _slot(user_id: int) -> str:
    return f"genboard:export-slot:{user_id}"


def take_slot(user_id: int) -> str:
    """Claim the person's export slot for a moment or a stream; raises Busy when taken."""
    holder = uuid.uuid4().hex
    if not cache.add(_slot(user_id), holder, STREAM_SLOT.total_seconds()):
        raise Busy(RETRY_STREAM)
    return holder


def free_slot(user_id: int, holder: str) -> None:
    if cache.get(_slot(user_id)) == holder:
        cache.delete(_slot(user_id))


def running(user_id: int) -> Export | None:
    """The person's unfinished background export, unless its worker went away."""
    alive = timezone.now() - STALLED_AFTER
    unfinished = Export.objects.filter(owner_id=user_id, state__in=[Export.State.QUEUED, Export.State.RUNNING])
    return unfinished.filter(touched__gte=alive).order_by("-created").first()


def held_stream(stream, user_id: int, holder: str):
    """The stream, releasing the slot when it ends or the client goes away (close())."""
    try:
        yield from stream
    finally:
        free_slot(user_id, holder)


def start(request: HttpRequest, jobs: QuerySet, fmt: str, query: str):
    """Begin an export of `jobs` (visible to the person) for this request: a stream to send
    now, or a queued Export. `query` names the same jobs for a worker: the history's filters
    as a query string, plus `job` codes for a bulk export of chosen jobs (_jobs_for).

    Raises Busy when another export of the person's is under way."""
    user_id = request.user.pk
    holder = take_slot(user_id)
    try:
        if running(user_id) is not None:
            raise Busy(RETRY_BACKGROUND)
        # Archived files are linked by absolute URLs on this site.
        origin = f"{request.scheme}://{request.get_host()}"
        if jobs[: STREAM_LIMIT + 1].count() <= STREAM_LIMIT:
            stream, holder = held_stream(STREAMS[fmt](jobs, origin, viewer=request.user), user_id, holder), None
            return stream
        job = Export.objects.create(
            owner_id=user_id,
            format=fmt,
            query=query,
            origin=origin,
            time_zone=timezone.get_current_timezone_name(),
        )
        async_task("history.export_jobs.run", job.pk, task_name=f"export-{job.pk}", group="export")
        return job
    finally:
        if holder is not None:
            free_slot(user_id, holder)


def _jobs_for(job: Export) -> QuerySet:
    """The jobs the owner's request named, outside any request: those matching the
    history's filters, and among them only the `job` codes when a bulk export chose some
    (history/bulk_actions.py checked them when it queued the export)."""
    request = HttpRequest()
    request.user = job.owner
    request.GET = QueryDict(job.query)
    filters = JobFilter(request.GET or None, queryset=Job.objects.visible_to(job.owner), request=request)
    filters.is_valid()
    # Joined by commas in one parameter: QueryDict refuses more than 1,000 of them.
    codes = [code for value in request.GET.getlist("job") for code in value.split(",")]
    return filters.qs.filter(code__in=codes) if codes else filters.qs


def export_pace() -> float:
    """The share of the time an export works; it rests the rest, so that the CPU and the
    database stay with the pages while exports run (docs/performance.md, "Exports")."""
    return float(getattr(settings, "GENBOARD_EXPORT_PACE", 0.5))


class Pacer:
    """Rests after each stretch of work for as long as keeps the work to `pace` of the time."""

    def __init__(self, pace: float):
        self.factor = (1 / pace - 1) if 0 < pace < 1 else 0.0
        self.since = time.monotonic()

    def rest(self) -> None:
        worked = time.monotonic() - self.since
        time.sleep(worked * self.factor)
        self.since = time.monotonic()


def run(export_id: int) -> str:
    """The django-q2 task: write the export to storage, then mark it ready to download."""
    job = Export.objects.select_related("owner").filter(pk=export_id, state=Export.State.QUEUED).first()
    if job is None:
        return "gone"
    began = timezone.now()
    try:
        with timezone.override(job.time_zone or "UTC"):
            jobs = _jobs_for(job)
            total = jobs.count()
        Export.objects.filter(pk=job.pk).update(state=Export.State.RUNNING, total=total, touched=timezone.now())

        pacer = Pacer(export_pace())

        def progress(written: int) -> None:
            Export.objects.filter(pk=job.pk).update(written=written, touched=timezone.now())
            pacer.rest()

        with tempfile.TemporaryFile() as out:
            for chunk in STREAMS[job.format](jobs, job.origin, progress, viewer=job.owner):
                out.write(chunk.encode())
            size = out.tell()
            out.seek(0)
            stamp = job.created.strftime("%Y%m%d-%H%M")
            name = export_storage().save(f"exports/genboard-history-{stamp}-{job.code.hex[:8]}.{job.format}", File(out))
        Export.objects.filter(pk=job.pk).update(
            state=Export.State.DONE, file=name, size=size, finished=timezone.now(), touched=timezone.now()
        )
    except Exception:
        Export.objects.filter(pk=job.pk).update(
            state=Export.State.FAILED, finished=timezone.now(), message="The export failed; please try again."
        )
        raise
    finally:
        logs.event(
            logger,
            "export",
            export=job.pk,
            user=job.owner_id,
            format=job.format,
            rows=Export.objects.filter(pk=job.pk).values_list("written", flat=True).first(),
            duration_ms=round((timezone.now() - began).total_seconds() * 1000),
        )
    prune(job.owner_id)
    return "done"


def prune(user_id: int) -> None:
    """Keep an owner's latest few exports; older files are deleted from storage."""
    old = Export.objects.filter(owner_id=user_id).order_by("-created")[Export.KEEP_PER_OWNER :]
    for job in Export.objects.filter(pk__in=list(old.values_list("pk", flat=True))):
        if job.file:
            export_storage().delete(job.file.name)
        job.delete()


def stalled(job: Export) -> bool:
    return job.active and job.touched < timezone.now() - STALLED_AFTER
