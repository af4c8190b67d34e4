"""What a saved view keeps of the history's URL: every filter JobFilter takes (whatever
filters exist: a new one in history/filters.py is kept with no change here), plus the
parameters the list reads beside the filters. Paging and the view marker are left out."""

import re
import uuid
from urllib.parse import parse_qsl, urlencode

from django.http import QueryDict

from history import search
from history.filters import JobFilter
from history.models import Job
from preferences.models import HistoryPreferences

# Read by the list beside JobFilter's filters: the order (history/sorting.py) and the layout
# (preferences). One that JobFilter takes (the order may be one of its fields) is validated
# there and left to it; one it does not take is kept when it looks like a choice (the layout
# when it is one of preferences' layouts), and the list checks it again on opening.
LIST_PARAMETERS = ("sort", "layout")
CHOICE = re.compile(r"^-?[a-z][a-z_]{0,29}$")
# The saved view opened: its code, put there by views.history_url (the tabs mark its tab by it).
MARKER = "view"
# Where one is in the list, not what one looks at.
NOT_KEPT = ("cursor", MARKER)


def kept(request, data: QueryDict) -> dict[str, str]:
    """The parameters of `data` worth keeping, checked the way the list checks them: invalid
    filters (a key no longer visible, a bad day) are left out."""
    filters = JobFilter(
        data or None, queryset=Job.objects.visible_to(request.user), request=request, min_search=search.TRIGRAM
    )
    return with_list_parameters(filters.valid_data() if filters.is_bound else {}, data)


def with_list_parameters(filters: dict[str, str], data: QueryDict) -> dict[str, str]:
    """The valid `filters` (JobFilter.valid_data()) and the list's other parameters in `data`."""
    params = dict(filters)
    for name in LIST_PARAMETERS:
        value = data.get(name, "").strip()
        if name in JobFilter.base_filters or not CHOICE.match(value):
            continue
        if name == "layout" and value not in HistoryPreferences.Layout.values:
            continue
        params[name] = value
    return {name: value for name, value in params.items() if name not in NOT_KEPT}


def marker(data: QueryDict) -> dict[str, str]:
    """The opened view's marker in `data` ({"view": its code}), for the history's own links
    (a chip's removal, the sorts) to carry on as its filter form does: without JavaScript they
    are how one filters further, and the view's tab stays the current one, offering to update
    it. Empty when there is none, or when it is not a view's code."""
    value = data.get(MARKER, "")
    try:
        return {MARKER: str(uuid.UUID(value))} if value else {}
    except ValueError:
        return {}


def normal(query: str) -> str:
    """A query string in one canonical form (pairs sorted, empty values and paging dropped),
    so the page can tell which view's parameters are on screen."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k not in NOT_KEPT]
    return urlencode(sorted(pairs))
