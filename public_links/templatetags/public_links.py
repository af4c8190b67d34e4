"""The owner's "Public link" card on a job's page: `{% public_link_card %}` in
templates/history/detail.html (one query, for the key's owner only)."""

from django import template

from public_links.models import PublicLink

register = template.Library()


@register.inclusion_tag("public_links/card.html", takes_context=True)
def public_link_card(context) -> dict:
    request, job = context["request"], context["job"]
    if job.credential.owner_id != request.user.pk:
        return {"show": False}
    link = PublicLink.objects.filter(job=job).first()
    return {
        "show": True,
        "job": job,
        "link": link,
        "url": request.build_absolute_uri(link.path) if link else "",
        "csrf_token": context.get("csrf_token"),
    }
