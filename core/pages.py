"""A page whose body is a Jinja2 template (config/jinja.py says which and why) in the site's
frame, templates/base.html, which stays in Django's templates with every other page (or in
another frame: a job's public page has its own)."""

from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe


def render_page(
    request,
    template_name: str,
    context: dict,
    *,
    title: str,
    page_class: str = "",
    status: int = 200,
    frame: str = "core/jinja_page.html",
):
    # Jinja2 autoescapes what it renders (config.jinja.environment), but returns a plain str.
    body = mark_safe(render_to_string(template_name, context, request, using="jinja2"))  # noqa: S308
    return render(request, frame, {"title": title, "page_class": page_class, "body": body}, status=status)


def field_group(field) -> SafeString:
    """A form's field as core/field.html draws it (label, control, help, errors), for a Jinja2
    body (config.jinja's `field_group` filter): Django's templates draw every other form's."""
    return render_to_string("core/field.html", {"field": field})
