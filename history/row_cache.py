"""The history's rows, rendered once and cached per (job, row version, viewer).

The list answers many times a second and each answer holds 50 rows; rendering them was
about 94 % of a page's CPU (issue 13). A row's markup depends on the job (everything
`row_version` covers), on the row template itself, and on the viewer only through: whether
they own the key (else "shared by" its owner), whether they may refresh it (their team role),
their time zone and language, and their own marks on it (star, tags, note: annotations.marks,
read for the whole page at once, in the key as a digest). So the cache key holds exactly
those, and a changed status, title, output, role, owner's name or mark is a different key: a
cached row is never stale, and never one rendered for someone with other rights or marks.
The layout (cards, or the dense table with the person's columns in their order:
preferences.history.Display) is in the key too. Times are sent absolute (in the viewer's
zone) and made relative in the browser (static/js/genboard.js), so a cached row never says
"3 minutes ago" for hours.

Rows hold forms (the star; "Refresh now" on unfinished ones) with the person's CSRF token
and, without htmx, the page to come back to: they are cached with slots in those places,
filled for each answer.

The cache is this process's memory (CACHES["rows"], LocMemCache): a read costs no network
round trip, since keys carry versions processes that each hold their own copies never
disagree, and a restart (a deploy, with new code in row_values) starts it empty. The key
also holds the template's digest, for a cache that outlives processes.
"""

import functools
import hashlib
import secrets
from types import SimpleNamespace

from django.core.cache import caches
from django.db import connections
from django.db.models import CharField, Func, OuterRef, QuerySet, Subquery, TextField, Value
from django.db.models.aggregates import StringAgg
from django.db.models.expressions import RawSQL
from django.db.models.functions import MD5, Cast, Coalesce
from django.middleware.csrf import get_token
from django.template import engines
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from annotations import marks as annotation_marks
from archive.display import attach as attach_archive
from archive.display import expires
from archive.models import ArchivedFile
from preferences.history import Display, display_for
from providers.registry import CHOICES
from teams import access

from .models import Job
from .presentation import credits, duration, media

# Jinja2 templates (templates/jinja2/, config/jinja.py): rendered by the thousand.
ROW_TEMPLATE = "history/row.html"
# The table layout's row: one line, its cells in the person's column order.
TABLE_ROW_TEMPLATE = "history/row_table.html"
# Imported by the rows: its source is part of the template digest too.
ROW_INCLUDES = ["annotations/star.html"]
# The job's columns that a row shows (row.html, row_table.html, row_values(), history.presentation.media)
# and its archived files' (archive.display): the database hashes them (with_digest). Keep them
# covering every field those read: tests/test_row_cache.py changes each one.
SHOWN_COLUMNS = [
    *("code", "provider", "kind", "external_id", "created", "credential_id", "status", "provider_status"),
    *("title", "model", "error", "stale", "credits_used", "completed", "outputs", "inputs"),
]
ARCHIVE_SHOWN = ["code", "role", "position", "kind", "state", "size", "error", "path", "content_type"]
SEPARATOR = "\x1f"
# What a page reads of each job (history.views.page_rows): a cached row's key and version, and
# the sorts' values for the next page's cursor (history.sorting).
LIGHT_FIELDS = [
    *("id", "code", "credential_id", "provider", "kind", "status", "stale"),
    *("created", "completed", "duration", "credits_used"),
]
# Unfinished rows on screen ask for their latest state this often.
ROW_POLL_SECONDS = 5
# Cached rows live this long unless the cache needs the room first.
ROW_TTL = 24 * 3600
# Choice labels by value (get_FOO_display() flattens the choices on every call).
PROVIDERS, KINDS, STATUSES = dict(CHOICES), dict(Job.Kind.choices), dict(Job.Status.choices)
# Where a cached row's form takes the request's CSRF token and return path: random, so no
# job's text can contain them.
CSRF_SLOT = f"csrf-{secrets.token_hex(8)}"
NEXT_SLOT = f"next-{secrets.token_hex(8)}"


