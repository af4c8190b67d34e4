"""The tabs above the history: templates/jinja2/saved_views/tabs.html in the history's page.

Two queries per full page (the views one sees; one's teams and roles, which the history's page
has read already for its bulk bar), each compiled once, none per tab; the history's fragments
(next pages, filtering) do not render them.
"""

import functools
from itertools import groupby
from urllib.parse import urlencode

from django.urls import reverse

from core import sql as core_sql
from saved_views import access, query
from saved_views.forms import NAME_HELP, ONLY_ME, SaveForm
from saved_views.models import SavedView
from teams import naming as team_naming


@functools.cache
def _views_statement(alias: str) -> tuple[str, tuple, frozenset[int]]:
    """The views one sees (SavedView.objects.visible_to), compiled once (core.sql.compiled)."""
    views = SavedView.objects.using(alias).visible_to(core_sql.someone())
    return core_sql.compiled(views.order_by("position", "id"))


def context(request, members: list, params: dict[str, str]) -> dict:
    """The tabs' context: `members` are the person's memberships (saved_views.access.memberships,
    read by the history's page for its bulk bar too), `params` the list's valid filters."""
    user = request.user
    # The views read by a statement compiled once, each given its team from the memberships
    # rather than joined, and put in the memberships' order of teams (by name), each team's
    # by position. (A team joined since the memberships were read waits for the next page.)
    teams = {member.team_id: member.team for member in members}
    sql, stand_in_params, slots = _views_statement(SavedView.objects.db)
    views = []
    for view in SavedView.objects.raw(sql, core_sql.filled(stand_in_params, slots, user.pk)):
        if view.team_id is None or view.team_id in teams:
            view.team = teams.get(view.team_id)
            views.append(view)
    place = {team_id: n for n, team_id in enumerate(teams)}
    views.sort(key=lambda view: -1 if view.team_id is None else place[view.team_id])
    team_roles = access.roles(user, members)
    marked = request.GET.get("view", "")
    on_screen = query.normal(request.GET.urlencode())
    active = next((v for v in views if str(v.code) == marked), None) or next(
        (v for v in views if query.normal(v.query) == on_screen and on_screen), None
    )
    mine = [v for v in views if v.team_id is None]
    groups = [{"label": "Mine", "views": mine}] if mine else []
    # Two of one's teams of the same name are told apart (teams.naming).
    team_labels = team_naming.labels(teams.values())
    for team_id, team_views in groupby((v for v in views if v.team_id), key=lambda v: v.team_id):
        groups.append({"label": team_labels[team_id], "views": list(team_views)})
    prefix = reverse("saved_views:list")
    for group in groups:
        for view in group["views"]:
            view.normal_query = query.normal(view.query)
            view.url = f"{prefix}{view.code}/"  # reverse() per tab costs more than the tab
    # The list checked the filters already (`params`): only the other parameters are added.
    current = query.with_list_parameters(params, request.GET)
    form = SaveForm(user=user, members=members)
    neighbours, audiences = {}, []
    can_edit = active is not None and access.can_edit(user, active, team_roles)
    if can_edit:
        # "Who sees it": the save form's teams, and "Only me" for those who may take it there.
        audiences = [
            choice
            for choice in form.fields["shared"].choices
            if choice[0] != ONLY_ME or access.can_make_private(user, active, team_roles)
        ]
    if active is not None:
        group = next(g["views"] for g in groups if active in g["views"])
        at = group.index(active)
        neighbours = {"left": at > 0, "right": at < len(group) - 1}
    return {
        "groups": groups,
        "active": active,
        "all_active": active is None and not on_screen,
        "can_edit": can_edit,
        # "Update with what's on screen" is offered only when that is not what the view holds
        # (compared as static/js/saved_views.js compares them after htmx filtering).
        "differs": active is not None and active.normal_query != on_screen,
        "neighbours": neighbours,
        "share_choices": form.fields["shared"].choices,
        # Offered when there is a choice to make; the view's own audience comes selected.
        "audiences": audiences if len(audiences) > 1 else [],
        "audience": active.team.slug if active is not None and active.team_id else ONLY_ME,
        "only_me": ONLY_ME,
        "name_help": NAME_HELP,
        "query": urlencode(current),
    }
