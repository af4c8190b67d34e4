"""A page whose body is a Jinja2 template (config/jinja.py says which and why) in the site's
frame, templates/base.html, which stays in Django's templates with every other page."""

from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe


def render_page(request, template_name: str, context: dict, *, title: str, page_class: str = "", status: int = 200):
    # Jinja2 autoescapes what it renders (config.jinja.environment), but returns a plain str.
    body = mark_safe(render_to_string(template_name, context, request, using="jinja2"))  # noqa: S308
    frame = {"title": title, "page_class": page_class, "body": body}
    return render(request, "core/jinja_page.html", frame, status=status)
