"""A job's lineage: the job it continues and the jobs that continue it.

Suno's extend (and cover) tasks name the track they start from, `parentMusicId`, which is a
track's id (audioId), not a task id. Genboard keeps each track's id in its output (`ref`)
and in the searchable text of its job, so the parent is found through the history search's
trigram index, and the children through the partial index on `parent_ref`. AudioPod's
score-first jobs name the job they revise or record (`source_job_id`): that parent_ref is an
external id. Only jobs the viewer may see are looked at.
"""

from dataclasses import dataclass, field

from django.db import connection

from core.sql import placeholders

from . import search
from .models import Job

# A job is seldom extended more than a few times; the page lists this many at most.
MAX_CHILDREN = 20
# What the page shows of a job in the lineage (templates/jinja2/history/lineage.html) and what
# finds it (_track reads a parent's outputs): its raw record and searchable text stay unread.
LINKED = ("code", "title", "external_id", "details", "parent_ref")
# Whether any job of the provider, seen or not, names one of the refs as its parent: a probe of
# the partial index job_lineage.
ANY_CHILD = (
    "SELECT 1 FROM {job} WHERE provider = %s AND parent_ref <> '' AND parent_ref IN ({refs}) AND id <> %s LIMIT 1"
)


@dataclass
class Link:
    job: Job
    # The track of `job` the link goes through, and its number on that job's page (1-based).
    track_title: str = ""
    track_number: int = 0


@dataclass
class Lineage:
    parent_ref: str = ""
    parent: Link | None = None
    children: list[Link] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.parent_ref or self.children)


def _track(job: Job, ref: str) -> tuple[str, int]:
    tracks = [o for o in job.outputs if isinstance(o, dict) and o.get("kind") == "audio"]
    for number, track in enumerate(tracks, 1):
        if track.get("ref") == ref:
            return track.get("title") or job.title, number
    return "", 0


def lineage(job: Job, user) -> Lineage:
    result = Lineage(parent_ref=job.parent_ref)
    refs = [o["ref"] for o in job.outputs if isinstance(o, dict) and o.get("kind") == "audio" and o.get("ref")]
    refs.append(job.external_id)
    children = _any_child(job, refs)
    if not (job.parent_ref or children):
        return result  # most jobs: no queryset built
    visible = Job.objects.visible_to(user).filter(provider=job.provider).exclude(pk=job.pk).only(*LINKED)
    if job.parent_ref and (source := visible.filter(external_id=job.parent_ref).order_by("created").first()):
        result.parent = Link(source)
    elif job.parent_ref:
        candidates, _ = search.search(visible.only(*LINKED, "outputs"), job.parent_ref)
        for candidate in candidates.order_by("created")[:10]:
            title, number = _track(candidate, job.parent_ref)
            if number:
                result.parent = Link(candidate, title, number)
                break
    if children:
        for child in visible.filter(parent_ref__in=refs).order_by("created", "id")[:MAX_CHILDREN]:
            title, number = _track(job, child.parent_ref)
            result.children.append(Link(child, title, number))
    return result


def _any_child(job: Job, refs: list[str]) -> bool:
    """Whether some job may continue `job`: most jobs have no child, and this probe costs 0.1 ms
    of CPU where the query of the visible children (the visibility rule's subquery, the jobs'
    columns) costs 0.9 ms; that query runs only when some job, visible or not, names one of
    `refs`. In SQL, like annotations.marks: every value is a parameter."""
    sql = ANY_CHILD.format(job=connection.ops.quote_name(Job._meta.db_table), refs=placeholders(len(refs)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [job.provider, *refs, job.pk])
        return cursor.fetchone() is not None
