"""Saved views: open one (the history with its parameters), save the current parameters as a
new one or into the one opened (update), rename, move left or right among its group's tabs,
change who sees it (share), delete. Who may: access.py."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from teams.models import Team

from . import query
from .access import can_make_private, get_view_for_user, roles
from .forms import QueryForm, RenameForm, SaveForm, ShareForm
from .models import SavedView

LIST = "/history/"


def history_url(view: SavedView) -> str:
    """The history with the view's parameters, its tab marked active by `view`."""
    return f"{LIST}?{urlencode([*QueryDict(view.query).items(), ('view', str(view.code))])}"


@require_safe
def to_history(request):
    """/history/views/ itself: the views are the history's tabs."""
    return redirect(LIST)


@require_safe
def open_view(request, code):
    """A view's own address sends to the history with its parameters: the history stays the
    one page that lists jobs, and its address bar shows what the view holds. Each parameter
    is checked again there: one naming a key or team no longer shared is a filter the list
    says it ignored."""
    return redirect(history_url(get_view_for_user(request, code)))


def _form_errors(form) -> str:
    return " ".join(error for errors in form.errors.values() for error in errors)


def _at_limit(user, *, besides: SavedView | None = None) -> bool:
    """Whether `user` keeps SavedView.LIMIT views already (`besides` left out), counted under
    a lock on their row so that two requests at once cannot pass the limit. In a transaction."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    views = SavedView.objects.filter(user=user)
    if besides is not None:
        views = views.exclude(pk=besides.pk)
    return views.count() >= SavedView.LIMIT


def _end_of_group(*, team: Team | None, user_id: int) -> int:
    """The place after the last view of a group (the team's, or the person's private ones),
    read under a lock on the row the group hangs on, the team's or the person's: two saves into
    one group at once (two members saving for their team) take one place each, and an empty
    group has a row to lock too. In a transaction.

    FOR NO KEY UPDATE on PostgreSQL: saves into the group wait for each other, while rows that
    only point at the team or person (a member added, a key shared) are not held up. SQLite
    has no row locks: its transactions here are IMMEDIATE (config/settings.py), one writer at
    a time."""
    anchor = Team.objects.filter(pk=team.pk) if team else get_user_model().objects.filter(pk=user_id)
    anchor.select_for_update(no_key=True).first()
    return SavedView.objects.group(team=team, user=user_id).next_position()


def _renumber(group: list[SavedView]) -> None:
    """Positions 0, 1, 2… in the list's order, saving only the views whose place changed."""
    for position, view in enumerate(group):
        if view.position != position:
            view.position = position
            view.save(update_fields=["position"])


@require_POST
def create(request):
    form = SaveForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, f"The view was not saved. {_form_errors(form)}")
        back = query.normal(form.data.get("query", ""))  # re-encoded: only what a URL may hold
        return redirect(LIST + (f"?{back}" if back else ""))
    params = query.kept(request, QueryDict(form.cleaned_data["query"]))
    team = form.cleaned_data["shared"]
    with transaction.atomic():
        if _at_limit(request.user):
            messages.error(
                request,
                f"You keep {SavedView.LIMIT} saved views, the most one person can: delete one to save another.",
            )
            return redirect(LIST + (f"?{urlencode(params)}" if params else ""))
        view = SavedView.objects.create(
            user=request.user,
            team=team,
            name=form.cleaned_data["name"],
            query=urlencode(params),
            position=_end_of_group(team=team, user_id=request.user.pk),
        )
    where = f"the team {team.name}" if team else "you only"
    messages.success(request, f"Saved the view “{view.name}”, for {where}.")
    return redirect(view)


@require_POST
def rename(request, code):
    view = get_view_for_user(request, code, edit=True)
    form = RenameForm(request.POST)
    if form.is_valid():
        view.name = form.cleaned_data["name"]
        view.save(update_fields=["name", "updated"])
        messages.success(request, f"Renamed the view “{view.name}”.")
    else:
        messages.error(request, f"Not renamed. {_form_errors(form)}")
    return redirect(view)


@require_POST
def update(request, code):
    """Keep the history's current parameters as the view's own, checked as `create` checks
    them (invalid filters left out). Whoever may rename the view may update it."""
    view = get_view_for_user(request, code, edit=True)
    form = QueryForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The view was not updated. {_form_errors(form)}")
        return redirect(view)
    params = urlencode(query.kept(request, QueryDict(form.cleaned_data["query"])))
    if query.normal(params) == query.normal(view.query):
        messages.info(request, f"The view “{view.name}” already shows this: nothing to update.")
        return redirect(view)
    view.query = params
    view.save(update_fields=["query", "updated"])
    messages.success(request, f"Updated the view “{view.name}”.")
    return redirect(view)


@require_POST
def move(request, code):
    """One place left (`direction=left`) or right among its group's tabs: the two neighbours
    swap places. The group is renumbered 0, 1, 2… under a lock, so concurrent moves keep
    every tab in one place."""
    view = get_view_for_user(request, code, edit=True)
    step = {"left": -1, "right": 1}.get(request.POST.get("direction", ""))
    if step is None:
        messages.error(request, "Move it left or right.")
        return redirect(view)
    with transaction.atomic():
        group = list(view.group().select_for_update().order_by("position", "id"))
        at = next(i for i, other in enumerate(group) if other.pk == view.pk)
        if 0 <= at + step < len(group):
            group[at], group[at + step] = group[at + step], group[at]
        _renumber(group)
    return redirect(view)


@require_POST
def share(request, code):
    """Who sees the view (`shared`: forms.ONLY_ME or a team's slug): it goes to the end of its
    new group's tabs, and the group it leaves is renumbered 0, 1, 2…. Taken from a team for
    "only me", it becomes the private view of whoever took it, within their limit."""
    view = get_view_for_user(request, code, edit=True)
    form = ShareForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, f"Who sees “{view.name}” was not changed. {_form_errors(form)}")
        return redirect(view)
    team = form.cleaned_data["shared"]
    if team is None and not can_make_private(request.user, view, roles(request.user)):
        raise PermissionDenied
    owner = view.user_id if team else request.user.pk
    where = f"shared with {team.name}" if team else "yours only"
    if (view.team_id, view.user_id) == (team and team.pk, owner):
        messages.info(request, f"“{view.name}” is {where} already: nothing changed.")
        return redirect(view)
    with transaction.atomic():
        if team is None and _at_limit(request.user, besides=view):
            messages.error(
                request,
                f"You keep {SavedView.LIMIT} saved views, the most one person can: "
                f"delete one to keep “{view.name}” for yourself.",
            )
            return redirect(view)
        # The group it leaves, locked as `move` locks it. A view no longer there was moved or
        # deleted since it was read: the rules above were checked on its old place.
        group = list(view.group().select_for_update().order_by("position", "id"))
        if view.pk not in {other.pk for other in group}:
            messages.error(request, f"“{view.name}” was moved or deleted meanwhile: nothing changed.")
            return redirect(LIST)
        _renumber([other for other in group if other.pk != view.pk])
        view.team, view.user_id = team, owner
        view.position = _end_of_group(team=team, user_id=owner)
        view.save(update_fields=["team", "user", "position", "updated"])
    messages.success(request, f"“{view.name}” is now {where}.")
    return redirect(view)


@require_http_methods(["GET", "POST"])
def delete(request, code):
    """GET: the confirmation page. POST: delete it (the jobs it shows stay, of course)."""
    view = get_view_for_user(request, code, edit=True)
    if request.method != "POST":
        return render(request, "saved_views/delete.html", {"view": view})
    view.delete()
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect(LIST)
