"""Who may do what with a saved view: the one place these rules live.

- A private view (no team): its maker only, for everything; anyone else gets 404.
- A team's view: every member of the team, whatever their role, sees and opens it; members,
  admins and owners (teams.access.RANK at least "member", the rank that may share a key with
  the team) create, rename, reorder and delete the team's views, whoever made them, as they
  curate the team's history together; viewers use them only (403). Outsiders get 404.
- Who sees it (views.share), among the teams where the person may share (teams_to_share_with):
  a private view's maker may give it to such a team; whoever may edit a team's view may move it
  to another such team, its maker staying its `user`; taking it away from the team ("only me")
  is for its maker and the team's owners and admins (can_make_private), and makes it the private
  view of whoever did it.
"""

import functools

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404

from core import sql as core_sql
from teams.access import RANK
from teams.models import Member, Team

from .models import SavedView

EDITOR = Member.Role.MEMBER


def memberships(user) -> list[Member]:
    """The user's memberships with their teams (their id, name and slug; the rest deferred), by
    team name: one query, compiled once (core.sql.compiled), as every history page asks it."""
    if not user.is_authenticated:
        return []
    alias = Member.objects.db
    sql, params, slots = _memberships_statement(alias)
    members = list(Member.objects.raw(sql, core_sql.filled(params, slots, user.pk)))
    for member in members:
        member.team = Team.from_db(alias, ["id", "name", "slug"], [member.team_id, member.team_name, member.team_slug])
    return members


@functools.cache
def _memberships_statement(alias: str) -> tuple[str, tuple, frozenset[int]]:
    members = Member.objects.using(alias).filter(user_id=core_sql.STAND_IN).order_by("team__name", "team__slug")
    return core_sql.compiled(members.annotate(team_name=F("team__name"), team_slug=F("team__slug")))


def roles(user, members: list[Member] | None = None) -> dict[int, str]:
    """The user's role in each of their teams, by team id."""
    return {member.team_id: member.role for member in (memberships(user) if members is None else members)}


def can_edit(user, view: SavedView, team_roles: dict[int, str]) -> bool:
    if view.team_id is None:
        return view.user_id == user.pk
    role = team_roles.get(view.team_id)
    return role is not None and RANK[role] >= RANK[EDITOR]


def can_make_private(user, view: SavedView, team_roles: dict[int, str]) -> bool:
    """Whether "only me" may be chosen for the view (which can_edit lets the user edit)."""
    if view.team_id is None or view.user_id == user.pk:
        return True
    return team_roles.get(view.team_id) in (Member.Role.OWNER, Member.Role.ADMIN)


def teams_to_share_with(user, members: list[Member] | None = None) -> list[Team]:
    """The teams the user may save a view for, by name."""
    members = memberships(user) if members is None else members
    return [member.team for member in members if RANK[member.role] >= RANK[EDITOR]]


def get_view_for_user(request, code, *, edit: bool = False) -> SavedView:
    """The view: 404 when the requester cannot see it, 403 when `edit` and they may only use it."""
    view = get_object_or_404(SavedView.objects.visible_to(request.user).select_related("team"), code=code)
    if edit and not can_edit(request.user, view, roles(request.user)):
        raise PermissionDenied
    return view
