"""Sorting the history: by created (the default, newest first), completed, duration or
credits, either way, read a page at a time by keyset at any depth (no OFFSET).

A sort is the `sort` URL parameter (SORTS: "-created", "duration"…). Jobs without the sorted
value (not completed yet, no length, no price) come last in both directions, and ties are
broken by id in the sort's direction, so every job has one place and a page is "the next
PAGE_SIZE after the last row of the previous one" (the cursor: that row's value and id).

Neither database walks one index for "value DESC NULLS LAST" and "value ASC NULLS LAST" alike
(SQLite keeps NULLs first in an index, PostgreSQL last). So a page is read in a few walks, each
a plain range of a partial index (history.models.sort_indexes): the jobs that have the value,
by (value, id) from the cursor (the rest of the cursor's value, then the values past it), and
the jobs that do not, by id. The later ones only matter once the earlier run out; all are
short, and history.views.page_rows joins them (per key) in one statement.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, FilteredRelation, OrderBy, Q, QuerySet

SEPARATOR = "_"
# The cursor's value for a job without the sorted value.
NONE = "none"


@dataclass(frozen=True)
class Sort:
    """One way of ordering the history."""

    value: str  # the URL parameter: the column, with "-" for descending
    column: str  # what the table's header and the URL call it
    field: str  # Job's field
    label: str  # what a person picks it by
    nullable: bool

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")

    def ordering(self) -> list[OrderBy]:
        """The ORDER BY of a sorted list: the value (unknown last either way), then id."""
        value, pk = F(self.field), F("id")
        if self.descending:
            return [value.desc(nulls_last=True) if self.nullable else value.desc(), pk.desc()]
        return [value.asc(nulls_last=True) if self.nullable else value.asc(), pk.asc()]


def _sorts() -> dict[str, Sort]:
    columns = [  # column, field, nullable, (descending label, ascending label)
        ("created", "created", False, ("Newest first", "Oldest first")),
        ("completed", "completed", True, ("Recently completed", "Earliest completed")),
        ("duration", "duration", True, ("Longest", "Shortest")),
        ("credits", "credits_used", True, ("Most credits", "Fewest credits")),
    ]
    sorts = {}
    for column, field, nullable, (down, up) in columns:
        sorts[f"-{column}"] = Sort(f"-{column}", column, field, down, nullable)
        sorts[column] = Sort(column, column, field, up, nullable)
    return sorts


SORTS = _sorts()
DEFAULT = SORTS["-created"]
CHOICES = [(sort.value, sort.label) for sort in SORTS.values()]
COLUMNS = {sort.column for sort in SORTS.values()}


def get(value: str | None) -> Sort:
    """The sort a URL asks for; the default for none (the filters refuse unknown ones)."""
    return SORTS.get(value or "", DEFAULT)


# --- cursors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """The last row of the previous page: its sorted value (None: it has none) and id."""

    value: Any
    pk: int


def make_cursor(sort: Sort, job) -> str:
    """ "<value>_<id>": the value as ISO time or a number, "none" when the job has none.
    (The default sort's cursors are "<created ISO>_<id>", as they were before sorting.)"""
    value = getattr(job, sort.field)
    if value is None:
        text = NONE
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = repr(value) if isinstance(value, float) else str(value)
    return f"{text}{SEPARATOR}{job.pk}"


def parse_cursor(sort: Sort, text: str) -> Cursor | None:
    """The cursor of a page link, or None when it is not one of this sort's (edited, cut
    short or from another sort): the list then says so and starts from the top."""
    value, _, pk = text.rpartition(SEPARATOR)
    if not pk.isdigit() or not value:
        return None
    if value == NONE:
        return Cursor(None, int(pk)) if sort.nullable else None
    try:
        parsed = _parse_value(sort, value)
    except (ValueError, InvalidOperation):
        return None
    return None if parsed is None else Cursor(parsed, int(pk))


def _parse_value(sort: Sort, text: str):
    if sort.field in ("created", "completed"):
        when = datetime.fromisoformat(text)
        return when if when.tzinfo is not None else None
    number = Decimal(text) if sort.field == "credits_used" else float(text)
    return number if math.isfinite(number) else None


# --- walks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Through:
    """Jobs walked by date through links of theirs (stars, tag links: annotations.models),
    one per job, that carry the job's date (`job_created`) and are indexed by it: the
    links of `relation` that meet `condition` (a person's stars, a tag's links)."""

    relation: str
    condition: Q


def walks(sort: Sort, jobs: QuerySet, cursor: Cursor | None, through: Through | None = None) -> list[QuerySet]:
    """The ordered walks that hold the next page of `jobs` after `cursor`, each to be cut at
    a page's length, each a range of one index (history.models: job_history_by_key for
    created, sort_indexes for the others): the jobs with the value from the cursor on, then
    those without it. `through`: for the sorts by date, walk those links' index instead."""
    field, down = sort.field, sort.descending
    seek, order_pk = field, "id"  # the index walked, by value and id
    known = jobs.filter(**{f"{field}__isnull": False}) if sort.nullable else jobs
    if through is not None and field == "created":
        # The links' (job_created, job_id), which are the jobs' (created, id). Their conditions
        # go in one filter() call each time, so that all are about the one joined link
        # (FilteredRelation's); with no cursor, the join alone is the walk's filter.
        known = jobs.annotate(link=FilteredRelation(through.relation, condition=through.condition))
        seek, order_pk = "link__job_created", "link__job_id"
        if cursor is None:
            known = known.filter(link__isnull=False)
    ordered = [f"-{seek}", f"-{order_pk}"] if down else [seek, order_pk]
    parts = []
    if cursor is None:
        parts.append(known.order_by(*ordered))
    elif not sort.nullable:
        # "created <= v, but not (created = v and id >= pk)": one range of the index (an OR of
        # "< v" with "= v and id < pk" is none for SQLite's planner); times seldom tie.
        bound, ties = ("lte", "gte") if down else ("gte", "lte")
        parts.append(
            known.filter(**{f"{seek}__{bound}": cursor.value})
            .exclude(**{field: cursor.value, f"pk__{ties}": cursor.pk})
            .order_by(*ordered)
        )
    elif cursor.value is not None:
        # Prices and lengths tie by the thousand, and neither database seeks an index to a
        # (value, id) pair: the rest of the cursor's value is a walk of its own (value = v,
        # by id), then the values past it.
        beyond = "lt" if down else "gt"
        parts.append(known.filter(**{field: cursor.value, f"pk__{beyond}": cursor.pk}).order_by(ordered[1]))
        parts.append(known.filter(**{f"{field}__{beyond}": cursor.value}).order_by(*ordered))
    if sort.nullable:
        unknown = jobs.filter(**{f"{field}__isnull": True})
        if cursor is not None and cursor.value is None:
            unknown = unknown.filter(Q(pk__lt=cursor.pk) if down else Q(pk__gt=cursor.pk))
        parts.append(unknown.order_by(ordered[1]))
    return parts


# --- links -----------------------------------------------------------------------------------


def list_url(params: dict[str, str]) -> str:
    """The history list with these query parameters."""
    return "/history/" + (f"?{urlencode(params)}" if params else "")


def with_sort(params: dict[str, str], sort: Sort) -> dict[str, str]:
    """The parameters of the first page in this order, other filters kept (the default sort
    is never written out)."""
    kept = {name: value for name, value in params.items() if name not in ("sort", "cursor")}
    return kept if sort is DEFAULT else {**kept, "sort": sort.value}


def sort_url(params: dict[str, str], column: str) -> str:
    """THE link of a sortable column's header (or menu): the list sorted by `column`, other
    filters kept; the column the list is sorted by now turns the other way, another one
    starts descending (newest, last completed, longest, most credits first).

    `params` are the list's parameters as the view has them (`params` in the template:
    JobFilter.valid_data()); `column` is one of COLUMNS."""
    current = get(params.get("sort"))
    flipped = current.column == column and current.descending
    wanted = SORTS[column if flipped else f"-{column}"]
    return list_url(with_sort(params, wanted))


def aria_sort(params: dict[str, str], column: str) -> str:
    """The header's aria-sort: "descending" or "ascending" for the column sorted by, else "none"."""
    current = get(params.get("sort"))
    if current.column != column:
        return "none"
    return "descending" if current.descending else "ascending"


def headers(params: dict[str, str]) -> dict[str, dict]:
    """The sortable columns' header links, by column: {url, aria_sort} (the table layout's
    header cells take them: preferences.history.header)."""
    return {column: {"url": sort_url(params, column), "aria_sort": aria_sort(params, column)} for column in COLUMNS}


def menu(params: dict[str, str]) -> list[dict]:
    """Every sort, as links for the results bar's "Sort" menu: {label, url, current}."""
    current = get(params.get("sort"))
    return [
        {"label": sort.label, "url": list_url(with_sort(params, sort)), "current": sort is current}
        for sort in SORTS.values()
    ]