@functools.cache
def template_digest(name: str = ROW_TEMPLATE) -> str:
    """Changes whenever the row's template (or what it includes) does: rows cached before a
    deploy are not reused after it."""
    env = jinja()
    source = "".join(env.loader.get_source(env, n)[0] for n in [name, *ROW_INCLUDES])
    return hashlib.blake2b(source.encode(), digest_size=6).hexdigest()


def jinja():
    """The Jinja2 environment the rows are rendered with."""
    return engines["jinja2"].env


def row_media(job: Job) -> dict:
    """What the row plays and shows of the job's files (history.presentation.media: the outputs and
    inputs with their archived copies and archive states), made once per job and request."""
    if not hasattr(job, "_row_media"):
        job._row_media = media(job)
    return job._row_media


class Chain(Func):
    """a || b || c, in one level: Concat nests a pair per argument, deeper than SQLite's parser
    goes for 32 of them."""

    arg_joiner = " || "
    template = "(%(expressions)s)"
    output_field = TextField()


@functools.cache
def _digest_sql(alias: str) -> tuple[str, tuple]:
    """row_digest's SQL for a database, compiled once: Django's compiler costs more than the
    database's hashing of a page of rows."""

    def text(name: str):
        return Coalesce(Cast(name, TextField()), Value(""))

    def joined(names: list[str]):
        return Chain(*(part for name in names for part in (text(name), Value(SEPARATOR))))

    # SQLite before 3.44 takes no order in an aggregate: it joins the files in the order it
    # reads them by the job's index, the same each time (and were it not, a row would be
    # rendered again, never shown stale).
    order = "pk" if connections[alias].features.supports_aggregate_order_by_clause else None
    files = (
        ArchivedFile.objects.filter(job=OuterRef("pk"))
        .order_by()
        .values("job")
        .annotate(shown=StringAgg(joined(ARCHIVE_SHOWN), Value(";"), order_by=order))
        .values("shown")
    )
    digest = MD5(Chain(joined(SHOWN_COLUMNS), Coalesce(Subquery(files), Value(""))))
    query = Job.objects.using(alias).annotate(row_digest=digest).query
    return query.get_compiler(using=alias).compile(query.annotations["row_digest"])


def with_digest(jobs: QuerySet) -> QuerySet:
    """The jobs, each with `row_digest`: the database's hash of every column a row shows and
    of the job's archived files (SHOWN_COLUMNS, ARCHIVE_SHOWN)."""
    sql, params = _digest_sql(jobs.db)
    return jobs.annotate(row_digest=RawSQL(sql, params, output_field=CharField()))  # noqa: S611 (compiled by Django)


def row_version(job: Job) -> str:
    """Changes whenever what a row shows of the job changes; a row's poll sends it back and
    gets 204 (no swap, so a playing track keeps playing) while it still matches.

    Made of the database's digest of the job's shown columns and archived files (with_digest:
    a page whose rows are all cached reads no output, input or archive row, 4 ms of a 13 ms
    rows fragment, bench/pages_bench.py), the days left before the provider deletes its files
    (the one thing a row shows that time changes) and its key's label. The job must have been
    read with_digest()."""
    days = expires(job) if job.status == Job.Status.SUCCEEDED else None
    shown = f"{job.row_digest}|{days}|{job.credential.label}"
    return hashlib.blake2b(shown.encode(), digest_size=8).hexdigest()


def complete(jobs: list[Job]) -> None:
    """Give each job every column its row reads, and its archived files: the page read only
    LIGHT_FIELDS (history.views.page_rows), enough for a row in the cache; the rest of the
    shown columns is read here, in one query, for the rows to render, and set on the same
    jobs (a second Job per row would cost as much as the columns)."""
    light = {job.pk: job for job in jobs if "outputs" in job.get_deferred_fields()}
    if light:
        rest = [name for name in SHOWN_COLUMNS if name not in LIGHT_FIELDS]
        for pk, *values in Job.objects.filter(pk__in=light).values_list("pk", *rest):
            for name, value in zip(rest, values, strict=True):
                setattr(light[pk], name, value)
    attach_archive([job for job in jobs if not hasattr(job, "archived_files")])


