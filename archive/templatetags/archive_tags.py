from django import template
from django.db.models import Count, Sum

from archive import archiver
from archive.models import ArchivedFile

register = template.Library()


@register.inclusion_tag("archive/key_card.html", takes_context=True)
def archive_card(context, credential) -> dict:
    """A key's archive on its page: the switch, its files by state, the owner's quota."""
    rows = ArchivedFile.objects.filter(job__credential=credential).values("state").order_by("state")
    by_state = {row["state"]: row for row in rows.annotate(n=Count("pk"), bytes=Sum("size"))}
    quota = archiver.user_quota()
    used = archiver.used_bytes(credential.owner_id)
    return {
        "credential": credential,
        "csrf_token": context.get("csrf_token"),
        "archived": by_state.get(ArchivedFile.State.DONE, {}).get("n", 0),
        "archived_bytes": by_state.get(ArchivedFile.State.DONE, {}).get("bytes") or 0,
        "waiting": sum(
            by_state.get(s, {}).get("n", 0) for s in (ArchivedFile.State.PENDING, ArchivedFile.State.FETCHING)
        ),
        "failed": by_state.get(ArchivedFile.State.FAILED, {}).get("n", 0),
        "gone": by_state.get(ArchivedFile.State.GONE, {}).get("n", 0),
        "full": by_state.get(ArchivedFile.State.FULL, {}).get("n", 0),
        "quota": quota,
        "used": used,
        "percent": min(100, round(used * 100 / quota)) if quota else 0,
    }
