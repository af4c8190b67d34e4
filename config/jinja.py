"""The Jinja2 environment: TEMPLATES' second engine, templates/jinja2/.

It renders the history's pages (the list, its rows and regions, a job's page): the markup
asked for on every scroll, filter and click. Django's template engine spent about 0.3 ms a
row on the rows and 6.5 ms on the list page around them, most of those pages' CPU
(bench/page_cpu.py); Jinja2 compiles a template to Python code and renders the same markup in
a fraction of that. The site's frame is here too (frame.html, core.pages), round these pages
and round the other pages, which stay in Django's templates (templates/base.html).

The filters below are Django's own, as its template engine applies them: a date shown in the
current timezone (the person's, core.middleware), numbers and plurals in its wording.
"""

import functools

from django.contrib.humanize.templatetags.humanize import intcomma, naturaltime
from django.middleware.csrf import get_token
from django.template import defaultfilters
from django.template.backends.utils import csrf_input
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.timezone import template_localtime
from django_htmx.jinja import htmx_script
from jinja2 import Environment

from core import pages
from history import presentation
from providers.templatetags import balances


def date(value, format=None) -> str:
    """Django's `date` filter in the current timezone, as Django's templates show a date."""
    return defaultfilters.date(template_localtime(value), format)


def url(name: str, *args) -> str:
    """reverse(), remembered: a page links the same dozen views each time (1,080 reverse()
    calls were 4 % of 40 full pages' profile), and an address changes only with the prefix
    the site is served under or the request's URLconf, which are part of what is remembered."""
    return _reverse(get_script_prefix(), get_urlconf(), name, args)


@functools.lru_cache(maxsize=4096)
def _reverse(prefix: str, urlconf, name: str, args: tuple) -> str:
    return reverse(name, urlconf=urlconf, args=args or None)


def csrf(request) -> dict:
    """A context processor (TEMPLATES' OPTIONS) that masks the CSRF token once per page, as
    Django's templates do: Django's Jinja2 backend gives a lazy value that masks it anew at
    each use, and a page of the history has a dozen forms (0.3 ms of random strings)."""
    return {
        "csrf_input": SimpleLazyObject(lambda: csrf_input(request)),
        "csrf_token": SimpleLazyObject(lambda: get_token(request)),
    }


FILTERS = {
    "date": date,
    "intcomma": intcomma,
    "naturaltime": naturaltime,
    "timesince": defaultfilters.timesince_filter,
    "pluralize": defaultfilters.pluralize,
    "yesno": defaultfilters.yesno,
    "linebreaksbr": defaultfilters.linebreaksbr,  # escapes, then marks safe, as autoescaped
    "credits": presentation.credits,
    "duration": presentation.duration,
    "balance_text": balances.balance_text,
    "low_balance": balances.low_balance,
    # A job's page and its public page (templates/jinja2/history/panel.html), an export's.
    "downloads": presentation.downloads,
    "tag_list": presentation.tag_list,
    "field_group": pages.field_group,
    "filesizeformat": defaultfilters.filesizeformat,
}


def environment(**options) -> Environment:
    # Django's backend asks for autoescaping already; nothing here may ever render without it.
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    # The icons, as `{{ icon("star") }}`: history/icon.html rendered once per process.
    env.globals.update(icon=presentation.icon, url=url, static=static, htmx_script=htmx_script)
    env.filters.update(FILTERS)
    return env
