"""`{% frame %}`: templates/base.html hands the blocks of a page of Django's templates (its
title, its class, its content) to the site's frame, which Jinja2 draws (core.pages.frame).

    {% frame %}{% block title %}…{% endblock %}{% frame_class %}{% block page_class %}…{% endblock %}
    {% frame_main %}{% block main %}…{% endblock %}{% endframe %}

The blocks stay blocks: a page that extends base.html fills them as it always has."""

from django import template

from core import pages

register = template.Library()


class FrameNode(template.Node):
    # Where {% extends %} finds the blocks a page fills.
    child_nodelists = ("title", "page_class", "main")

    def __init__(self, title, page_class, main):
        self.title, self.page_class, self.main = title, page_class, main

    def render(self, context):
        return pages.frame(
            context.get("request"),
            self.main.render(context),
            title=self.title.render(context).strip(),
            page_class=self.page_class.render(context).strip(),
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
