"""A viewer's marks (star, tags, note) on a page of jobs, read in two queries whatever the
page's size, and each row's digest of them for the row cache (history/row_cache.py)."""

import hashlib
from dataclasses import dataclass, field

from django.db.models import Value

from .access import seen_links
from .models import JobTag, Note, Star


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


def for_jobs(user, job_ids: list[int]) -> dict[int, Marks]:
    """Each job's marks for this person (jobs without any are left out): one query for the
    stars and notes together, one for the tags."""
    found: dict[int, Marks] = {}
    if not job_ids or not user.is_authenticated:
        return found
    stars = Star.objects.filter(user=user, job_id__in=job_ids).values_list("job_id", Value(""), Value(True))
    notes = Note.objects.filter(user=user, job_id__in=job_ids).values_list("job_id", "text", Value(False))
    for job_id, text, starred in stars.union(notes, all=True):
        marks = found.setdefault(job_id, Marks())
        if starred:
            marks.starred = True
        else:
            marks.note = text
    links = (
        JobTag.objects.filter(job_id__in=job_ids)
        .filter(seen_links(user))
        .order_by("tag__name", "tag_id")
        .values_list("job_id", "tag__code", "tag__name", "tag__team__name")
    )
    for job_id, code, name, team in links:
        found.setdefault(job_id, Marks()).tags.append((str(code), name, team or ""))
    return found
