from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import actions
from .access import RANK, assignable_roles, can_change, can_manage, can_share, can_unshare, get_team_for_user
from .forms import AddMemberForm, InviteForm, RoleForm, ShareForm, TeamForm
from .models import Invite, Member
from .signals import INVITE_SESSION_KEY

AUDIT_LIMIT = 50
Role = Member.Role


def _members(team):
    return sorted(team.members.select_related("user"), key=lambda m: (-RANK[m.role], m.user.get_username().lower()))


def _shares(team):
    return team.shares.select_related("credential__owner", "shared_by").order_by("credential__label")


def team_list(request):
    memberships = (
        Member.objects.filter(user=request.user)
        .select_related("team")
        .annotate(member_count=Count("team__members", distinct=True), share_count=Count("team__shares", distinct=True))
        .order_by("team__name")
    )
    return render(request, "teams/list.html", {"memberships": memberships})


def team_new(request):
    form = TeamForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            team = actions.create_team(request.user, form.cleaned_data["name"])
        except actions.TeamError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, f"Team “{team}” created: you are its owner. Add members or share a key next.")
            return redirect(team)
    return render(request, "teams/new.html", {"form": form}, status=400 if form.is_bound else 200)


def team_detail(request, slug):
    team, member = get_team_for_user(request, slug)
    people = _members(team)
    context = {
        "team": team,
        "member": member,
        "members": people,
        "last_owner": member.role == Role.OWNER and sum(m.role == Role.OWNER for m in people) == 1,
        "shares": _shares(team),
        "events": team.events.all()[:AUDIT_LIMIT],
        "can_manage": can_manage(member),
        "can_share": can_share(member),
    }
    return render(request, "teams/detail.html", context)


# Pages that show an invite token (the members page lists them; an invite page has one in
# its URL) are sent with no-store, so no shared cache or back button hands one on.
@never_cache
def members(request, slug):
    team, member = get_team_for_user(request, slug, need=Role.ADMIN if request.method == "POST" else Role.VIEWER)
    roles = assignable_roles(member)
    form = AddMemberForm(request.POST or None, team=team, roles=roles)
    if request.method == "POST" and form.is_valid():
        user, role = form.cleaned_data["username"], form.cleaned_data["role"]
        try:
            actions.add_member(request.user, team, user, role)
        except actions.TeamError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, f"{user.get_username()} joined {team} as {Role(role).label.lower()}.")
            return redirect("teams:members", team.slug)
    context = {
        "team": team,
        "member": member,
        "rows": [(m, can_change(member, m)) for m in _members(team)],
        "roles": [(value, label) for value, label in Role.choices if value in roles],
        "add_form": form,
        "invite_form": InviteForm(roles=roles),
        "invites": team.invites.filter(used__isnull=True).select_related("created_by") if can_manage(member) else [],
        "can_manage": can_manage(member),
    }
    return render(request, "teams/members.html", context, status=400 if form.is_bound else 200)


def _target(request, slug, username):
    """The acting member and the member they act on, or 403 when that is not theirs to change."""
    team, member = get_team_for_user(request, slug, need=Role.ADMIN)
    target = get_object_or_404(team.members.select_related("user", "team"), user__username=username)
    if not can_change(member, target):
        raise PermissionDenied
    return member, target


@require_POST
def member_role(request, slug, username):
    member, target = _target(request, slug, username)
    form = RoleForm(request.POST, roles=assignable_roles(member))
    if not form.is_valid():
        messages.error(request, f"{username}’s role was not changed: {' '.join(form.errors['role'])}")
    else:
        role = form.cleaned_data["role"]
        try:
            changed = actions.change_role(request.user, target, role)
        except actions.TeamError as e:
            messages.error(request, str(e))
        else:
            if changed:
                messages.success(request, f"{username} is now {Role(role).label.lower()}.")
            else:
                messages.info(request, f"{username} was {Role(role).label.lower()} already.")
    return redirect("teams:members", slug)


@require_http_methods(["GET", "POST"])
def member_remove(request, slug, username):
    """GET: the confirmation page. POST: remove the member."""
    _member, target = _target(request, slug, username)
    if request.method != "POST":
        team = target.team
        context = {
            "team": team,
            "heading": f"Remove {username} from {team}?",
            "explanation": f"{username} no longer sees the team’s history, and the keys they shared with "
            f"{team} stop being shared. They can be added again later.",
            "action": f"Remove {username}",
            "back": reverse("teams:members", args=[team.slug]),
        }
        return render(request, "teams/confirm.html", context)
    try:
        actions.remove_member(request.user, target)
    except actions.TeamError as e:
        messages.error(request, str(e))
    else:
        if target.user_id == request.user.pk:
            messages.success(request, f"You left {target.team}.")
            return redirect("teams:list")
        messages.success(request, f"{username} is no longer a member of {target.team}.")
    return redirect("teams:members", slug)


