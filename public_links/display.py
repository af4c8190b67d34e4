"""What a job's public page shows of its media: the job page's outputs (history.presentation.media),
with every archived file served through the link's own file route instead of /files/<id>/
(which needs a log-in). The original upload of a denoise job (an input) is left out: the
public page shows what the job made."""

from django.urls import reverse

from archive.display import files_of
from history.presentation import media

from .models import PublicLink


def public_media(link: PublicLink) -> dict:
    job = link.job
    m = media(job)
    ours = {
        archived.get_absolute_url(): reverse("public_links:file", args=[link.token, archived.code])
        for archived in files_of(job)
    }
    for item in m["tracks"] + m["images"]:
        for key in ("url", "src", "archived_url"):
            if item.get(key) in ours:
                item[key] = ours[item[key]]
        item.pop("ref", None)  # the provider's track id: nothing a listener needs
    m["before"] = []
    return m
