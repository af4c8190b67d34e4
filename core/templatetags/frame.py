"""`{% frame %}`: templates/base.html hands the blocks of a page of Django's templates (its
title, its class, its content) to the site's frame, which Jinja2 draws (core.pages.frame).

    {% frame %}{% block title %}…{% endblock %}{% frame_class %}{% block page_class %}…{% endblock %}
    {% frame_main %}{% block main %}…{% endblock %}{% endframe %}

The blocks stay blocks: a page that extends base.html fills them as it always has."""

from django import template
from django.utils.safestring import mark_safe

from core import pages

register = template.Library()


class FrameNode(template.Node):
    # Where {% extends %} finds the blocks a page fills.
    child_nodelists = ("title", "page_class", "main")

    def __init__(self, title, page_class, main):
        self.title, self.page_class, self.main = title, page_class, main

    def render(self, context):
        # Each block comes out of Django's engine escaped already: marked so (str.strip()
        # returns a plain str), or Jinja2 would escape it a second time.
        return pages.frame(
            context.get("request"),
            self.main.render(context),
            title=mark_safe(self.title.render(context).strip()),  # noqa: S308
            page_class=mark_safe(self.page_class.render(context).strip()),  # noqa: S308
        )


@register.tag
def frame(parser, token):
    title = parser.parse(("frame_class",))
    parser.delete_first_token()
    page_class = parser.parse(("frame_main",))
    parser.delete_first_token()
    main = parser.parse(("endframe",))
    parser.delete_first_token()
    return FrameNode(title, page_class, main)
