"""Who may do what with a team or a shared job: the one place these rules live.

Roles, strongest first: owner, admin, member, viewer. Outsiders get 404 (a team's
existence is not revealed), read-only members get 403.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from .models import Member, Team

RANK = {Member.Role.OWNER: 3, Member.Role.ADMIN: 2, Member.Role.MEMBER: 1, Member.Role.VIEWER: 0}


def get_team_for_user(request, slug: str, *, need: str = Member.Role.VIEWER) -> tuple[Team, Member]:
    """The team and the requester's membership: 404 for outsiders, 403 below the `need`ed role."""
    member = get_object_or_404(Member.objects.select_related("team", "user"), team__slug=slug, user=request.user)
    if RANK[member.role] < RANK[need]:
        raise PermissionDenied
    return member.team, member


REFRESH_ROLES = [Member.Role.OWNER, Member.Role.ADMIN, Member.Role.MEMBER]


def can_refresh(user, job, roles: Iterable[str] | None = None) -> bool:
    """ "Refresh now": the key's owner, or a member (not a viewer) of a team it is shared with.
    `roles`: the person's roles in the teams the key is shared with, when the caller read them
    already (annotations.access.roles_seeing); or the key's `refreshable`, when it was read
    for this person with refreshes_key() (history.views.visible_keys); else one query."""
    if not user.is_authenticated:
        return False
    if job.credential.owner_id == user.pk:
        return True
    if roles is not None:
        return any(role in REFRESH_ROLES for role in roles)
    if (known := getattr(job.credential, "refreshable", None)) is not None:
        return bool(known)  # read with the key (refreshes_key)
    return _refreshing_members(user.pk, job.credential_id).exists()


def refreshes_key(user_id) -> Q:
    """can_refresh()'s rule as a condition on a key (a Credential row): its owner, or a member
    (not a viewer) of a team it is shared with; for a statement that reads the keys anyway
    (history.views.visible_keys)."""
    return Q(owner_id=user_id) | Exists(_refreshing_members(user_id, OuterRef("pk")))


def _refreshing_members(user_id, credential):
    """The person's memberships, with a role that may refresh, of teams the key is shared with."""
    return Member.objects.filter(user_id=user_id, team__shares__credential_id=credential, role__in=REFRESH_ROLES)


def can_act(user, job) -> bool:
    """Provider actions that cost or delete (retry, delete, rename): the key's owner only."""
    return user.is_authenticated and job.credential.owner_id == user.pk


# --- Team management: what a member may do to the team, its members and its shares --------


def can_manage(member: Member) -> bool:
    """Add, invite, re-role and remove members: owners and admins."""
    return RANK[member.role] >= RANK[Member.Role.ADMIN]


def can_share(member: Member) -> bool:
    """Share one's own keys with the team: everyone but viewers."""
    return RANK[member.role] >= RANK[Member.Role.MEMBER]


def assignable_roles(member: Member) -> list[str]:
    """The roles this member may give others (and put on invite links): only owners make owners."""
    if member.role == Member.Role.OWNER:
        return list(Member.Role.values)
    if can_manage(member):
        return [role for role in Member.Role.values if role != Member.Role.OWNER]
    return []


def can_change(actor: Member, target: Member) -> bool:
    """Change the role of, or remove, `target`: managers may, but only owners touch owners."""
    if not can_manage(actor):
        return False
    return target.role != Member.Role.OWNER or actor.role == Member.Role.OWNER


def can_unshare(user, member: Member, share) -> bool:
    """Stop sharing a key: the key's owner, or the team's owners and admins."""
    return share.credential.owner_id == user.pk or can_manage(member)


def is_last_owner(target: Member) -> bool:
    """True when `target` is the team's only owner (it must stay one, and stay).

    Call it inside transaction.atomic(): the owners' rows are locked, so two owners
    demoting each other at once cannot leave the team without one.
    """
    if target.role != Member.Role.OWNER:
        return False
    owners = Member.objects.select_for_update().filter(team_id=target.team_id, role=Member.Role.OWNER)
    return list(owners.values_list("pk", flat=True)) == [target.pk]
