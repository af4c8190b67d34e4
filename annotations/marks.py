"""A viewer's marks (star, tags, note) on a page of jobs, read in one query whatever the
page's size, and each row's digest of them for the row cache (history/row_cache.py)."""

import hashlib
from dataclasses import dataclass, field

from django.db import connection

from core.sql import placeholders
from history.models import Job
from teams.models import Member, Share, Team

from .models import JobTag, Note, Star, Tag

# Turns a tag's code as the database driver gives it (text on SQLite) into a UUID.
TAG_CODE = Tag._meta.get_field("code")


@dataclass
class Marks:
    """What one viewer marked on one job."""

    starred: bool = False
    # (code, name, team name or "") in name order.
    tags: list[tuple[str, str, str]] = field(default_factory=list)
    note: str = ""

    @property
    def digest(self) -> str:
        """Changes whenever what the row shows of these marks does: part of its cache key."""
        if not (self.starred or self.tags or self.note):
            return "-"
        shown = repr((self.starred, self.tags, self.note)).encode()
        return hashlib.blake2b(shown, digest_size=8).hexdigest()


NONE = Marks()


# Each row: the job, what mark (STAR, NOTE or TAG), the note's text or the tag's code, the
# tag's name, its team's name (or ""), and the tag's id (the tags' order: by name, then id).
STAR, NOTE, TAG = 0, 1, 2
STARS_AND_NOTES = (
    "SELECT job_id, 0 AS mark, '' AS text, '' AS name, '' AS team, 0 AS tag FROM {star}"
    " WHERE user_id = %s AND job_id IN ({page})"
    " UNION ALL SELECT job_id, 1, text, '', '', 0 FROM {note} WHERE user_id = %s AND job_id IN ({page})"
)
# access.seen_links(): the person's own tags, and their teams' on jobs whose key the team sees.
TAGS = (
    " UNION ALL SELECT link.job_id, 2, CAST(tag.code AS TEXT), tag.name, COALESCE(team.name, ''), tag.id"
    " FROM {jobtag} link"
    " JOIN {tag} tag ON tag.id = link.tag_id"
    " LEFT JOIN {team} team ON team.id = tag.team_id"
    " JOIN {job} job ON job.id = link.job_id"
    " WHERE link.job_id IN ({page}) AND (tag.owner_id = %s OR ("
    "   tag.team_id IN (SELECT team_id FROM {member} WHERE user_id = %s)"
    "   AND EXISTS (SELECT 1 FROM {share} share"
    "     WHERE share.team_id = tag.team_id AND share.credential_id = job.credential_id)))"
)
ORDER = " ORDER BY 2, 4, 6"


def sql(template: str, **slots: str) -> str:
    """A statement over these models' tables (their names from Django's metadata), its other
    slots filled (core.sql.placeholders(), columns): every value is a parameter. annotations.access
    writes its statements with it too."""
    tables = {
        model.__name__.lower(): connection.ops.quote_name(model._meta.db_table)
        for model in (Star, Note, Tag, JobTag, Job, Team, Member, Share)
    }
    return template.format(**tables, **slots)


def for_jobs(user, job_ids: list[int], *, tags: bool = True) -> dict[int, Marks]:
    """Each job's marks for this person (jobs without any are left out), in one query: the
    stars, the notes and the tags (annotations.access.seen_links' rule), unless `tags` is
    False (the job page reads its tags with their teams: access.tags_for_page).

    In SQL rather than the ORM: every page of rows asks this, and building the same two
    querysets (a union, an Exists over shares) cost about 5 ms of CPU a page against 0.5 ms
    for the statements themselves (bench/pages_bench.py). tests/test_annotations.py holds
    them to seen_links(): the same links, for owners, members, viewers and outsiders."""
    found: dict[int, Marks] = {}
    if not job_ids or not user.is_authenticated:
        return found
    params = [user.pk, *job_ids, user.pk, *job_ids]
    if tags:
        params += [*job_ids, user.pk, user.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql(STARS_AND_NOTES + (TAGS if tags else "") + ORDER, page=placeholders(len(job_ids))), params)
        rows = cursor.fetchall()
    for job_id, mark, text, name, team, _ in rows:
        marks = found.setdefault(job_id, Marks())
        if mark == STAR:
            marks.starred = True
        elif mark == NOTE:
            marks.note = text
        else:
            marks.tags.append((str(TAG_CODE.to_python(text)), name, team))
    return found
