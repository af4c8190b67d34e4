"""Who sees and puts which marks: the one place these rules live.

- Stars and notes are personal: read and written by their person only, on jobs they can see
  (Job.objects.visible_to); nobody else ever sees them, team owners included.
- Personal tags: the same, a person's own.
- Team tags belong to a team. Its members see them on the jobs they see through that team
  (a key shared with it), and put them on or take them off those jobs when their role is
  member or stronger (teams.access.RANK ≥ member: the same line as sharing a key and
  "Refresh now"); viewers see team tags but cannot add or remove them (403).
"""

import functools
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.db.models import Exists, OuterRef, Q, QuerySet

from core import sql as core_sql
from core.sql import placeholders
from history.models import Job
from teams.access import RANK
from teams.models import Member, Share, Team

from . import marks
from .models import Tag

# The weakest role that may put a team's tags on jobs and take them off, and every role that may.
TAGGING_ROLE = Member.Role.MEMBER
TAGGING_ROLES = [role for role, rank in RANK.items() if rank >= RANK[TAGGING_ROLE]]


def my_team_ids(user) -> QuerySet:
    """The teams the person is in, as a subquery."""
    return Member.objects.filter(user=user).values("team_id")


def visible_tags(user) -> QuerySet:
    """Tags the person may filter by and see: their own, and their teams'."""
    return Tag.objects.filter(Q(owner=user) | Q(team_id__in=my_team_ids(user)))


def visible_tag(user, code) -> Tag | None:
    """The tag with this code if the person sees it (visible_tags()), else None (a code that is
    not one included): by a statement compiled once (core.sql.compiled), as the history's tag
    filter asks it on every page it filters."""
    field = Tag._meta.get_field("code")
    try:
        code = field.to_python(code)
    except ValidationError:
        return None
    if not user.is_authenticated or code is None:
        return None
    alias = Tag.objects.db
    sql, params, person, tag = _visible_tag_statement(alias)
    params = core_sql.filled(params, person, user.pk)
    params = core_sql.filled(params, tag, field.get_db_prep_value(code, connections[alias]))
    return next(iter(Tag.objects.raw(sql, params)), None)


# Stands for the tag's code in visible_tag()'s statement.
SOME_CODE = uuid.UUID(int=0)


@functools.cache
def _visible_tag_statement(alias: str) -> tuple[str, tuple, frozenset[int], frozenset[int]]:
    sql, params, person = core_sql.compiled(visible_tags(core_sql.someone()).using(alias).filter(code=SOME_CODE))
    some_code = Tag._meta.get_field("code").get_db_prep_value(SOME_CODE, connections[alias])
    return sql, params, person, core_sql.slots(params, some_code)


def taggable_teams(user) -> QuerySet:
    """The teams whose tags the person may put on jobs and make: those where their role is
    member or stronger."""
    return Team.objects.filter(members__user=user, members__role__in=TAGGING_ROLES)


def may_tag_for(user, team: Team) -> bool:
    """Whether the person may change `team`'s tags: a member of it with a role of member or
    stronger (viewers see team tags but do not change them)."""
    return taggable_teams(user).filter(pk=team.pk).exists()


def seen_links(user) -> Q:
    """The tag links (JobTag rows) the person sees: their own tags', and their teams' on
    jobs whose key is shared with that team."""
    through_team = Exists(
        Share.objects.filter(team_id=OuterRef("tag__team_id"), credential_id=OuterRef("job__credential_id"))
    )
    return Q(tag__owner=user) | Q(through_team, tag__team_id__in=my_team_ids(user))


def teams_seeing(user, job: Job) -> QuerySet:
    """The person's teams through which they see `job` (its key is shared with them)."""
    return Team.objects.filter(shares__credential_id=job.credential_id, members__user=user).distinct()