@require_POST
def leave(request, slug):
    team, member = get_team_for_user(request, slug)
    try:
        actions.remove_member(request.user, member)
    except actions.TeamError as e:
        messages.error(request, str(e))
        return redirect(team)
    messages.success(request, f"You left {team}. The keys you had shared with it are no longer shared.")
    return redirect("teams:list")


def shares(request, slug):
    team, member = get_team_for_user(request, slug, need=Role.MEMBER if request.method == "POST" else Role.VIEWER)
    form = ShareForm(request.POST or None, team=team, user=request.user)
    if request.method == "POST" and form.is_valid():
        credential = form.cleaned_data["credential"]
        try:
            actions.share(request.user, team, credential)
        except actions.TeamError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, f"{team} now sees the history of “{credential.label}”, never the key itself.")
            return redirect("teams:shares", team.slug)
    rows = [(share, can_unshare(request.user, member, share)) for share in _shares(team)]
    context = {"team": team, "member": member, "rows": rows, "form": form, "can_share": can_share(member)}
    return render(request, "teams/shares.html", context, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
def share_delete(request, slug, code):
    """GET: the confirmation page. POST: stop sharing the key."""
    team, member = get_team_for_user(request, slug)
    share = get_object_or_404(team.shares.select_related("credential", "team"), credential__code=code)
    if not can_unshare(request.user, member, share):
        raise PermissionDenied
    if request.method != "POST":
        label = share.credential.label
        context = {
            "team": team,
            "heading": f"Stop sharing “{label}” with {team}?",
            "explanation": f"The members of {team} no longer see the history of “{label}”. Nothing is deleted: "
            "the key’s owner keeps its history and can share it again.",
            "action": "Stop sharing",
            "back": reverse("teams:shares", args=[team.slug]),
        }
        return render(request, "teams/confirm.html", context)
    actions.unshare(request.user, share)
    messages.success(request, f"“{share.credential.label}” is no longer shared with {team}.")
    return redirect("teams:shares", team.slug)


@require_POST
def invite_new(request, slug):
    team, member = get_team_for_user(request, slug, need=Role.ADMIN)
    form = InviteForm(request.POST, roles=assignable_roles(member))
    if form.is_valid():
        actions.create_invite(request.user, team, form.cleaned_data["role"])
        messages.success(request, "Invite link made: copy it from the list below. It works once, for 7 days.")
    else:
        messages.error(request, f"No invite link was made: {' '.join(form.errors['role'])}")
    return redirect(reverse("teams:members", args=[team.slug]) + "#invites")


@require_POST
def invite_delete(request, slug, code):
    team, _member = get_team_for_user(request, slug, need=Role.ADMIN)
    invite = get_object_or_404(team.invites.select_related("team"), code=code, used__isnull=True)
    actions.revoke_invite(request.user, invite)
    messages.success(request, "Invite link revoked: it no longer works.")
    return redirect(reverse("teams:members", args=[team.slug]) + "#invites")


@login_not_required
@never_cache
def invite(request, token):
    """An invite link. Anonymous visitors are told what it is and offered sign-up or log-in;
    the token waits in their session, and signing up joins them (teams/signals.py)."""
    invite = get_object_or_404(Invite.objects.select_related("team", "created_by"), token=token)
    user = request.user
    if user.is_authenticated and invite.team.members.filter(user=user).exists():
        request.session.pop(INVITE_SESSION_KEY, None)
        if invite.used_by_id != user.pk:
            messages.info(request, f"You are already a member of {invite.team}.")
        return redirect(invite.team)
    if not invite.usable:
        return render(request, "teams/invite.html", {"invite": invite}, status=410)
    if not user.is_authenticated:
        request.session[INVITE_SESSION_KEY] = token
        if request.method == "POST":
            return redirect(f"{reverse('account_signup')}?next={request.path}")
        return render(request, "teams/invite.html", {"invite": invite})
    if request.method == "POST":
        try:
            joined = actions.accept_invite(invite, user)
        except actions.TeamError as e:
            messages.error(request, str(e))
            return redirect("teams:list")
        request.session.pop(INVITE_SESSION_KEY, None)
        messages.success(request, f"Welcome to {joined.team}: you joined as {joined.get_role_display().lower()}.")
        return redirect(joined.team)
    return render(request, "teams/invite.html", {"invite": invite})
