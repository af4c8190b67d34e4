"""Who may do what with a saved view: the one place these rules live.

- A private view (no team): its maker only, for everything; anyone else gets 404.
- A team's view: every member of the team, whatever their role, sees and opens it; members,
  admins and owners (teams.access.RANK at least "member", the rank that may share a key with
  the team) create, rename, reorder and delete the team's views, whoever made them, as they
  curate the team's history together; viewers use them only (403). Outsiders get 404.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from teams.access import RANK
from teams.models import Member, Team

from .models import SavedView

EDITOR = Member.Role.MEMBER


def roles(user) -> dict[int, str]:
    """The user's role in each of their teams, by team id (one query)."""
    if not user.is_authenticated:
        return {}
    return dict(Member.objects.filter(user=user).values_list("team_id", "role"))


def can_edit(user, view: SavedView, team_roles: dict[int, str]) -> bool:
    if view.team_id is None:
        return view.user_id == user.pk
    role = team_roles.get(view.team_id)
    return role is not None and RANK[role] >= RANK[EDITOR]


def teams_to_share_with(user):
    """The teams the user may save a view for."""
    ranks = [role for role, rank in RANK.items() if rank >= RANK[EDITOR]]
    return Team.objects.filter(members__user=user, members__role__in=ranks).order_by("name", "slug")


def get_view_for_user(request, code, *, edit: bool = False) -> SavedView:
    """The view: 404 when the requester cannot see it, 403 when `edit` and they may only use it."""
    view = get_object_or_404(SavedView.objects.visible_to(request.user).select_related("team"), code=code)
    if edit and not can_edit(request.user, view, roles(request.user)):
        raise PermissionDenied
    return view
