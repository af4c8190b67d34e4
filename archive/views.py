"""Archived files to whoever can see their job: one file (`/files/<id>/`, with Range so players
can seek), a bulk download as one streamed zip (`/files/zip/`), and a key's archive switch."""

import contextlib
import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST, require_safe
from django_q.tasks import async_task
from zipstream import ZIP_STORED, ZipStream

from history.filters import JobFilter
from history.models import Job
from providers.models import Credential

from . import display
from .models import ArchivedFile
from .storage import archive_storage, is_remote, read_range

CHUNK = 64 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte of a single `Range: bytes=…`; None for the whole file (no header,
    or one we do not serve in part: several ranges, other units); ValueError when no byte of
    it exists (416)."""
    found = RANGE.match(header.strip()) if header else None
    if not found or found.group(1) == found.group(2) == "":
        return None
    first, last = found.groups()
    if first == "":  # the last N bytes
        count = int(last)
        if count == 0 or size == 0:
            raise ValueError
        return max(size - count, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise ValueError
    return start, end


@require_safe
def archived_file(request, code):
    found = ArchivedFile.objects.select_related("job").filter(
        code=code, state=ArchivedFile.State.DONE, job__in=Job.objects.visible_to(request.user)
    )
    archived = found.first()
    if archived is None:
        raise Http404("No such file.")
    return serve(request, archived)


def serve(request, archived: ArchivedFile):
    """One archived file, whole or a range, to a requester already allowed to have it (here,
    and public_links for a job's public page). Django's FileResponse answers whole files
    only, so Range is done here (RFC 9110 §14: one range; several get the whole file, which
    the RFC allows)."""
    name = display.file_name(archived.job, archived)
    attachment = request.GET.get("download") == "1"
    disposition = content_disposition_header(attachment, name)
    if is_remote():
        # A bucket serves ranges itself: hand out a signed URL that works for a few minutes.
        url = archive_storage().url(
            archived.path,
            parameters={"ResponseContentDisposition": disposition, "ResponseContentType": archived.content_type},
            expire=300,
        )
        return HttpResponseRedirect(url)
    etag = f'"{archived.sha256}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": "private, max-age=86400",
        "Content-Disposition": disposition,
        # Played and shown inline, never run: no script or plugin from an archived file.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers=headers)
    size = archived.size or 0
    wanted = request.headers.get("Range", "")
    if wanted and request.headers.get("If-Range") not in (None, etag):
        wanted = ""  # the file changed since the client's copy: send it whole
    try:
        part = parse_range(wanted, size)
    except ValueError:
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = part or (0, size - 1)
    length = max(end - start + 1, 0)
    response = StreamingHttpResponse(
        read_range(archived.path, start, length, CHUNK), content_type=archived.content_type, status=206 if part else 200
    )
    for header, value in headers.items():
        response[header] = value
    response["Content-Length"] = str(length)
    if part:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _zip_jobs(request) -> tuple[list[int], str] | HttpResponse:
    """The jobs a bulk download takes: the `job` ids given, else every job matching the
    history's filters; at most ARCHIVE_ZIP_MAX_JOBS, newest first."""
    visible = Job.objects.visible_to(request.user)
    limit = settings.ARCHIVE_ZIP_MAX_JOBS
    codes = request.GET.getlist("job")
    planned = contextlib.nullcontext()  # jobs named by id: prepared like any other statement
    if codes:
        try:
            wanted = [uuid.UUID(code) for code in codes]
        except ValueError:
            return HttpResponseBadRequest("Bad job id.", content_type="text/plain; charset=utf-8")
        jobs = visible.filter(code__in=wanted)
    else:
        params = request.GET.copy()
        filters = JobFilter(params or None, queryset=visible, request=request)
        if filters.is_bound and not filters.is_valid():
            message = f"Bad filter: {filters.error_text}"
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        jobs, planned = filters.qs, filters.planned()
    with planned:
        pks = list(jobs.order_by("-created", "-id").values_list("pk", flat=True)[: limit + 1])
    note = ""
    if len(pks) > limit:
        pks = pks[:limit]
        note = f"More than {limit:,} jobs matched: this zip holds the newest {limit:,}.\n"
    return pks, note


@require_safe
def bulk_zip(request):
    """One zip of the archived files of many jobs (the `job` ids or the history's filters)."""
    picked = _zip_jobs(request)
    if isinstance(picked, HttpResponse):
        return picked
    return zip_response(*picked)


def zip_response(pks: list[int], note: str = "") -> StreamingHttpResponse:
    """The archived files of these jobs in one zip, named by title, streamed as it is made
    (zipstream-ng): no zip is held in memory or written to disk, one file is open at a time.
    `note`, when given, goes into the zip as "about this download.txt". Also the history's
    bulk "Download files" (history/bulk_actions.py), which picks the jobs itself."""
    files = (
        ArchivedFile.objects.filter(job_id__in=pks, state=ArchivedFile.State.DONE)
        .select_related("job")
        .only("pk", "code", "role", "position", "kind", "path", "size", "job__title", "job__external_id")
        .order_by("-job__created", "-job_id", "role", "position")
    )
    # Job.outputs and inputs are needed for the names of jobs with several files only;
    # deferred above, read here per job in one query.
    items = dict(Job.objects.filter(pk__in=pks).values_list("pk", "outputs"))
    inputs = dict(Job.objects.filter(pk__in=pks).values_list("pk", "inputs"))
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    used: set[str] = set()
    for archived in files.iterator(chunk_size=500):
        job = archived.job
        job.outputs, job.inputs = items.get(job.pk) or [], inputs.get(job.pk) or []
        name = _unique(display.file_name(job, archived), used)
        stream.add(read_range(archived.path, 0, archived.size or 0, CHUNK), name, size=archived.size or 0)
    missing = len(pks) - len(set(files.values_list("job_id", flat=True)))
    if missing:
        note += f"{missing:,} of the {len(pks):,} jobs have no archived file yet.\n"
    if note:
        stream.add(note.encode(), "about this download.txt")
    response = StreamingHttpResponse(stream, content_type="application/zip")
    response["Content-Length"] = str(len(stream))
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = content_disposition_header(True, f"genboard-files-{stamp}.zip")
    return response


def _unique(name: str, used: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    used.add(candidate.lower())
    return candidate


@require_POST
def key_archive(request, code):
    """Turn archiving of one key's media on or off (owner only)."""
    credential = get_object_or_404(Credential.objects.owned_by(request.user), code=code)
    on = request.POST.get("archive") == "on"
    Credential.objects.filter(pk=credential.pk).update(archive=on)
    if on:
        # Jobs that finished while it was off are planned by a worker (a key may hold many).
        async_task("archive.archiver.plan_credential", credential.pk, group="archive")
        messages.success(request, "Archiving is on: this key's files are copied in the background.")
    else:
        messages.success(request, "Archiving is off for this key: files already archived stay.")
    return redirect(credential)
