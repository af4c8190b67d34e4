"""Where a form sends the browser back to: the `next` field it posted, when it is one of ours."""

from django.utils.http import url_has_allowed_host_and_scheme


def posted_next(request) -> str:
    """The POSTed `next` when it is a URL of this site (never another's: an open redirect),
    else ""."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""
