"""What a saved view keeps of the history's URL: every filter JobFilter takes (whatever
filters exist: a new one in history/filters.py is kept with no change here), plus the
parameters the list reads beside the filters. Paging and the view marker are left out."""

import re
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
# Where one is in the list, not what one looks at.
NOT_KEPT = ("cursor", "view")


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


def normal(query: str) -> str:
    """A query string in one canonical form (pairs sorted, empty values and paging dropped),
    so the page can tell which view's parameters are on screen."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k not in NOT_KEPT]
    return urlencode(sorted(pairs))