class Viewer:
    """What of a row depends on who looks, and how: asked once per key for a page of rows."""

    def __init__(self, request, display: Display | None = None):
        self.request = request
        self.display = display or display_for(request)
        self.template = TABLE_ROW_TEMPLATE if self.display.table else ROW_TEMPLATE
        self.user = request.user
        self.htmx = bool(getattr(request, "htmx", False))
        self.can_refresh: dict[int, bool] = {}
        self.setting = f"{timezone.get_current_timezone_name()}|{translation.get_language()}"
        # This viewer's marks on the rows asked about (prefetch()); personal, so in the key.
        self.marks: dict[int, annotation_marks.Marks] = {}

    def prefetch(self, jobs: list[Job]) -> None:
        """Read this viewer's marks on all these jobs at once (one query for a page)."""
        self.marks = annotation_marks.for_jobs(self.user, [job.pk for job in jobs])

    def marks_of(self, job: Job) -> annotation_marks.Marks:
        return self.marks.get(job.pk, annotation_marks.NONE)

    def refreshes(self, job: Job) -> bool:
        """ "Refresh now" (teams.access.can_refresh): unfinished jobs, for the key's owner and
        members who are not viewers."""
        if job.finished:
            return False
        if job.credential_id not in self.can_refresh:
            self.can_refresh[job.credential_id] = access.can_refresh(self.user, job)
        return self.can_refresh[job.credential_id]

    def key(self, job: Job, version: str) -> str:
        owner = job.credential.owner
        seen_as = "own" if owner.pk == self.user.pk else f"shared:{owner.pk}:{owner.get_username()}"
        form = ("refresh" + ("-htmx" if self.htmx else "")) if self.refreshes(job) else "-"
        layout, marks = self.display.key, self.marks_of(job).digest
        key = f"row:{template_digest(self.template)}:{job.pk}:{version}:{seen_as}:{form}:{marks}"
        return f"{key}:{self.setting}:{layout}"

    @functools.cached_property
    def slots(self) -> tuple[str, str]:
        """This answer's CSRF token and return path: asked once, since get_token() masks the
        secret afresh on every call (32 random characters), which cost more than reading 50
        cached rows."""
        return get_token(self.request), escape(self.request.get_full_path())

    def fill(self, html: str) -> SafeString:
        """A rendered row with this request's CSRF token and return path in their slots
        (every row has them: its star button is a form)."""
        if CSRF_SLOT in html:
            token, path = self.slots
            html = html.replace(CSRF_SLOT, token).replace(NEXT_SLOT, path)
        return mark_safe(html)  # noqa: S308 (rendered by the template, with escaped values in its slots)


