"""A viewer's marks (star, tags, note) on a page of jobs, read in two queries whatever the
page's size, and each row's digest of them for the row cache (history/row_cache.py)."""

import hashlib
from dataclasses import dataclass, field

from django.db import connection

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


STARS_AND_NOTES = (
    "SELECT job_id, '', 1 FROM {star} WHERE user_id = %s AND job_id IN ({page})"
    " UNION ALL SELECT job_id, text, 0 FROM {note} WHERE user_id = %s AND job_id IN ({page})"
)
# access.seen_links(): the person's own tags, and their teams' on jobs whose key the team sees.
TAGS = (
    "SELECT link.job_id, tag.code, tag.name, team.name FROM {jobtag} link"
    " JOIN {tag} tag ON tag.id = link.tag_id"
    " LEFT JOIN {team} team ON team.id = tag.team_id"
    " JOIN {job} job ON job.id = link.job_id"
    " WHERE link.job_id IN ({page}) AND (tag.owner_id = %s OR ("
    "   tag.team_id IN (SELECT team_id FROM {member} WHERE user_id = %s)"
    "   AND EXISTS (SELECT 1 FROM {share} share"
    "     WHERE share.team_id = tag.team_id AND share.credential_id = job.credential_id)))"
    " ORDER BY tag.name, tag.id"
)


def sql(template: str, **slots: str) -> str:
    """A statement over these models' tables (their names from Django's metadata), its other
    slots filled (placeholders(), columns): every value is a parameter. annotations.access
    writes its statements with it too."""
    tables = {
        model.__name__.lower(): connection.ops.quote_name(model._meta.db_table)
        for model in (Star, Note, Tag, JobTag, Job, Team, Member, Share)
    }
    return template.format(**tables, **slots)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def for_jobs(user, job_ids: list[int], *, tags: bool = True) -> dict[int, Marks]:
    """Each job's marks for this person (jobs without any are left out): one query for the
    stars and notes together, one for the tags (annotations.access.seen_links' rule), unless
    `tags` is False (the job page reads its tags with their teams: access.tags_for_page).

    In SQL rather than the ORM: every page of rows asks this, and building the same two
    querysets (a union, an Exists over shares) cost about 5 ms of CPU a page against 0.5 ms
    for the statements themselves (bench/pages_bench.py). tests/test_annotations.py holds
    them to seen_links(): the same links, for owners, members, viewers and outsiders."""
    found: dict[int, Marks] = {}
    if not job_ids or not user.is_authenticated:
        return found
    with connection.cursor() as cursor:
        cursor.execute(sql(STARS_AND_NOTES, page=placeholders(len(job_ids))), [user.pk, *job_ids, user.pk, *job_ids])
        for job_id, text, starred in cursor.fetchall():
            marks = found.setdefault(job_id, Marks())
            if starred:
                marks.starred = True
            else:
                marks.note = text
        if not tags:
            return found
        cursor.execute(sql(TAGS, page=placeholders(len(job_ids))), [*job_ids, user.pk, user.pk])
        for job_id, code, name, team in cursor.fetchall():
            found.setdefault(job_id, Marks()).tags.append((str(TAG_CODE.to_python(code)), name, team or ""))
    return found
