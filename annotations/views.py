"""Starring, tagging and noting one job: from its row in the list (the star) and its page
(all three). Each works without JavaScript (a POST, then back where the person was) and
with htmx (the star button, or the job page's marks panel, swapped in place).

Anyone who cannot see the job gets 404; a team viewer changing a team's tags gets 403."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.redirects import posted_next
from history.models import Job
from teams import naming as team_naming

from . import access, bulk
from .forms import NoteForm, TagForm, suggestions
from .marks import NONE, for_jobs
from .models import NAME_MAX, Note


def _job(request, code) -> Job:
    return get_object_or_404(Job.objects.visible_to(request.user).select_related("credential"), code=code)


def _next(request, job: Job) -> str:
    return posted_next(request) or job.get_absolute_url()


def panel_context(
    request, job: Job, tag_form: TagForm | None = None, note_form: NoteForm | None = None, seeing=None
) -> dict:
    """What the job page's marks panel shows this person (templates/jinja2/annotations/panel.html).
    `seeing`: access.roles_seeing(), when the caller read it already."""
    user = request.user
    marks = for_jobs(user, [job.pk], tags=False).get(job.pk, NONE)  # the tags: tags_for_page() below
    seeing = access.roles_seeing(user, job) if seeing is None else seeing
    teams = access.tagging_teams(user, job, seeing)
    taggable = {team.pk for team in teams}
    tags = access.tags_for_page(user, job, seeing)  # those on the job and the suggestions' at once
    shown = [tag for tag in tags if tag.on_job]
    names = sorted(suggestions(user, teams, tags), key=str.casefold)
    return {
        "job": job,
        "marks": marks,
        "tags": [{"tag": t, "removable": t.owner_id == user.pk or t.team_id in taggable} for t in shown],
        "tag_names": names,
        # A team tag's suggestion may be longer than a name: the field takes it whole.
        "tag_name_max": max([NAME_MAX, *map(len, names)]),
        "tag_teams": team_naming.choices(teams),
        "tag_form": tag_form or TagForm(),
        "note_form": note_form or NoteForm(initial={"text": marks.note}),
    }


def _panel(request, job: Job, status: int = 200, **context):
    return render(
        request, "annotations/panel.html", panel_context(request, job, **context), status=status, using="jinja2"
    )


@require_POST
def star(request, code):
    """Star (on=1) or unstar (on=0): a state, not a toggle, so a repeated POST changes nothing."""
    job = _job(request, code)
    on = request.POST.get("on", "1") == "1"
    bulk.star(request.user, Job.objects.filter(pk=job.pk), on=on)
    if request.htmx:
        return render(request, "annotations/star.html", {"job": job, "starred": on, "title": str(job)}, using="jinja2")
    return redirect(_next(request, job))


@require_POST
def tag_add(request, code):
    """Put a tag on the job by name: the person's own, or (`team`) one of the teams they
    see the job through, made if the name is new there; or the team tag whose suggestion
    ("name · team") the name is (TagForm.chosen)."""
    job = _job(request, code)
    seeing = access.roles_seeing(request.user, job)
    form = TagForm(request.POST, suggestions=suggestions(request.user, access.tagging_teams(request.user, job, seeing)))
    if form.is_valid():
        slug = form.cleaned_data["team"]
        if slug:
            team = access.teams_seeing(request.user, job).filter(slug=slug).first()
            if team is None:
                raise Http404("You do not see this job through that team.")
            access.check_team_tagging(request.user, job, team)
            owner_or_team = {"team": team}
        else:
            owner_or_team = {"owner": request.user}
        tag = form.chosen(owner_or_team)
        bulk.tag(request.user, tag, Job.objects.filter(pk=job.pk))
        if not request.htmx:
            messages.success(request, f"Tagged “{tag.name}”" + (f" of {tag.team.name}." if tag.team_id else "."))
    elif not request.htmx:
        messages.error(request, " ".join(form.errors["name"]))
    if request.htmx:
        return _panel(request, job, seeing=seeing, tag_form=None if form.is_valid() else form)
    return redirect(_next(request, job))


@require_POST
def tag_remove(request, code, tag):
    """Take a tag off the job: one the person sees on it (404 otherwise); a team's only
    with a role that may (403 for viewers)."""
    job = _job(request, code)
    found = get_object_or_404(access.tags_on(request.user, job), code=tag)
    if found.team_id is not None:
        access.check_team_tagging(request.user, job, found.team)
    bulk.tag(request.user, found, Job.objects.filter(pk=job.pk), on=False)
    if request.htmx:
        return _panel(request, job)
    messages.success(request, f"Took “{found.name}” off.")
    return redirect(_next(request, job))


@require_POST
def note(request, code):
    """Save the person's note on the job; an empty one clears it."""
    job = _job(request, code)
    form = NoteForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["text"]
        if text:
            Note.objects.update_or_create(
                user=request.user, job=job, defaults={"text": text, "updated": timezone.now()}
            )
        else:
            Note.objects.filter(user=request.user, job=job).delete()
        if not request.htmx:
            messages.success(request, "Note saved." if text else "Note cleared.")
    elif not request.htmx:
        messages.error(request, " ".join(form.errors["text"]))
    if request.htmx:
        return _panel(request, job, note_form=None if form.is_valid() else form)
    return redirect(_next(request, job))
