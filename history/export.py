"""Streamed exports of the history: every matching job, however many, in constant memory."""

import csv
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import batched

from annotations import marks as annotation_marks
from archive import display
from archive.models import ArchivedFile

from . import sorting
from .models import Job

FIELDS = [
    "id",
    "provider",
    "kind",
    "external_id",
    "status",
    "provider_status",
    "error",
    "model",
    "title",
    "prompt",
    "created_at",
    "completed_at",
    "credits_used",
    "credits_refunded",
    "outputs",
    "credential",
    "owner",
    # The exporting person's own marks (app annotations): appended, so earlier columns stay put.
    "starred",
    "tags",
    "note",
]
CHUNK = 2000
# A background export (history/export_jobs.py) hears how many rows are written this often.
PROGRESS_EVERY = 1000


def _number(value: Decimal | None) -> int | float | None:
    """Credits are JSON numbers: 12, not "12.0000"."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _outputs(job: Job, origin: str) -> list[dict]:
    """Each output with Genboard's archived copy as its URL when there is one (the provider's
    expires), absolute so the export works outside the site."""
    return [
        {
            "kind": o.get("kind", ""),
            "url": origin + o["archived_url"] if o.get("archived_url") else o.get("url") or o.get("stream_url", ""),
            "title": o.get("title", ""),
            "duration": o.get("duration"),
        }
        for o in display.apply(job, ArchivedFile.Role.OUTPUT, job.outputs)
    ]


def as_dict(job: Job, origin: str = "", marks: annotation_marks.Marks = annotation_marks.NONE) -> dict:
    return {
        "id": str(job.code),
        "provider": job.provider,
        "kind": job.kind,
        "external_id": job.external_id,
        "status": job.status,
        "provider_status": job.provider_status,
        # Why it failed, was canceled or is stuck. Munsit fills `error` on jobs that succeeded
        # too (DESIGN): there it means nothing and is left out, as the pages leave it out.
        "error": "" if job.status == Job.Status.SUCCEEDED else job.error,
        "model": job.model,
        "title": job.title,
        "prompt": job.prompt,
        "created_at": job.created.isoformat(),
        "completed_at": job.completed.isoformat() if job.completed else None,
        "credits_used": _number(job.credits_used),
        "credits_refunded": _number(job.credits_refunded),
        "outputs": _outputs(job, origin),
        "credential": job.credential.label,
        "owner": job.credential.owner.get_username(),
        "starred": marks.starred,
        "tags": [name for _, name, _ in marks.tags],
        "note": marks.note,
    }


def export_rows(jobs, origin: str = "", progress: Callable[[int], None] | None = None, viewer=None) -> Iterator[dict]:
    """Each job as a dict of FIELDS; `viewer`'s stars, tags and notes (none without one) read
    for CHUNK jobs at a time."""
    # In the list's order when the filters chose one (JobFilter's `sort`), else newest first.
    if not jobs.ordered:
        jobs = jobs.order_by(*sorting.DEFAULT.ordering())
    jobs = jobs.select_related("credential__owner")
    n = 0
    for chunk in batched(jobs.iterator(chunk_size=CHUNK), CHUNK):
        display.attach(chunk)
        marks = annotation_marks.for_jobs(viewer, [job.pk for job in chunk]) if viewer is not None else {}
        for job in chunk:
            n += 1
            yield as_dict(job, origin, marks.get(job.pk, annotation_marks.NONE))
            if progress and n % PROGRESS_EVERY == 0:
                progress(n)
    if progress:
        progress(n)


def json_stream(jobs, origin: str = "", progress: Callable[[int], None] | None = None, viewer=None) -> Iterator[str]:
    yield "["
    first = True
    for row in export_rows(jobs, origin, progress, viewer):
        yield ("" if first else ",\n") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "]\n"


def _cell(value):
    """Text that a spreadsheet would run as a formula gets a leading quote (OWASP's advice)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_stream(jobs, origin: str = "", progress: Callable[[int], None] | None = None, viewer=None) -> Iterator[str]:
    # A byte order mark first: without it Excel reads UTF-8 as the local code page and
    # mangles every non-Latin title and name.
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for n, row in enumerate(export_rows(jobs, origin, progress, viewer), 1):
        row["outputs"] = json.dumps(row["outputs"], ensure_ascii=False)
        row["tags"] = json.dumps(row["tags"], ensure_ascii=False)
        writer.writerow({name: _cell(value) for name, value in row.items()})
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
