"""Joining by invite through sign-up: the invite page keeps the token in the session, and
the new account joins the team as soon as it exists.

Existing accounts that log in from an invite are brought back to the invite page (its
log-in link carries ?next=) and join with one more click, so logging in never adds
anyone to a team they did not see.
"""

from allauth.account.signals import user_signed_up
from django.contrib import messages
from django.dispatch import receiver

INVITE_SESSION_KEY = "teams_invite_token"


@receiver(user_signed_up, dispatch_uid="teams-join-pending-invite")
def join_pending_invite(request, user, **kwargs) -> None:
    from . import actions
    from .models import Invite

    token = request.session.pop(INVITE_SESSION_KEY, None) if request is not None else None
    invite = Invite.objects.select_related("team").filter(token=token).first() if token else None
    if invite is None:
        return
    try:
        member = actions.accept_invite(invite, user)
    except actions.TeamError as e:
        messages.warning(request, str(e))
    else:
        messages.success(request, f"Welcome to {invite.team}: you joined as {member.get_role_display().lower()}.")
