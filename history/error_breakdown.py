"""The failed count broken down by error message: "12 × Internal Error…", the commonest few
among the failed jobs the list shows, each a link to the list filtered to that message.

One GROUP BY over the filtered failed jobs, on full page loads only and kept as briefly as
the facet counts (history.dashboard.cached): failed jobs are a small share of a history, and
they are read through the (key, status, …) index.
"""

from django.db.models import Count
from django.utils.text import Truncator

from .dashboard import cached
from .filters import JobFilter
from .models import Job
from .sorting import list_url

TOP = 5
# A message is shown cut to this many characters (the link filters by the whole of it).
SHORT = 60


def short(message: str) -> str:
    return Truncator(" ".join(message.split())).chars(SHORT)


def top_errors(filters: JobFilter, user, params: dict[str, str]) -> list[dict]:
    """The TOP commonest messages of the filtered failed jobs, commonest first (ties by
    message): {message, short, count, url}. The urls keep `params` (what the list's links
    keep: the filters, a layout, the saved view opened)."""

    def compute():
        failed = filters.qs.filter(status=Job.Status.FAILED).exclude(error="")
        counted = failed.values_list("error").annotate(n=Count("id")).order_by("-n", "error")
        return list(counted[:TOP])

    kept = {name: value for name, value in params.items() if name != "cursor"}
    return [
        {
            "message": message,
            "short": short(message),
            "count": n,
            "url": list_url({**kept, "status": Job.Status.FAILED, "error": message}),
        }
        for message, n in cached(user, "errors", filters, compute)
    ]
