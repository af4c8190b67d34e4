"""`{% star_button job starred title %}`: the star toggle in Django's templates (the job page's
marks panel). The toggle is a Jinja2 template, templates/jinja2/annotations/star.html, since
the history's rows (Jinja2, config/jinja.py) draw it too: one markup for both."""

from django import template
from django.template import engines
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def star_button(context, job, starred: bool, title: str) -> SafeString:
    toggle = engines["jinja2"].get_template("annotations/star.html")
    html = toggle.render({"job": job, "starred": starred, "title": title}, request=context["request"])
    return mark_safe(html)  # noqa: S308 (rendered by Jinja2 with autoescaping)
