"""Each person's choices about the history, saved by small POSTs from the history page. Each
answers htmx with what the page swaps in, and a browser without script with a redirect back
to the page it came from (the `next` field)."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .forms import DismissForm, StripForm
from .models import HistoryPreferences


def _back(request):
    """The page the form was on, when it is one of ours; else the history."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("history:list")


def _save(user, **fields) -> None:
    HistoryPreferences.objects.update_or_create(user=user, defaults=fields)


@require_POST
def strip(request):
    """Fold the 30-day strip away, or unfold it. htmx follows the redirect with its own
    headers (HX-Target: dash), and the history answers with the strip alone."""
    form = StripForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Bad request: folded must be 0 or 1.", content_type="text/plain; charset=utf-8")
    _save(request.user, strip_folded=form.cleaned_data["folded"])
    return _back(request)


@require_POST
def dismiss_notices(request):
    """Hide the summary line of keys and syncs until what needs action changes: the digest
    is the one the page showed, so a change that arrived meanwhile still shows."""
    form = DismissForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Bad request: no notices to dismiss.", content_type="text/plain; charset=utf-8")
    _save(request.user, dismissed_notices=form.cleaned_data["digest"])
    if request.htmx:
        return HttpResponse(status=204)  # the page hides the line itself (static/js/notices.js)
    return _back(request)