def row_values(viewer: Viewer, job: Job) -> SimpleNamespace:
    """What the row prints, as plain strings: made here rather than by template filters and
    lookups, which cost most of a row's rendering (0.38 ms a row with them, 0.18 ms now).

    Given as attributes, not a dict (nor are the players and the archive state): Jinja2 reads
    `r.title` with getattr() first and falls back to r["title"] only after an AttributeError,
    a microsecond lost on each of a row's 25 to 40 lookups (bench/pages_bench.py --cold-rows)."""
    m = row_media(job)
    title = job.title or job.external_id
    when = timezone.localtime(job.created)
    if job.kind == Job.Kind.DENOISE:
        players = [("Before", 0, t) for t in m["before"]] + [("After", 0, t) for t in m["tracks"]]
    else:
        several = len(m["tracks"]) > 1
        players = [(t.get("title") or title, n if several else 0, t) for n, t in enumerate(m["tracks"], 1)]
    images = m["images"]
    values = {
        "title": title,
        "provider": PROVIDERS.get(job.provider, job.provider),
        "kind": KINDS.get(job.kind, job.kind),
        "status": STATUSES.get(job.status, job.status),
        "cover": m["cover"]["url"] if m["cover"] else "",
        "waiting": job.status in Job.UNFINISHED,
        "archive": SimpleNamespace(**m["archive"]),
        "error": Truncator(job.error).chars(160) if job.status == Job.Status.FAILED else "",
        "players": [
            SimpleNamespace(label=label, number=number, duration=duration(t.get("duration")), src=t["src"])
            for label, number, t in players
        ],
        "thumbs": [image["url"] for image in images[1:5]] if job.kind == Job.Kind.IMAGE else [],
        "more_images": len(images) - 5 if job.kind == Job.Kind.IMAGE and len(images) > 5 else 0,
        "when_iso": when.isoformat(),
        "when_title": f"{when:%A}, {when:%B} {when.day}, {when.year}, {when:%H:%M:%S} ({when.tzname()})",
        "when": f"{when:%b} {when.day}, {when.year}, {when:%H:%M}",
        "length": duration(m["tracks"][0].get("duration")) if m["tracks"] else "",
        "credits": (
            f"{credits(job.credits_used)} credit{'' if job.credits_used == 1 else 's'}"
            if job.credits_used is not None
            else ""
        ),
    }
    if viewer.display.table:
        values.update(table_values(viewer, job))
    return SimpleNamespace(**values)


def table_values(viewer: Viewer, job: Job) -> dict:
    """What only the table prints: its cells are short, the numbers bare (the header names them)."""
    values = {
        "key": job.credential.label,
        "credits_number": credits(job.credits_used) if job.credits_used is not None else "",
        # The first of the job's own tracks (a denoise's cleaned one, not what it was given).
        "play": SimpleNamespace(src=tracks[0]["src"]) if (tracks := row_media(job)["tracks"]) else None,
        "columns": viewer.display.columns,
    }
    if "completed" in viewer.display.columns and job.completed:
        done = timezone.localtime(job.completed)
        values["completed_iso"] = done.isoformat()
        values["completed"] = f"{done:%b} {done.day}, {done.year}, {done:%H:%M}"
    return values


def row_context(viewer: Viewer, job: Job, version: str | None = None) -> dict:
    owner = job.credential.owner
    return {
        "job": job,
        "r": row_values(viewer, job),
        "can_refresh": viewer.refreshes(job),
        "polls": job.status in Job.UNFINISHED and not job.stale,
        "version": version or row_version(job),
        "poll_seconds": ROW_POLL_SECONDS,
        "shared_by": "" if owner.pk == viewer.user.pk else owner.get_username(),
        "marks": viewer.marks_of(job),
        "csrf_slot": CSRF_SLOT,
        "next_slot": "" if viewer.htmx else NEXT_SLOT,
        # The star's form comes back to the page without JS, whoever's request cached the row
        # (its key does not say whether that was htmx's).
        "star_next": NEXT_SLOT,
    }


def render_row(viewer: Viewer, job: Job, version: str | None = None) -> str:
    """One row, with its slots unfilled. Without the request: the row must not depend on
    anything its cache key does not hold."""
    return jinja().get_template(viewer.template).render(row_context(viewer, job, version))


def rows_html(request, jobs: list[Job], display: Display | None = None) -> list[SafeString]:
    """Each job's row, from the cache where it holds one, rendered (and stored) where not; in
    the given display, else the one the request asks for (preferences.history.display_for)."""
    viewer = Viewer(request, display)
    viewer.prefetch(jobs)
    cache = caches["rows"]
    versions = {job.pk: row_version(job) for job in jobs}
    keys = {job.pk: viewer.key(job, versions[job.pk]) for job in jobs}
    cached = cache.get_many(keys.values())
    complete([job for job in jobs if keys[job.pk] not in cached])
    rendered, fresh = [], {}
    for job in jobs:
        key = keys[job.pk]
        html = cached.get(key)
        if html is None:
            html = fresh[key] = render_row(viewer, job, versions[job.pk])
        rendered.append(viewer.fill(html))
    if fresh:
        cache.set_many(fresh, ROW_TTL)
    return rendered