# The person's teams that a key is shared with, each with the person's role (roles_seeing).
ROLES = (
    "SELECT {team_columns}, member.role FROM {member} member JOIN {team} team ON team.id = member.team_id"
    " WHERE member.user_id = %s AND EXISTS ("
    "   SELECT 1 FROM {share} share WHERE share.team_id = member.team_id AND share.credential_id = %s)"
    " ORDER BY team.name, team.id"
)
# The person's own tags, each saying whether it is on the job (tags_for_page adds those of
# some teams, and those of other teams on the job only).
PAGE_TAGS = (
    "SELECT tag.id, tag.code, tag.name, tag.owner_id, tag.team_id,"
    " EXISTS (SELECT 1 FROM {jobtag} link WHERE link.tag_id = tag.id AND link.job_id = %s) AS on_job"
    " FROM {tag} tag WHERE tag.owner_id = %s"
)
TEAMS_TAGS = " OR tag.team_id IN ({taggable})"
TEAMS_TAGS_ON_JOB = " OR (tag.team_id IN ({viewing}) AND tag.id IN (SELECT tag_id FROM {jobtag} WHERE job_id = %s))"


def roles_seeing(user, job: Job) -> dict[Team, str]:
    """The person's teams through which they see `job`, by name, each with their role in it:
    one query for what the job page shows of both (its teams, and whose tags one may put).

    In SQL rather than the ORM, as annotations.marks reads a page's marks: every job page asks
    this, and building the queryset cost 0.8 ms of CPU against 0.25 ms for the statement
    (bench/page_cpu.py). tests/test_annotations.py holds it to the ORM's lookups."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"team.{quote(field.column)}" for field in Team._meta.concrete_fields)
    found = Team.objects.raw(marks.sql(ROLES, team_columns=columns), [user.pk, job.credential_id])
    return {team: team.role for team in found}


def tagging_teams(user, job: Job, seeing: dict[Team, str] | None = None) -> list[Team]:
    """The teams whose tags the person may put on `job`: those they see it through, with a
    role of member or stronger (`seeing`: roles_seeing(), when the caller read it already)."""
    seeing = roles_seeing(user, job) if seeing is None else seeing
    return [team for team, role in seeing.items() if role in TAGGING_ROLES]


def tags_on(user, job: Job) -> QuerySet:
    """The tags the person sees on `job`: their own, and those of the teams they see it through."""
    return Tag.objects.filter(links__job=job).filter(Q(owner=user) | Q(team__in=teams_seeing(user, job).values("pk")))


def tags_for_page(user, job: Job, seeing: dict[Team, str]) -> list[Tag]:
    """What the job page's marks panel reads of tags, in one query, in name order: the tags the
    person sees on `job` (tags_on(), each with `on_job` True) and those they may put on it (their
    own and those of their tagging_teams(): the form's suggestions). `seeing`: roles_seeing();
    each team tag is given its team from it.

    In SQL rather than the ORM, like roles_seeing(): the queryset (an Exists, an OR of the
    person's and the teams' tags) cost 1 ms of CPU to build and run, the statement 0.3 ms.
    tests/test_annotations.py holds it to tags_on() and forms.suggestions()."""
    teams = {team.pk: team for team in seeing}
    taggable = [team.pk for team in tagging_teams(user, job, seeing)]
    viewing = [pk for pk in teams if pk not in taggable]  # only their tags on the job
    template, params = PAGE_TAGS, [job.pk, user.pk]
    if taggable:
        template += TEAMS_TAGS
        params += taggable
    if viewing:
        template += TEAMS_TAGS_ON_JOB
        params += [*viewing, job.pk]
    template += " ORDER BY tag.name, tag.id"
    sql = marks.sql(template, taggable=placeholders(len(taggable)), viewing=placeholders(len(viewing)))
    tags = list(Tag.objects.raw(sql, params))
    for tag in tags:
        if tag.team_id is not None:
            tag.team = teams[tag.team_id]
    return tags


def check_team_tagging(user, job: Job, team: Team) -> None:
    """Raises PermissionDenied unless the person may put `team`'s tags on `job` or take
    them off (the caller has made sure they see the job through that team)."""
    if team not in tagging_teams(user, job):
        raise PermissionDenied
