"""Searching the history: a case-insensitive substring of a job's title, prompt, file name
(Munsit's jobs are titled by it), external id or searchable details (style tags, lyrics, track
ids: Job.search_text), and how a page of results is read.

A substring is no word, so no ordinary full-text index answers it; a LIKE '%term%' reads every
row it is asked about. Trigram indexes answer it: migrations 0005 and 0007 make one per database
(SQLite: the FTS5 table `history_job_search` with the trigram tokenizer, kept in step with
history_job by triggers; PostgreSQL: pg_trgm GIN indexes on the UPPER() expressions that
Django's icontains compares). They need a term of at least three characters, so shorter terms,
and databases where the index could not be made, are answered by scanning, as before.

Whatever answers, the filter itself stays Django's `icontains` on the four columns: an index
only narrows which rows it is asked about, so results are the same with or without one.

Which query shape reads a page (history.views.page_rows):

- Without search (and for terms too short for trigrams, or too common to be worth the index):
  the newest jobs of each visible key, one short walk down that key's keyset index each,
  merged. Fast at any depth, and fastest for common terms (they are found within a few rows).
- A rare term on SQLite: the full-text table lists every job that may match (at most RARE of
  them, so reading them and sorting the visible ones is cheap), and the page is read from those.
- A term of three or more characters on PostgreSQL: one query over all visible keys, whose
  plan (the GIN indexes ANDed with a key's index range, or a walk down by date) PostgreSQL's
  planner picks from its statistics of the indexed expressions.
"""

import logging
from dataclasses import dataclass

from django.db import OperationalError, connections
from django.db.models import Q, QuerySet

from core.sql import placeholders

logger = logging.getLogger(__name__)

# Trigram indexes find terms of at least this many characters.
TRIGRAM = 3
# A term matching at most this many jobs (of everyone's) is looked up through the index; a
# commoner one is found faster by walking each key's jobs newest first.
RARE = 2000
FTS_TABLE = "history_job_search"
FTS_TRIGGERS = [f"{FTS_TABLE}_insert", f"{FTS_TABLE}_delete", f"{FTS_TABLE}_update"]


@dataclass
class Plan:
    """How a search narrows the history: `ids` are every job that may match (from the
    trigram index), `per_key` says whether a page is best read key by key."""

    ids: list[int] | None = None
    per_key: bool = True


def condition(term: str) -> Q:
    """THE search semantics: a case-insensitive substring of the title (Munsit: the file
    name), the prompt, the external id, or the searchable details (Suno's style tags,
    lyrics and track ids; AudioPod's timed lyrics)."""
    return (
        Q(title__icontains=term)
        | Q(prompt__icontains=term)
        | Q(external_id__icontains=term)
        | Q(search_text__icontains=term)
    )


def search(queryset: QuerySet, term: str, plan: Plan | None = None, also: Q | None = None) -> tuple[QuerySet, Plan]:
    """`queryset` narrowed to jobs matching `term`, and how to read pages of it (`plan`: one
    made earlier for the same term, to filter another queryset the same way).

    `also`: jobs that match besides, whatever their text says (the viewer's jobs whose tags
    or note match: annotations.search), as a condition on their ids; None for none, and
    then the query is exactly the one everyone else's search makes."""
    plan = plan or make_plan(queryset.db, term)
    match = condition(term)
    if plan.ids is not None:
        match &= Q(pk__in=plan.ids)
    if also is not None:
        match |= also
    return queryset.filter(match), plan


def make_plan(using: str, term: str) -> Plan:
    if len(term) < TRIGRAM:
        return Plan()
    vendor = connections[using].vendor
    if vendor == "postgresql":
        return Plan(per_key=False)
    ids = fts_candidates(using, term) if vendor == "sqlite" else None
    return Plan() if ids is None else Plan(ids=ids, per_key=False)


def fts_phrase(term: str) -> str:
    """The term as one FTS5 phrase: inside double quotes every character is literal text
    for the tokenizer (a quote is written twice), so nothing in it is query syntax."""
    return '"' + term.replace('"', '""') + '"'


def fts_candidates(using: str, term: str) -> list[int] | None:
    """Ids of every job whose title, prompt or external id may contain `term` (the trigram
    tokenizer folds case as LIKE does, and Unicode letters too, so it finds a superset of
    what icontains keeps), or None: more than RARE of them, or no usable full-text table.

    The same statement checks that the triggers keeping the table in step still exist: a
    migration that rebuilds history_job on SQLite drops them, and a stale index would hide
    new jobs from search. Then (-1 among the ids) search scans, and says why in the log."""
    slots = placeholders(len(FTS_TRIGGERS))
    sql = (
        "SELECT -1 WHERE (SELECT count(*) FROM sqlite_master "  # noqa: S608 (names are constants)
        f"WHERE type = 'trigger' AND name IN ({slots})) < {len(FTS_TRIGGERS)} "
        f"UNION ALL SELECT * FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s)"
    )
    try:
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [*FTS_TRIGGERS, fts_phrase(term), RARE + 1])
            ids = [row[0] for row in cursor.fetchall()]
    except OperationalError as e:  # no such table (or no FTS5 in this SQLite)
        logger.warning("History search scans: no full-text table (%s).", e)
        return None
    if -1 in ids:
        logger.warning("History search scans: the triggers of %s are gone; run migration 0007 again.", FTS_TABLE)
        return None
    return ids if len(ids) <= RARE else None
