"""A job's public page and its files (no log-in, any visitor with the link), and the owner's
create and revoke (who may: teams.access.can_act, the key's owner only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from archive import views as archive_views
from archive.models import ArchivedFile
from core.pages import render_page
from history.models import Job
from history.presentation import lyrics
from teams import access, audit

from . import limits
from .display import public_media
from .models import PublicLink

# Recorded on the pages of the teams that see the job (teams.audit), read as written there.
VERB_CREATE = "made a public link to"
VERB_REVOKE = "revoked the public link to"
TOO_MANY = "Too many wrong links from this address: try again in a few minutes."


def _link(request, token: str) -> PublicLink:
    """The link for `token`: 404 for an unknown or revoked one (counted against the client)."""
    link = PublicLink.objects.by_token(token).first()
    if link is None:
        limits.missed(request)
        raise Http404("No such link.")
    return link


def _too_many() -> HttpResponse:
    return HttpResponse(TOO_MANY, status=429, content_type="text/plain; charset=utf-8")


def _noindex(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_not_required
@never_cache
@require_safe
def page(request, token):
    """The job's title, status, outputs and lyrics: never its key, owner, prompt, raw record,
    lineage or any other job."""
    if limits.blocked(request):
        return _too_many()
    link = _link(request, token)
    link.job = Job.objects.get(pk=link.job_id)
    context = {"job": link.job, "m": public_media(link), "lines": lyrics(link.job)}
    title = link.job.title or "Untitled job"
    return _noindex(
        render_page(request, "public_links/page.html", context, title=title, frame_template="public_links/frame.html")
    )


@login_not_required
@require_safe
def file(request, token, code):
    """An archived output of the link's job, and of no other job."""
    if limits.blocked(request):
        return _too_many()
    link = _link(request, token)
    found = ArchivedFile.objects.select_related("job").filter(
        code=code, job_id=link.job_id, role=ArchivedFile.Role.OUTPUT, state=ArchivedFile.State.DONE
    )
    archived = found.first()
    if archived is None:
        raise Http404("No such file.")
    return _noindex(archive_views.serve(request, archived))


def card_context(request, job: Job) -> dict | None:
    """The "Public link" card on a job's page (templates/jinja2/public_links/card.html): for
    the key's owner only (None for anyone else), with the link if there is one (read with the
    job when it was selected with it, select_related("public_link"), else one query)."""
    if job.credential.owner_id != request.user.pk:
        return None
    try:
        link = job.public_link
    except PublicLink.DoesNotExist:
        link = None
    return {"link": link, "url": request.build_absolute_uri(link.path) if link else ""}


def _own_job(request, code) -> Job:
    """404 for anyone who cannot see the job, 403 for those who see it but do not own its key."""
    job = get_object_or_404(Job.objects.visible_to(request.user).select_related("credential"), code=code)
    if not access.can_act(request.user, job):
        raise PermissionDenied
    return job


@require_POST
def create(request, code):
    job = _own_job(request, code)
    _, made = PublicLink.objects.get_or_create(job=job, defaults={"created_by": request.user})
    if made:
        audit.record_for_job(request.user, VERB_CREATE, job)
        messages.success(request, "Public link made: anyone who has it can see this job's page, without logging in.")
    return redirect(job.get_absolute_url() + "#public-link")


@require_POST
def revoke(request, code):
    job = _own_job(request, code)
    deleted, _ = PublicLink.objects.filter(job=job).delete()
    if deleted:
        audit.record_for_job(request.user, VERB_REVOKE, job)
        messages.success(request, "Public link revoked: it no longer opens anything.")
    return redirect(job.get_absolute_url() + "#public-link")
