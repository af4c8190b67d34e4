"""Who may do what with a team or a shared job: the one place these rules live.

Roles, strongest first: owner, admin, member, viewer. Outsiders get 404 (a team's
existence is not revealed), read-only members get 403.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Member, Team

RANK = {Member.Role.OWNER: 3, Member.Role.ADMIN: 2, Member.Role.MEMBER: 1, Member.Role.VIEWER: 0}


def get_team_for_user(request, slug: str, *, need: str = Member.Role.VIEWER) -> tuple[Team, Member]:
    """The team and the requester's membership: 404 for outsiders, 403 below the `need`ed role."""
    member = get_object_or_404(Member.objects.select_related("team", "user"), team__slug=slug, user=request.user)
    if RANK[member.role] < RANK[need]:
        raise PermissionDenied
    return member.team, member


def can_refresh(user, job) -> bool:
    """ "Refresh now": the key's owner, or a member (not a viewer) of a team it is shared with."""
    if not user.is_authenticated:
        return False
    if job.credential.owner_id == user.pk:
        return True
    return Member.objects.filter(
        user=user,
        team__shares__credential_id=job.credential_id,
        role__in=[Member.Role.OWNER, Member.Role.ADMIN, Member.Role.MEMBER],
    ).exists()


def can_act(user, job) -> bool:
    """Provider actions that cost or delete (retry, delete, rename): the key's owner only."""
    return user.is_authenticated and job.credential.owner_id == user.pk
