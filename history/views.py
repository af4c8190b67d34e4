from datetime import datetime

from django.contrib import messages
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from providers.models import Credential

from . import export
from .filters import JobFilter
from .forms import ImportForm
from .models import Job, SyncRun
from .tasks import enqueue_sync

PAGE_SIZE = 50
CURSOR_SEPARATOR = "_"


def parse_cursor(value: str) -> tuple[datetime, int] | None:
    """A keyset cursor "<created ISO>_<id>": the last row of the previous page."""
    created, _, pk = value.rpartition(CURSOR_SEPARATOR)
    try:
        when = datetime.fromisoformat(created)
    except ValueError:
        return None
    if not pk.isdigit() or when.tzinfo is None:
        return None
    return when, int(pk)


def make_cursor(job: Job) -> str:
    return f"{job.created.isoformat()}{CURSOR_SEPARATOR}{job.pk}"


def job_list(request):
    jobs = Job.objects.visible_to(request.user)
    filters = JobFilter(request.GET or None, queryset=jobs, request=request)
    rows = filters.qs.select_related("credential__owner").order_by("-created", "-id")
    cursor_value = request.GET.get("cursor", "")
    cursor = parse_cursor(cursor_value) if cursor_value else None
    if cursor_value and cursor is None:
        messages.error(request, "That page link is broken: showing the newest jobs instead.")
    if cursor:
        created, pk = cursor
        rows = rows.filter(created__lte=created).exclude(created=created, pk__gte=pk)
    page = list(rows[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    context = {
        "filters": filters,
        "jobs": page,
        "next_cursor": make_cursor(page[-1]) if more else "",
        "has_keys": Credential.objects.owned_by(request.user).exists(),
    }
    template = "history/list.html#rows" if request.htmx else "history/list.html"
    return render(request, template, context)


def job_detail(request, code):
    job = get_object_or_404(Job.objects.visible_to(request.user).select_related("credential__owner"), code=code)
    return render(request, "history/detail.html", {"job": job})


def _export(request, stream, content_type: str, extension: str):
    filters = JobFilter(request.GET or None, queryset=Job.objects.visible_to(request.user), request=request)
    if filters.is_bound and not filters.is_valid():
        return HttpResponseBadRequest(f"Bad filter: {filters.error_text}", content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(stream(filters.qs), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="genboard-history-{stamp}.{extension}"'
    return response


def export_json(request):
    return _export(request, export.json_stream, "application/json", "json")


def export_csv(request):
    return _export(request, export.csv_stream, "text/csv; charset=utf-8", "csv")


def import_tasks(request):
    form = ImportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        credential, ids = form.cleaned_data["credential"], form.cleaned_data["task_ids"]
        known = set(
            Job.objects.filter(credential=credential, external_id__in=ids).values_list("external_id", flat=True)
        )
        now = timezone.now()
        fresh = [
            Job(
                credential=credential,
                provider=credential.provider,
                kind=Job.Kind.MUSIC,
                external_id=task_id,
                status=Job.Status.PENDING,
                created=now,
                imported=now,
                seen=now,
                next_poll=now,
            )
            for task_id in ids
            if task_id not in known
        ]
        Job.objects.bulk_create(fresh, ignore_conflicts=True)
        if fresh:
            enqueue_sync(credential, SyncRun.Trigger.IMPORT)
            messages.success(
                request, f"Importing {len(fresh):,} task{'s' if len(fresh) != 1 else ''}: details arrive in a moment."
            )
        if known:
            messages.info(request, f"{len(known):,} already in your history: left as they are.")
        if form.repeated:
            messages.info(request, f"{form.repeated:,} repeated id{'s' if form.repeated != 1 else ''} counted once.")
        if form.malformed:
            shown = ", ".join(form.malformed[:10]) + (" …" if len(form.malformed) > 10 else "")
            messages.warning(request, f"Skipped {len(form.malformed):,} malformed id(s): {shown}")
        return redirect(f"/history/?credential={credential.code}")
    return render(request, "history/import.html", {"form": form}, status=400 if form.is_bound else 200)


@require_POST
def sync_now(request, code):
    credential = get_object_or_404(Credential.objects.owned_by(request.user), code=code)
    if not credential.usable:
        messages.error(request, "This key is not used until you enter it again.")
        return redirect(credential)
    run = enqueue_sync(credential, SyncRun.Trigger.MANUAL)
    if request.htmx:
        return render(request, "history/sync_progress.html", {"run": run})
    return redirect(credential)


def sync_progress(request, code):
    """The progress of one sync; the fragment keeps polling itself while the run is active."""
    run = get_object_or_404(SyncRun.objects.select_related("credential"), code=code, credential__owner=request.user)
    return render(request, "history/sync_progress.html", {"run": run})
