"""Choosing how the history looks: the layout (Cards | Table) and the table's columns. Each
choice is kept for the person and the history shows it at once: with htmx the results region
is asked for again in place, without it the browser goes back to the page it came from."""

from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseLocation

from . import history
from .models import HistoryPreferences

# The history's results region (history/views.py RESULTS_TARGET), asked for again after a choice.
RESULTS = "#history-results"


def _back(request, drop_layout: bool) -> str:
    """The history page the choice was made on (never another site's); without its `layout`
    parameter once a layout was chosen, so the address shows the choice."""
    target = request.POST.get("next", "")
    if not target or not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return "/history/"
    parts = urlsplit(target)
    if not drop_layout:
        return target
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "layout"]
    return parts.path + (f"?{urlencode(query)}" if query else "")


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
