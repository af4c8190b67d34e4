"""The history's "More filters": the filters behind a fold of the filter form.

Drawn with the page only when the fold opens with it (one of its filters is in use, a filter
is in error, or the address asks for it: `more=1`, the way in without JavaScript). Otherwise
the fold's fields arrive from `grid()` when it is first opened: their choices (the viewer's
keys, teams, tags and models) were 5 ms of the full page's 30 (bench/pages_bench.py), for
fields that are closed on most visits.
"""

from django.core.cache import caches
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from . import search
from .filters import JobFilter
from .sorting import list_url

# The fields in the fold, in the form's order.
FIELDS = [
    *("kind", "model", "credential", "team", "has_error"),
    *("created_after", "created_before", "period", "starred", "tag"),
]
# Filters kept in the form but never typed there (a breakdown's link, the order): hidden
# inputs, always drawn with the form, so that filtering keeps them whether the fold came or not.
HIDDEN = ["error", "sort"]
# The address's way to draw the fold open with the page.
OPEN_PARAM = "more"


def is_open(request, filters: JobFilter, params: dict[str, str]) -> bool:
    return bool(set(params) & set(FIELDS)) or bool(filters.form.errors) or OPEN_PARAM in request.GET


CACHE_SECONDS = 3600


def fields_html(filters: JobFilter) -> SafeString:
    """The fold's fields, rendered once per what their markup shows (JobFilter.rendering_digest)
    in this process's cache of rendered markup, like the rows (history.row_cache)."""
    cache = caches["rows"]
    key = f"history_more_filters:{filters.rendering_digest(FIELDS)}"
    html = cache.get(key)
    if html is None:
        fields = [filters.form[name] for name in FIELDS]
        html = render_to_string("history/more_filters.html", {"more_filters": fields}, using="jinja2")
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 (rendered by Jinja2, which escapes)


def page_context(request, filters: JobFilter, params: dict[str, str], links: dict[str, str]) -> dict:
    """The full page's part: the fold open with its fields, or closed, to be fetched (or,
    without script, asked for with the page again: `links` are what the page's links keep)."""
    hidden = [filters.form[name] for name in HIDDEN]
    if not is_open(request, filters, params):
        url = list_url({**links, OPEN_PARAM: "1"})
        return {"more_filters_open": False, "more_filters_hidden": hidden, "more_filters_url": url}
    return {"more_filters_open": True, "more_filters_hidden": hidden, "more_filters": fields_html(filters)}


@require_GET
def grid(request):
    """The fold's fields, fetched when it opens (its values: none in use, or it would have
    come with the page)."""
    filters = JobFilter(request.GET or None, request=request, min_search=search.TRIGRAM)
    return HttpResponse(fields_html(filters))
