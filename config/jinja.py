"""The Jinja2 environment: TEMPLATES' second engine, templates/jinja2/.

It renders the history's pages (the list, its rows and regions, a job's page): the markup
asked for on every scroll, filter and click. Django's template engine spent about 0.3 ms a
row on the rows and 6.5 ms on the list page around them, most of those pages' CPU
(bench/page_cpu.py); Jinja2 compiles a template to Python code and renders the same markup in
a fraction of that. The site's frame (templates/base.html) and its other pages stay in
Django's templates: a page here is a Jinja2 body inside a Django shell (core.pages.render_page).

The filters below are Django's own, as its template engine applies them: a date shown in the
current timezone (the person's, core.middleware), numbers and plurals in its wording.
"""

from django.contrib.humanize.templatetags.humanize import intcomma, naturaltime
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils.timezone import template_localtime
from jinja2 import Environment

from core import pages
from history.templatetags import history_extras
from providers.templatetags import balances


def date(value, format=None) -> str:
    """Django's `date` filter in the current timezone, as Django's templates show a date."""
    return defaultfilters.date(template_localtime(value), format)


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


FILTERS = {
    "date": date,
    "intcomma": intcomma,
    "naturaltime": naturaltime,
    "timesince": defaultfilters.timesince_filter,
    "pluralize": defaultfilters.pluralize,
    "yesno": defaultfilters.yesno,
    "linebreaksbr": defaultfilters.linebreaksbr,  # escapes, then marks safe, as autoescaped
    "credits": history_extras.credits,
    "duration": history_extras.duration,
    "balance_text": balances.balance_text,
    "low_balance": balances.low_balance,
    # A job's page and its public page (templates/jinja2/history/panel.html), an export's.
    "downloads": history_extras.downloads,
    "tag_list": history_extras.tag_list,
    "field_group": pages.field_group,
    "filesizeformat": defaultfilters.filesizeformat,
}


def environment(**options) -> Environment:
    # Django's backend asks for autoescaping already; nothing here may ever render without it.
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    # The icons, as `{{ icon("star") }}`: history/icon.html rendered once per process.
    env.globals.update(icon=history_extras.icon, url=url, static=static)
    env.filters.update(FILTERS)
    return env
