"""What a page shows of an output's archive: the URL to play and show (ours once archived),
and its state in words ("Archived · 3.2 MB", "Expiring in 5 days", "Expired at the provider",
"Archive failed: …")."""

import math
import re
from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from core.sql import placeholders
from history.models import Job
from providers.registry import PROVIDERS

from .models import ArchivedFile

# Characters no file system or zip tool takes in a name.
UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


# What the pages read of an archive row.
FIELDS = ("pk", "code", "job_id", "role", "position", "kind", "state", "size", "error", "path", "content_type")


# Those rows of some jobs, in the order they were made (attach).
FILES = "SELECT {columns} FROM {table} WHERE job_id IN ({jobs}) ORDER BY id"


def attach(jobs: Iterable[Job]) -> None:
    """Read the archive rows of all these jobs in one query and hang each job's on it (see
    files_of). By hand rather than prefetch_related("archived"): Django's prefetch builds a
    QuerySet per job to hold its rows, about a third of a page of rows' database CPU (3 ms of
    50 rows, bench/pages_bench.py --profile). In SQL (ArchivedFile.objects.raw) rather than a
    queryset, as annotations.marks reads a page's marks: every job page and row answer asks
    this, and building the queryset cost 0.4 ms of CPU against 0.15 ms (bench/page_cpu.py)."""
    jobs = list(jobs)
    found: dict[int, list[ArchivedFile]] = {job.pk: [] for job in jobs}
    if found:
        for archived in ArchivedFile.objects.raw(_files_sql(len(found)), list(found)):
            found[archived.job_id].append(archived)
    for job in jobs:
        job.archived_files = found[job.pk]


def _files_sql(jobs: int) -> str:
    """FILES for this many jobs, each column and table named from Django's metadata: every
    value is a parameter."""
    quote = connection.ops.quote_name
    meta = ArchivedFile._meta
    columns = ", ".join(quote((meta.pk if name == "pk" else meta.get_field(name)).column) for name in FIELDS)
    return FILES.format(columns=columns, table=quote(meta.db_table), jobs=placeholders(jobs))


def files_of(job: Job) -> list[ArchivedFile]:
    """The job's archive rows: attached for a page of jobs, else read now."""
    if not hasattr(job, "archived_files"):
        attach([job])
    return job.archived_files


def by_item(job: Job) -> dict[tuple[str, int], ArchivedFile]:
    return {(f.role, f.position): f for f in files_of(job)}


def expires(job: Job, now: datetime | None = None) -> int | None:
    """Days until the provider deletes the job's files, where its retention is known; 0 or
    less once past it; None when unknown."""
    provider = PROVIDERS.get(job.provider)
    retention = getattr(provider, "media_retention", None)
    if retention is None:
        return None
    since = job.completed or job.created
    left = (since + retention - (now or timezone.now())).total_seconds()
    return math.ceil(left / 86400)


def state(job: Job, archived: ArchivedFile | None, now: datetime | None = None) -> dict:
    """{"label", "css", "title"} for one output; an empty label shows nothing."""
    if archived is not None and archived.state == ArchivedFile.State.DONE:
        size = archived.size or 0
        return {"label": f"Archived · {filesizeformat(size)}", "css": "archived", "title": "", "size": size}
    if archived is not None and archived.state == ArchivedFile.State.GONE:
        return {"label": "Expired at the provider", "css": "gone", "title": archived.error}
    if archived is not None and archived.state == ArchivedFile.State.FULL:
        return {"label": "Archive full", "css": "failed", "title": archived.error}
    if archived is not None and archived.state == ArchivedFile.State.FAILED:
        return {"label": f"Archive failed: {archived.error}", "css": "failed", "title": archived.error}
    # Partial outputs of a running job are not copied yet: nothing to say about them.
    days = expires(job, now) if job.status == Job.Status.SUCCEEDED else None
    if days is not None and days <= 0:
        return {"label": "Expired at the provider", "css": "gone", "title": "Past the provider's retention"}
    if days is not None:
        return {"label": f"Expiring in {days} day{'s' if days != 1 else ''}", "css": "expiring", "title": ""}
    if archived is not None:
        return {"label": "Waiting to be archived", "css": "pending", "title": ""}
    return {"label": "", "css": "", "title": ""}


def apply(job: Job, role: str, items: list[dict]) -> list[dict]:
    """The job's outputs (or inputs) as the templates use them, each given `archive` (its
    state) and, once archived, our URL in place of the provider's."""
    archived = by_item(job)
    now = timezone.now()
    shown = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        row = archived.get((role, position))
        item = dict(item, archive=state(job, row, now))
        if row is not None and row.state == ArchivedFile.State.DONE:
            item["url"] = item["src"] = row.get_absolute_url()
            item["archived_url"] = item["url"]
            item["archived_ext"] = row.extension.lstrip(".").upper()[:5]
        shown.append(item)
    return shown


def summary(items: list[dict]) -> dict:
    """One state for a whole job (a row of the list): archived when every file is, else the
    most pressing state of any file."""
    states = [item["archive"] for item in items if item.get("archive")]
    if states and all(s["css"] == "archived" for s in states):
        total = sum(s["size"] for s in states)
        files = f"{len(states)} files, " if len(states) > 1 else ""
        return {"label": f"Archived · {files}{filesizeformat(total)}", "css": "archived", "title": ""}
    for css in ("failed", "gone", "expiring"):
        for s in states:
            if s["css"] == css:
                return s
    return {"label": "", "css": "", "title": ""}


def file_name(job: Job, archived: ArchivedFile, extension: str = "") -> str:
    """The name a download carries: the job's title, with the track's own title or number
    when the job has several files, and an extension."""
    base = job.title or job.external_id
    items = job.inputs if archived.role == ArchivedFile.Role.INPUT else job.outputs
    item = items[archived.position] if archived.position < len(items) and isinstance(items, list) else {}
    if archived.role == ArchivedFile.Role.INPUT:
        base = f"{base} (original)"
    elif len(items) > 1:
        own = item.get("title") if isinstance(item, dict) else ""
        if archived.kind == "image":
            base = f"{base} - cover {archived.position + 1}"
        elif own and own != base:
            base = f"{base} - {own}"
        else:
            base = f"{base} - {archived.position + 1}"
    base = " ".join(UNSAFE_NAME.sub(" ", base).split()).strip(" .")[:150] or "file"
    return base + (extension or archived.extension)
