"""Each person's choices about how the history looks, saved by small POSTs from the history
page: the layout (Cards | Table) and the table's columns, the folded 30-day strip, and the
dismissed summary line. Each is kept for the person and shown at once: with htmx the page
swaps in what changed, without script the browser goes back to the page it came from (the
`next` field, when it is one of ours)."""

from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseLocation

from core.redirects import posted_next

from . import history
from .forms import DismissForm, StripForm
from .models import HistoryPreferences

# The history's results region (history/views.py RESULTS_TARGET), asked for again after a choice.
RESULTS = "#history-results"


def _back(request, drop_layout: bool = False) -> str:
    """The history page the choice was made on (never another site's); without its `layout`
    parameter once a layout was chosen, so the address shows the choice."""
    target = posted_next(request)
    if not target:
        return "/history/"
    parts = urlsplit(target)
    if not drop_layout:
        return target
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "layout"]
    return parts.path + (f"?{urlencode(query)}" if query else "")


def _save(user, **fields) -> None:
    HistoryPreferences.objects.update_or_create(user=user, defaults=fields)


@require_POST
def history_preferences(request):
    """POST `layout` (cards | table), or the Columns menu: `order` (every column id in the
    menu's order), `columns` (the ticked ones) and optionally `move` ("up:<id>" or "down:<id>")."""
    prefs = HistoryPreferences.for_user(request.user)
    layout = request.POST.get("layout")
    if layout is not None:
        if layout not in history.LAYOUTS:
            return HttpResponse("Choose the cards or the table layout.", status=400, content_type="text/plain")
        prefs.layout = layout
    if "order" in request.POST:
        order, unknown = history.clean_columns(request.POST.getlist("order"))
        ticked, more_unknown = history.clean_columns(request.POST.getlist("columns"))
        order = history.moved(order + [c for c in ticked if c not in order], request.POST.get("move", ""))
        prefs.columns = [c for c in order if c in ticked]
        dropped = sorted(set(unknown + more_unknown))
        if dropped:
            names = ", ".join(f"“{c}”" for c in dropped)
            messages.warning(request, f"Unknown column{'s' if len(dropped) > 1 else ''} left out: {names}.")
    prefs.save()
    target = _back(request, drop_layout=layout is not None)
    if request.htmx:
        # The results region asked for again, in place (its answer says which address to show).
        return HttpResponseLocation(target, target=RESULTS, swap="outerHTML")
    return redirect(target)


@require_POST
def strip(request):
    """Fold the 30-day strip away, or unfold it. htmx follows the redirect with its own
    headers (HX-Target: dash), and the history answers with the strip alone."""
    form = StripForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Bad request: folded must be 0 or 1.", content_type="text/plain; charset=utf-8")
    _save(request.user, strip_folded=form.cleaned_data["folded"])
    return redirect(_back(request))


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
    return redirect(_back(request))
