"""What changes a team, each with its audit event, in one short transaction.

The views decide who may do it (teams/access.py); these functions keep the team whole
(one owner at least, one row per person) and raise TeamError with a message for people
when a change cannot be made.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from . import access, audit
from .models import Invite, Member, Share, Team

# Team pages live at /teams/<slug>/: these would collide with /teams/new/ and /teams/invite/….
RESERVED_SLUGS = {"new", "invite"}
SLUG_BASE_MAX = 100


class TeamError(Exception):
    """A change that would break a rule; str() is the message to show."""


def unique_slug(name: str) -> str:
    """The name as a slug ("team" when nothing is left of it), made unique with a suffix."""
    base = slugify(name)[:SLUG_BASE_MAX].strip("-") or "team"
    taken = RESERVED_SLUGS | set(Team.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_team(user, name: str) -> Team:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                team = Team.objects.create(name=name, slug=unique_slug(name))
                Member.objects.create(team=team, user=user, role=Member.Role.OWNER)
                audit.record(user, audit.Verb.TEAM_CREATE, team=team, subject=name)
                return team
        except IntegrityError:
            continue  # someone took the same slug a moment ago: pick the next one
    raise TeamError("Could not create the team just now. Try again.")


def add_member(actor, team: Team, user, role: str) -> Member:
    try:
        with transaction.atomic():
            member = Member.objects.create(team=team, user=user, role=role)
            audit.record(actor, audit.Verb.MEMBER_ADD, team=team, subject=f"{user.get_username()} ({role})")
    except IntegrityError:
        raise TeamError(f"{user.get_username()} is already a member of {team}.") from None
    return member


def change_role(actor, target: Member, role: str) -> bool:
    """Give `target` another role; False when it already had it."""
    with transaction.atomic():
        if target.role == role:
            return False
        if role != Member.Role.OWNER and access.is_last_owner(target):
            raise TeamError(f"{target.user.get_username()} is the team’s only owner: make someone else owner first.")
        old = target.role
        target.role = role
        target.save(update_fields=["role"])
        audit.record(
            actor, audit.Verb.MEMBER_ROLE, team=target.team, subject=f"{target.user.get_username()}: {old} → {role}"
        )
    return True


def remove_member(actor, target: Member) -> None:
    """Take `target` out of the team (they leave when `actor` is themselves). The keys they
    shared stop being shared: nobody left in the team could take them back otherwise."""
    leaving = actor.pk == target.user_id
    with transaction.atomic():
        if access.is_last_owner(target):
            raise TeamError(
                "You are the team’s only owner: make someone else owner before you leave."
                if leaving
                else f"{target.user.get_username()} is the team’s only owner and cannot be removed."
            )
        shares = Share.objects.filter(team_id=target.team_id, credential__owner_id=target.user_id)
        for share in shares.select_related("credential"):
            unshare(actor, share)
        target.delete()
        if leaving:
            audit.record(actor, audit.Verb.MEMBER_LEAVE, team=target.team)
        else:
            audit.record(actor, audit.Verb.MEMBER_REMOVE, team=target.team, subject=target.user.get_username())


def share(actor, team: Team, credential) -> Share:
    try:
        with transaction.atomic():
            created = Share.objects.create(team=team, credential=credential, shared_by=actor)
            audit.record(actor, audit.Verb.SHARE_ADD, team=team, subject=audit.describe_key(credential, last4=False))
    except IntegrityError:
        raise TeamError(f"“{credential.label}” is already shared with {team}.") from None
    return created


def unshare(actor, share: Share) -> None:
    with transaction.atomic():
        share.delete()
        audit.record(
            actor, audit.Verb.SHARE_REMOVE, team=share.team, subject=audit.describe_key(share.credential, last4=False)
        )


def create_invite(actor, team: Team, role: str) -> Invite:
    with transaction.atomic():
        invite = Invite.objects.create(team=team, role=role, created_by=actor)
        audit.record(actor, audit.Verb.INVITE_CREATE, team=team, subject=role)
    return invite


def revoke_invite(actor, invite: Invite) -> None:
    with transaction.atomic():
        invite.delete()
        audit.record(actor, audit.Verb.INVITE_REVOKE, team=invite.team, subject=invite.role)


def accept_invite(invite: Invite, user) -> Member:
    """Join with the invite's role. The invite is claimed with a conditional UPDATE, so a
    link used twice at the same moment still lets in one person."""
    already = TeamError(f"You are already a member of {invite.team}.")
    try:
        with transaction.atomic():
            if Member.objects.filter(team_id=invite.team_id, user=user).exists():
                raise already
            now = timezone.now()
            unused = Invite.objects.filter(pk=invite.pk, used__isnull=True, expires__gt=now)
            if not unused.update(used=now, used_by=user):
                raise TeamError("This invite link has expired or was already used. Ask for a new one.")
            member = Member.objects.create(team_id=invite.team_id, user=user, role=invite.role)
            audit.record(user, audit.Verb.INVITE_JOIN, team=invite.team, subject=invite.role)
    except IntegrityError:
        raise already from None  # added by someone else a moment ago; the invite stays unused
    return member
