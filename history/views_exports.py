"""A large export's page (its progress, then its download) and the download itself."""

from pathlib import PurePath

from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache

from archive.storage import is_remote
from core.pages import render_page

from . import export_jobs
from .models import Export

POLL_SECONDS = 2


@never_cache
def export_page(request, code):
    job = get_object_or_404(Export, code=code, owner=request.user)
    context = {"job": job, "stalled": export_jobs.stalled(job), "poll_seconds": POLL_SECONDS}
    if request.htmx:
        return render(request, "history/export_progress.html", context, using="jinja2")
    title = f"Export of your history ({job.get_format_display()})"
    return render_page(request, "history/export.html", context, title=title, page_class="page-narrow")


@never_cache
def export_download(request, code):
    job = get_object_or_404(Export, code=code, owner=request.user, state=Export.State.DONE)
    content_type = "application/json" if job.format == Export.Format.JSON else "text/csv; charset=utf-8"
    filename = PurePath(job.file.name).name
    if is_remote(job.file.storage):
        # From a bucket, a signed URL for a few minutes, as archived files are: S3File.open()
        # would copy the whole export into this web process's memory before its first byte.
        parameters = {
            "ResponseContentDisposition": content_disposition_header(True, filename),
            "ResponseContentType": content_type,
            "ResponseCacheControl": "no-store",
        }
        return HttpResponseRedirect(job.file.storage.url(job.file.name, parameters=parameters, expire=300))
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
