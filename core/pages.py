"""The site's frame (templates/jinja2/frame.html) round every page: a page whose body is a
Jinja2 template (render_page; config/jinja.py says which and why), and every page of Django's
templates, whose templates/base.html hands its blocks to the same frame (core.templatetags.frame).
Drawn by Jinja2: in Django's templates it cost the history's full page 0.8 ms."""

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

FRAME = "frame.html"


def frame(request, body: str, *, title: str, page_class: str = "", template: str = FRAME) -> str:
    """The page: `body` (safe markup) inside the frame. `request` may be None (Django's own
    500 page renders its template without one): then nobody is logged in and no message waits."""
    context = {"title": title, "page_class": page_class, "body": body}
    if request is not None:
        match = getattr(request, "resolver_match", None)
        context |= {
            "user": getattr(request, "user", None),
            "section": match.app_name if match else "",
            "messages": get_messages(request),
            # Generated when first drawn, and only then sent in the policy (LazyNonce).
            "csp_nonce": "" if (nonce := get_nonce(request)) is None else nonce,
        }
    return render_to_string(template, context, request, using="jinja2")


def render_page(
    request,
    template_name: str,
    context: dict,
    *,
    title: str,
    page_class: str = "",
    status: int = 200,
    frame_template: str = FRAME,
) -> HttpResponse:
    """A page whose body is the Jinja2 template `template_name`, in the frame (or in another:
    a job's public page has its own)."""
    # Jinja2 autoescapes what it renders (config.jinja.environment), but returns a plain str.
    body = mark_safe(render_to_string(template_name, context, request, using="jinja2"))  # noqa: S308
    page = frame(request, body, title=title, page_class=page_class, template=frame_template)
    return HttpResponse(page, status=status)


def field_group(field) -> SafeString:
    """A form's field as core/field.html draws it (label, control, help, errors), for a Jinja2
    body (config.jinja's `field_group` filter): Django's templates draw every other form's."""
    return render_to_string("core/field.html", {"field": field})
