"""The Jinja2 environment of the history's rows: TEMPLATES' second engine, templates/jinja2/.

The rows are the one markup rendered by the thousand (50 a page, none cached yet on a first
scroll): Django's template engine spent about 0.3 ms a row on them, three quarters of such a
page's CPU (bench/pages_bench.py --cold-rows). Jinja2 compiles a template to Python code and
renders the same row in a fraction of that. Every other page stays in Django's templates.
"""

from jinja2 import Environment

from history.templatetags.history_extras import icon


def environment(**options) -> Environment:
    # Django's backend asks for autoescaping already; nothing here may ever render without it.
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    # The icons, as `{{ icon("star") }}`: history/icon.html rendered once per process.
    env.globals["icon"] = icon
    return env
