"""Acting on many jobs at once: the history's selection (static/js/selection.js) posted to
/history/bulk/ with an `action`.

A bulk request names its jobs in one of two ways:
- `job`: job codes, from the rows' checkboxes. Without script each box is its own `job`
  field; the script sends the selection joined by commas in one field (Django refuses a
  request with more than 1,000 fields, and a shift-click can pick more rows than that);
- `all=1` with the history's filters ("Select all N matching"): every visible job matching
  them, loaded in the page or not. The browser never sends 100,000 ids.
Either way only jobs the person can see count (an unknown or invisible code is ignored, as
if not sent), at most BULK_MAX of them: the first in the list's order (its `sort`, newest
first by default) when more match.

Each action is asked twice. First without `confirm`: the answer says what will happen, with
the counts ("Remove 37 jobs of yours; 5 are a teammate's and stay") and one button to go on
(a dialog over the list with htmx, a page without). Then with `confirm=1`: it happens, and a
message (or the download itself) says what did.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from annotations import bulk as annotations_bulk
from annotations.access import TAGGING_ROLES, may_tag_for, taggable_teams
from annotations.forms import TEAM_MARK, TagForm, suggestions
from annotations.models import NAME_MAX, JobTag, Star, Tag
from archive.models import ArchivedFile
from archive.views import zip_response
from teams import naming as team_naming
from teams.models import Member, Team

from . import export_jobs, removal, sorting
from .filters import JobFilter
from .models import Export, Job
from .sorting import list_url

# The most jobs one bulk action takes (the first in the list's order, when more match). Removing or starring
# 10,000 jobs takes well under the 2 s a request may hold (bench/bulk_bench.py); a bulk
# export of everything matching is not capped: large exports run in a worker.
BULK_MAX = 10_000


class BadSelection(Exception):
    """A bulk request that names its jobs wrongly (a malformed code, a bad filter): 400."""


def job_codes(values: list[str]) -> list[uuid.UUID]:
    """The job codes of a request's `job` fields, each holding one or several joined by
    commas. Raises BadSelection for anything that is not a code, or for more than BULK_MAX."""
    codes = []
    for value in values:
        for part in value.split(","):
            if part.strip():
                try:
                    codes.append(uuid.UUID(part.strip()))
                except ValueError:
                    raise BadSelection("Bad job id.") from None
    if len(codes) > BULK_MAX:
        raise BadSelection(f"At most {BULK_MAX:,} jobs at once: choose “Select all matching” for more.")
    return codes


@dataclass
class Selection:
    """The visible jobs a bulk request named, capped, and what names them again."""

    pks: list[int]  # at most BULK_MAX, in the list's order
    order: sorting.Sort  # the list's order (its `sort`), which the cap follows
    matching: int  # how many matched before the cap
    everything: bool  # `all=1`: every job matching the filters
    filters: JobFilter  # the history's filters the request carried (the list to go back to)
    codes: list[str] = field(default_factory=list)  # for `job`: the visible ones, as strings

    @property
    def jobs(self) -> QuerySet:
        return Job.objects.filter(pk__in=self.pks)

    @property
    def capped(self) -> bool:
        return self.matching > len(self.pks)

    @property
    def fields(self) -> list[tuple[str, str]]:
        """The form fields that name this selection again (the confirmation's form)."""
        named = [("all", "1")] if self.everything else [("job", ",".join(self.codes))]
        return named + list(self.filters.valid_data().items())

    @property
    def back(self) -> str:
        """The list as the person left it: its filters."""
        return list_url(self.filters.valid_data())


def resolve(request, data) -> Selection:
    """THE rule for what a bulk request acts on (see the module's docstring). Raises
    BadSelection when the request names its jobs wrongly."""
    visible = Job.objects.visible_to(request.user)
    filters = JobFilter(data, queryset=visible, request=request)
    everything = data.get("all") == "1"
    if everything:
        if not filters.is_valid():
            raise BadSelection(f"Bad filter: {filters.error_text}")
        matched = filters.qs
    else:
        matched = visible.filter(code__in=job_codes(data.getlist("job")))
    # Capped as the person sees the list: sorted by credits, the first 10,000 are the dearest.
    order = filters.order
    with filters.planned():
        first = list(matched.order_by(*order.ordering()).values_list("pk", "code")[: BULK_MAX + 1])
        matching = len(first)
        if matching > BULK_MAX:
            first = first[:BULK_MAX]
            matching = matched.count()
    pks = [pk for pk, _ in first]
    codes = [] if everything else [str(code) for _, code in first]
    return Selection(pks=pks, order=order, matching=matching, everything=everything, filters=filters, codes=codes)


def jobs_text(n: int) -> str:
    return f"{n:,} job{'' if n == 1 else 's'}"


# --- the actions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One thing the bulk bar does. `plan` says what will happen (sentences, and whether
    there is anything to do); `run` does it and answers."""

    button: str  # the confirmation's button
    plan: Callable[[object, Selection], tuple[list[str], bool]]
    run: Callable[[object, Selection], HttpResponse]
    download: bool = False  # answers with a file: the page stays where it is
    danger: bool = False


def _cap_note(selection: Selection) -> list[str]:
    if not selection.capped:
        return []
    return [
        f"{selection.matching:,} jobs match: one bulk action takes the first {BULK_MAX:,} "
        f"in the list's order ({selection.order.label.lower()}). "
        "Run it again for the rest, or narrow the filters."
    ]


def _export_plan(fmt: str):
    def plan(request, selection: Selection) -> tuple[list[str], bool]:
        # Everything matching is exported uncapped, as the history's own export does.
        n = selection.matching if selection.everything else len(selection.pks)
        lines = [f"Export {jobs_text(n)} as {fmt.upper()}, with the same fields as the history’s export."]
        if n > export_jobs.STREAM_LIMIT:
            lines.append("An export this large is written in the background: its page shows the progress.")
        return lines, n > 0

    return plan


def _export_run(fmt: str):
    def run(request, selection: Selection) -> HttpResponse:
        filter_query = urlencode(selection.filters.valid_data())
        if selection.everything:
            jobs, query = selection.filters.qs, filter_query
        else:
            jobs, query = selection.jobs, urlencode([("job", ",".join(selection.codes))])
        try:
            started = export_jobs.start(request, jobs, fmt, query)
        except export_jobs.Busy:
            messages.error(request, "Another export of yours is under way: one at a time. Try again when it is done.")
            return redirect(selection.back)
        if isinstance(started, Export):
            n = selection.matching if selection.everything else len(selection.pks)
            messages.success(request, f"Exporting {jobs_text(n)}: this page shows the progress.")
            return redirect(started)
        content_type = "application/json" if fmt == "json" else "text/csv; charset=utf-8"
        response = StreamingHttpResponse(started, content_type=content_type)
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="genboard-selection-{stamp}.{fmt}"'
        return response

    return run


def _zip_picked(selection: Selection) -> tuple[list[int], int]:
    """The jobs the zip takes (the archive's limit) and how many of them have files."""
    pks = selection.pks[: settings.ARCHIVE_ZIP_MAX_JOBS]
    with_files = (
        ArchivedFile.objects.filter(job_id__in=pks, state=ArchivedFile.State.DONE).values("job_id").distinct().count()
    )
    return pks, with_files


def _zip_plan(request, selection: Selection) -> tuple[list[str], bool]:
    pks, with_files = _zip_picked(selection)
    limit = settings.ARCHIVE_ZIP_MAX_JOBS
    lines = [*_cap_note(selection), f"Download the archived files of {jobs_text(len(pks))} as one zip, named by title."]
    if len(selection.pks) > limit:
        lines.append(f"A zip holds at most {limit:,} jobs: the first {limit:,} of the {len(selection.pks):,}.")
    if with_files < len(pks):
        missing = len(pks) - with_files
        lines.append(
            f"{missing:,} of them {'has' if missing == 1 else 'have'} no archived file yet"
            + (": there is nothing to zip." if with_files == 0 else " and stay out.")
        )
    return lines, with_files > 0


def _zip_run(request, selection: Selection) -> HttpResponse:
    pks, _ = _zip_picked(selection)
    limit = settings.ARCHIVE_ZIP_MAX_JOBS
    note = (
        f"{len(selection.pks):,} jobs were chosen: this zip holds the first {limit:,} in the list's order.\n"
        if len(selection.pks) > limit
        else ""
    )
    return zip_response(pks, note)


def _remove_counts(request, selection: Selection) -> tuple[int, int, int]:
    """How many of the chosen jobs are the person's (removable), and how many are
    teammates', from how many teammates."""
    theirs = ~Q(credential__owner=request.user)
    counts = selection.jobs.aggregate(
        mine=Count("pk", filter=~theirs), owners=Count("credential__owner", filter=theirs, distinct=True)
    )
    return counts["mine"], len(selection.pks) - counts["mine"], counts["owners"]


def remove_text(mine: int, theirs: int, owners: int) -> str:
    """What a bulk removal will do, in one sentence."""
    if not mine:
        whose = "a teammate’s" if owners == 1 else "teammates’"
        return f"None of these {jobs_text(theirs)} is yours: only a key’s owner removes its jobs ({whose} stay)."
    text = f"Remove {jobs_text(mine)} of yours"
    if theirs:
        whose = "a teammate’s" if owners == 1 else "teammates’"
        text += f"; {theirs:,} {'is' if theirs == 1 else 'are'} {whose} and stay"
    return text + "."


def _remove_plan(request, selection: Selection) -> tuple[list[str], bool]:
    mine, theirs, owners = _remove_counts(request, selection)
    lines = [*_cap_note(selection), remove_text(mine, theirs, owners)]
    if mine:
        lines.append(
            "They leave your Genboard history and the histories of the teams their keys are shared with, "
            "and later syncs do not bring them back. Nothing is deleted at the providers."
        )
    return lines, mine > 0


def _remove_run(request, selection: Selection) -> HttpResponse:
    removed = removal.remove_many(request.user, selection.jobs)
    stayed = len(selection.pks) - removed
    text = f"Removed {jobs_text(removed)} from Genboard; later syncs do not bring them back."
    if stayed:
        text += f" {stayed:,} of teammates’ {'stays' if stayed == 1 else 'stay'}."
    messages.success(request, text)
    return redirect(selection.back)


def _star_plan(on: bool):
    def plan(request, selection: Selection) -> tuple[list[str], bool]:
        starred = Star.objects.filter(user=request.user, job_id__in=selection.pks).count()
        changing = len(selection.pks) - starred if on else starred
        if on:
            lines = [f"Star {jobs_text(changing)}."]
            if starred:
                lines.append(
                    f"{starred:,} of the {len(selection.pks):,} {'is' if starred == 1 else 'are'} starred already."
                )
        else:
            lines = [f"Unstar {jobs_text(changing)}."]
            if len(selection.pks) > starred:
                lines.append(f"The other {len(selection.pks) - starred:,} are not starred.")
        lines.append("Stars are yours: nobody else sees them.")
        return [*_cap_note(selection), *lines], changing > 0

    return plan


def _star_run(on: bool):
    def run(request, selection: Selection) -> HttpResponse:
        changed = annotations_bulk.star(request.user, selection.jobs, on=on)
        messages.success(request, f"{'Starred' if on else 'Unstarred'} {jobs_text(changed)}.")
        return redirect(selection.back)

    return run


def tag_choices(members: list[Member]) -> dict:
    """What the bulk bar's tag field comes with: the teams where the person may tag
    (annotations.access), for a new team tag, and the field's length, which takes a team
    tag's suggestion ("name · team") whole. `members`: the person's memberships with their
    teams, by team name, as the page read them for its tabs too (saved_views.access.memberships).
    No query: the suggestions themselves come when the field is first focused (tag_names)."""
    teams = team_naming.choices([member.team for member in members if member.role in TAGGING_ROLES])
    longest_team = max((len(TEAM_MARK + label) for _, label in teams), default=0)
    return {"teams": teams, "max_length": NAME_MAX + longest_team}


@require_GET
def tag_names(request):
    """The bulk bar's tag suggestions, as the job page's: the person's own tags by name, and
    those of the teams where they may tag as "name · team", which names that team's tag
    whatever "Whose tag" says (annotations.forms.suggestions). Asked when the tag field is
    first focused: one query that a page whose bar is never used does not make."""
    teams = list(taggable_teams(request.user).order_by("name", "slug"))
    names = sorted(suggestions(request.user, teams), key=str.casefold)
    return render(request, "history/bulk_tag_names.html", {"names": names}, using="jinja2")


class TagRefused(PermissionDenied):
    """A tag action whose tag cannot be: a bad name, or a team the person may not tag for.
    The plan says why in the confirmation; past the plan (the team changed in between)
    it is a 403."""


@dataclass(frozen=True)
class ChosenTag:
    """The tag a tag action names: an existing tag (`tag`), or a new name, made only when
    the person confirms."""

    name: str
    whose: dict  # owner= the person, or team= the team: Tag.make's keyword
    tag: Tag | None

    @property
    def team(self) -> Team | None:
        return self.whose.get("team")

    @property
    def called(self) -> str:
        """How the confirmation and the message name it."""
        if self.tag is not None:
            # A team's tag says whose: picked from its suggestion, the select may say "Only me".
            return f"“{self.tag.name}”" + (f" of {self.team.name}" if self.team is not None else "")
        if self.team is None:
            return f"the new tag “{self.name}”"
        return f"the new team tag “{self.name}” of {self.team.name}"


# The bulk bar's tag fields: the job page's tag form (name and team slug) under a prefix,
# since `tag` is the history's tag filter, which the bar also carries.
TAG_PREFIX = "bulk_tag"


def _chosen_tag(request) -> ChosenTag:
    """The tag a tag action names by name and team, with the job page's rules (TagForm:
    1 to 40 characters, trimmed; the same name in any case is the same tag; a team tag's
    suggestion, "name · team", is that team's tag unless a tag of that text is where the
    select points). Raises TagRefused for a bad name, a team the person is not in, or one
    they only view."""
    offered = suggestions(request.user, list(taggable_teams(request.user)))
    form = TagForm(request.POST, prefix=TAG_PREFIX, suggestions=offered)
    if not form.is_valid():
        raise TagRefused(" ".join(form.errors["name"]))
    name, slug = form.cleaned_data["name"], form.cleaned_data["team"]
    team = None
    if slug:
        team = Team.objects.filter(slug=slug, members__user=request.user).first()
        if team is None:
            raise TagRefused("You are not in that team.")
        if not may_tag_for(request.user, team):
            raise TagRefused(f"Viewers of {team.name} cannot change its tags.")
    whose = {"team": team} if team else {"owner": request.user}
    tag = form.found(whose)
    if tag is not None and tag.team_id != (team.pk if team else None):
        # A team tag's suggestion: its team's (one the person may tag for, as suggested).
        whose = {"team": tag.team}
    return ChosenTag(name, whose, tag)


def _tag_plan(on: bool):
    def plan(request, selection: Selection) -> tuple[list[str], bool]:
        try:
            chosen = _chosen_tag(request)
        except TagRefused as e:
            return [str(e)], False
        if chosen.tag is None and not on:
            whose = "of yours" if chosen.team is None else f"of {chosen.team.name}"
            return [f"There is no tag “{chosen.name}” {whose} to take off."], False
        jobs = selection.jobs
        lines = []
        if chosen.team is not None:
            through = jobs.filter(credential__shares__team=chosen.team).distinct()
            outside = len(selection.pks) - through.count()
            if outside:
                lines.append(
                    f"{jobs_text(outside)} not shared with {chosen.team.name} "
                    + ("stays as it is." if outside == 1 else "stay as they are.")
                )
            jobs = through
        having = JobTag.objects.filter(tag=chosen.tag, job__in=jobs.values("pk")).count() if chosen.tag else 0
        reachable = jobs.count()
        changing = reachable - having if on else having
        n = jobs_text(changing)
        head = f"Tag {n} with {chosen.called}." if on else f"Take {chosen.called} off {n}."
        if on and having:
            lines.append(f"{having:,} {'has' if having == 1 else 'have'} it already.")
        return [*_cap_note(selection), head, *lines], changing > 0

    return plan


def _tag_run(on: bool):
    def run(request, selection: Selection) -> HttpResponse:
        chosen = _chosen_tag(request)
        with transaction.atomic():  # a new tag is made only with its jobs
            tag = chosen.tag or Tag.make(chosen.name, **chosen.whose)
            n = jobs_text(annotations_bulk.tag(request.user, tag, selection.jobs, on=on))
        text = f"Tagged {n} with {chosen.called}." if on else f"Took {chosen.called} off {n}."
        messages.success(request, text)
        return redirect(selection.back)

    return run


ACTIONS: dict[str, Action] = {
    "star": Action("Star", _star_plan(True), _star_run(True)),
    "unstar": Action("Unstar", _star_plan(False), _star_run(False)),
    "tag": Action("Add the tag", _tag_plan(True), _tag_run(True)),
    "untag": Action("Remove the tag", _tag_plan(False), _tag_run(False)),
    "export_csv": Action("Export CSV", _export_plan("csv"), _export_run("csv"), download=True),
    "export_json": Action("Export JSON", _export_plan("json"), _export_run("json"), download=True),
    "zip": Action("Download the zip", _zip_plan, _zip_run, download=True),
    "remove": Action("Remove from Genboard", _remove_plan, _remove_run, danger=True),
}


# --- the view -------------------------------------------------------------------------------


@never_cache
@require_POST
def bulk(request):
    """POST only (with its CSRF token), whether it asks or does: the selection is a form's."""
    action = ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return HttpResponseBadRequest("Choose an action.", content_type="text/plain; charset=utf-8")
    try:
        selection = resolve(request, request.POST)
    except BadSelection as e:
        if request.htmx:
            # Said in the dialog: htmx swaps no 4xx answer, which would leave the click unanswered.
            return render(request, "history/bulk.html#refused", {"message": str(e)})
        return HttpResponseBadRequest(str(e), content_type="text/plain; charset=utf-8")
    lines, possible = action.plan(request, selection) if selection.pks else (["No jobs are selected."], False)
    if request.POST.get("confirm") == "1" and possible:
        return action.run(request, selection)
    context = {
        "action": action,
        "name": request.POST["action"],
        "lines": lines,
        "possible": possible,
        "selection": selection,
        # The tag a tag action names, as posted: the confirmation checks it again.
        "tag_fields": [
            (f"{TAG_PREFIX}-{name}", request.POST.get(f"{TAG_PREFIX}-{name}", "")) for name in ("name", "team")
        ]
        if request.POST["action"] in ("tag", "untag")
        else [],
    }
    return render(request, "history/bulk.html#dialog" if request.htmx else "history/bulk.html", context)
