"""The history's search (`q`) also finds jobs by the viewer's own marks: the names of the
tags they see on them and the text of their notes.

Asked before the page is read: the viewer's matching marks are few (a person's own rows,
read through the (user, …) and (tag, job) indexes), and their jobs join the search as an OR
of ids beside the text condition. Someone whose marks match nothing gets None, and their
search is exactly everyone's: the trigram-index plan (history/search.py) is untouched."""

from django.db.models import Q

from history import search

from . import access
from .models import JobTag, Note

# Up to this many ids are sent as a list (one index lookup each); more as a subquery.
LISTED = search.RARE


def marked_jobs(user, term: str) -> Q | None:
    """The jobs whose tags (those `user` sees) or whose note (`user`'s) contain `term`,
    whatever its case, as a condition on Job ids; None when there are none. Jobs the viewer cannot see may be
    among them: the caller filters a visible queryset with them."""
    if user is None or not user.is_authenticated:
        return None
    notes = Note.objects.filter(user=user, text__icontains=term).values_list("job_id", flat=True)
    tags = access.visible_tags(user).filter(name__icontains=term).values("pk")
    tagged = JobTag.objects.filter(access.seen_links(user), tag__in=tags).values_list("job_id", flat=True)
    ids = list(notes.union(tagged)[: LISTED + 1])
    if not ids:
        return None
    return Q(pk__in=ids) if len(ids) <= LISTED else Q(pk__in=notes) | Q(pk__in=tagged)
