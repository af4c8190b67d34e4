"""Saved views: the role × view matrix (a person's private views, a team's views), saving the
history's parameters, updating a view with them, changing who sees one, the tabs, order, the
per-person limit, and views whose filters broke."""

import html
import re
import threading
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from history import views as history_views
from saved_views.models import SavedView
from teams.models import Member, Share, Team
from tests.factories import make_credential
from tests.test_team_access import make_job

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "viewer", "outsider", "anonymous"]
LOGIN = "/accounts/login/"


@pytest.fixture
def world(django_user_model, alice, bob, carol):
    """Team "Studio": alice owner, dave admin, erin member, bob viewer; carol outside. Alice
    shares a key with the team. Team "Label": the four of them members. Views: alice's private
    "Mine only", the team's "Failed songs" (made by erin) and "Newest" (made by alice)."""
    dave = django_user_model.objects.create_user("dave", "dave@example.test", "dave-pass-2026")
    erin = django_user_model.objects.create_user("erin", "erin@example.test", "erin-pass-2026")
    team = Team.objects.create(name="Studio", slug="studio")
    users = {"owner": alice, "admin": dave, "member": erin, "viewer": bob, "outsider": carol, "anonymous": None}
    label = Team.objects.create(name="Label", slug="label")
    for role in ("owner", "admin", "member", "viewer"):
        Member.objects.create(team=team, user=users[role], role=role)
        Member.objects.create(team=label, user=users[role], role="member")
    key = make_credential(alice, "apimall", label="Alice API Mall", secret="sk-views-canary-1234")
    Share.objects.create(team=team, credential=key, shared_by=alice)
    for user in users.values():
        if user:
            make_job(make_credential(user, "munsit", label=f"{user} own"), f"own-{user}", title=f"{user}'s own job")
    make_job(key, "f-1", title="A failed song", status="failed")
    make_job(key, "s-1", title="A good song")
    return {
        "team": team,
        "label": label,
        "users": users,
        "key": key,
        "private": SavedView.objects.create(user=alice, name="Mine only", query="kind=denoise", position=0),
        "team_view": SavedView.objects.create(
            user=erin, team=team, name="Failed songs", query="status=failed", position=0
        ),
        "team_view_2": SavedView.objects.create(user=alice, team=team, name="Newest", query="", position=1),
    }


def client_for(client, world, role):
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


def snapshot():
    return sorted(SavedView.objects.values_list("name", "team__slug", "user__username", "position", "query"))


# Each case: name, method, path, POST data, the status for each of
#   owner admin member viewer outsider anonymous
# and the roles whose request changes something (everyone else's must change nothing).
CASES = [
    ("open private", "get", "/history/views/{private}/", None, "302 404 404 404 404 302", ""),
    ("open team view", "get", "/history/views/{team_view}/", None, "302 302 302 302 404 302", ""),
    ("create private", "post", "/history/views/new/", {"name": "Mine", "query": "status=failed", "shared": "_me"}, "302 302 302 302 302 302", "owner admin member viewer outsider"),  # noqa: E501
    ("create for the team", "post", "/history/views/new/", {"name": "Team", "shared": "studio"}, "302 302 302 302 302 302", "owner admin member"),  # noqa: E501
    ("rename private", "post", "/history/views/{private}/rename/", {"name": "Renamed"}, "302 404 404 404 404 302", "owner"),  # noqa: E501
    ("rename team view", "post", "/history/views/{team_view}/rename/", {"name": "Renamed"}, "302 302 302 403 404 302", "owner admin member"),  # noqa: E501
    ("update private", "post", "/history/views/{private}/update/", {"query": "kind=audio"}, "302 404 404 404 404 302", "owner"),  # noqa: E501
    ("update team view", "post", "/history/views/{team_view}/update/", {"query": "status=succeeded"}, "302 302 302 403 404 302", "owner admin member"),  # noqa: E501
    ("update by GET", "get", "/history/views/{team_view}/update/", None, "405 405 405 405 405 302", ""),
    ("move team view", "post", "/history/views/{team_view}/move/", {"direction": "right"}, "302 302 302 403 404 302", "owner admin member"),  # noqa: E501
    ("move private", "post", "/history/views/{private}/move/", {"direction": "right"}, "302 404 404 404 404 302", ""),
    ("delete private: confirm", "get", "/history/views/{private}/delete/", None, "200 404 404 404 404 302", ""),
    ("delete private", "post", "/history/views/{private}/delete/", None, "302 404 404 404 404 302", "owner"),
    ("delete team view: confirm", "get", "/history/views/{team_view}/delete/", None, "200 200 200 403 404 302", ""),
    ("delete team view", "post", "/history/views/{team_view}/delete/", None, "302 302 302 403 404 302", "owner admin member"),  # noqa: E501
    ("share private with a team", "post", "/history/views/{private}/share/", {"shared": "studio"}, "302 404 404 404 404 302", "owner"),  # noqa: E501
    ("share private: only me", "post", "/history/views/{private}/share/", {"shared": "_me"}, "302 404 404 404 404 302", ""),  # noqa: E501
    ("share private: a team one may not share with", "post", "/history/views/{private}/share/", {"shared": "elsewhere"}, "302 404 404 404 404 302", ""),  # noqa: E501
    ("share team view with another team", "post", "/history/views/{team_view}/share/", {"shared": "label"}, "302 302 302 403 404 302", "owner admin member"),  # noqa: E501
    ("share team view with its team", "post", "/history/views/{team_view}/share/", {"shared": "studio"}, "302 302 302 403 404 302", ""),  # noqa: E501
    # "Failed songs" was made by erin (member), "Newest" by alice (owner).
    ("share team view: only me, its maker a member", "post", "/history/views/{team_view}/share/", {"shared": "_me"}, "302 302 302 403 404 302", "owner admin member"),  # noqa: E501
    ("share team view: only me, its maker the owner", "post", "/history/views/{team_view_2}/share/", {"shared": "_me"}, "302 302 403 403 404 302", "owner admin"),  # noqa: E501
    ("share by GET", "get", "/history/views/{team_view}/share/", None, "405 405 405 405 405 302", ""),
    ("rename by GET", "get", "/history/views/{team_view}/rename/", None, "405 405 405 405 405 302", ""),
    ("the views' address", "get", "/history/views/", None, "302 302 302 302 302 302", ""),
    ("unknown view", "get", "/history/views/00000000-0000-4000-8000-000000000000/", None, "404 404 404 404 404 302", ""),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_role_matrix(client, world, role, case):
    name, method, path, data, statuses, changers = case
    codes = {name: world[name].code for name in ("private", "team_view", "team_view_2")}
    path = path.format(**codes)
    before = snapshot()
    response = getattr(client_for(client, world, role), method)(path, data or {})
    assert response.status_code == int(statuses.split()[ROLES.index(role)]), (name, role)
    if role == "anonymous":
        assert response["Location"].startswith(LOGIN)
    assert (snapshot() != before) == (role in changers.split()), (name, role)


@pytest.mark.parametrize("role", ROLES)
def test_tabs_on_the_history(client, world, role):
    """Members see the team's views (any role); only alice her private one; outsiders none."""
    response = client_for(client, world, role).get("/history/")
    if role == "anonymous":
        assert response.status_code == 302
        return
    page = response.content.decode()
    assert 'aria-label="Saved views"' in page
    assert ("Failed songs" in page) == (role not in ("outsider",))
    assert ("Mine only" in page) == (role == "owner")
    # "Edit view" only for those who may edit the view on screen.
    page = client.get(f"/history/?status=failed&view={world['team_view'].code}").content.decode()
    assert ("Edit view" in page) == (role in ("owner", "admin", "member"))


def test_tabs_come_all_jobs_first_then_mine_then_each_team(client, world, alice):
    other = Team.objects.create(name="Another", slug="another")
    Member.objects.create(team=other, user=alice, role="viewer")
    SavedView.objects.create(user=alice, team=other, name="Another view", query="kind=audio")
    page = client_for(client, world, "owner").get("/history/").content.decode()
    places = [page.index(text) for text in ("All jobs", "Mine only", "Another view", "Failed songs", "Newest")]
    assert places == sorted(places)


def test_a_team_joined_after_the_memberships_were_read_waits_for_the_next_page(rf, world, alice):
    """The tabs read the views by a statement of their own: a team joined between the two
    reads is left out of this page's tabs (its team is not among the memberships given), not
    an error."""
    from saved_views import access, tabs

    members = access.memberships(alice)
    other = Team.objects.create(name="Another", slug="another")
    Member.objects.create(team=other, user=alice, role="viewer")
    SavedView.objects.create(user=alice, team=other, name="Another view", query="kind=audio")
    request = rf.get("/history/")
    request.user = alice
    names = [view.name for group in tabs.context(request, members, {})["groups"] for view in group["views"]]
    assert names == ["Mine only", "Failed songs", "Newest"]
    later = [
        view.name for group in tabs.context(request, access.memberships(alice), {})["groups"] for view in group["views"]
    ]
    assert later == ["Mine only", "Another view", "Failed songs", "Newest"]


def test_opening_a_view_is_the_history_with_its_parameters_and_its_tab_active(client, world):
    view = world["team_view"]
    response = client_for(client, world, "viewer").get(view.get_absolute_url())
    url = urlsplit(response["Location"])
    assert url.path == "/history/"
    assert dict(parse_qsl(url.query)) == {"status": "failed", "view": str(view.code)}
    page = client.get(response["Location"]).content.decode()
    assert f'data-view="{view.code}" data-query="status=failed" aria-current="page"' in page
    assert "A failed song" in page and "A good song" not in page


def test_the_tab_whose_parameters_are_on_screen_is_active_without_the_marker(client, world):
    page = client_for(client, world, "member").get("/history/?status=failed").content.decode()
    assert 'data-query="status=failed" aria-current="page"' in page
    page = client.get("/history/").content.decode()
    assert 'data-query="" aria-current="page">All jobs' in page


def test_saving_keeps_valid_filters_sort_and_layout_and_drops_paging(client, world, alice):
    client_for(client, world, "owner")
    query = f"status=failed&credential={world['key'].code}&created_after=2026-13-45&sort=-credits&layout=table&cursor=x&view=y&q=so"  # noqa: E501
    response = client.post("/history/views/new/", {"name": "  My   failed  ", "query": query, "shared": "_me"})
    view = SavedView.objects.get(name="My failed")
    assert response["Location"] == view.get_absolute_url()
    # The bad day and the too-short search are left out, as the list ignores them.
    assert dict(parse_qsl(view.query)) == {
        "status": "failed",
        "credential": str(world["key"].code),
        "sort": "-credits",
        "layout": "table",
    }
    assert view.team is None and view.user == alice
    assert view.position == 1  # after "Mine only"
    # A layout that is none of the layouts is left out too.
    client.post("/history/views/new/", {"name": "Odd", "query": "layout=sideways&status=failed", "shared": "_me"})
    assert SavedView.objects.get(name="Odd").query == "status=failed"


def test_a_viewer_cannot_save_for_the_team_and_is_told(client, world, bob):
    client_for(client, world, "viewer")
    response = client.post("/history/views/new/", {"name": "Sneaky", "shared": "studio"}, follow=True)
    assert not SavedView.objects.filter(name="Sneaky").exists()
    assert "The view was not saved" in response.content.decode()
    # The form offers viewers no team to save for.
    assert "Team Studio" not in client.get("/history/").content.decode()
    client.force_login(world["users"]["member"])
    assert "Team Studio" in client.get("/history/").content.decode()


def test_a_name_is_needed(client, world):
    client_for(client, world, "owner")
    data = {"name": "   ", "query": "status=failed", "shared": "_me"}
    response = client.post("/history/views/new/", data, follow=True)
    assert "The view was not saved. This field is required." in response.content.decode()
    assert response.redirect_chain[-1][0] == "/history/?status=failed"
    # What goes back into the address is re-encoded, whatever was posted.
    data = {"name": "", "query": "status=failed\r\nX-Evil: 1&q=a b", "shared": "_me"}
    response = client.post("/history/views/new/", data)
    assert response["Location"] == "/history/?q=a+b&status=failed%0D%0AX-Evil%3A+1"


def test_the_limit_per_person(client, world, alice, settings):
    client_for(client, world, "owner")
    have = SavedView.objects.filter(user=alice).count()
    SavedView.objects.bulk_create(
        SavedView(user=alice, name=f"v{n}", position=n + 5) for n in range(SavedView.LIMIT - have)
    )
    response = client.post("/history/views/new/", {"name": "One too many", "shared": "_me"}, follow=True)
    assert "You keep 50 saved views, the most one person can: delete one to save another." in response.content.decode()
    assert SavedView.objects.filter(user=alice).count() == SavedView.LIMIT


def group_lock_then_end(queries, table: str) -> tuple[str, int, int]:
    """The statement that locks the group's row in `table` (by its id), and where it and the
    read of the group's last position come among `queries`."""
    locks = [i for i, q in enumerate(queries) if re.search(rf'FROM "{table}" WHERE "{table}"."id" = ', q["sql"])]
    ends = [i for i, q in enumerate(queries) if 'MAX("saved_views_savedview"."position")' in q["sql"]]
    assert locks and ends, [q["sql"] for q in queries]
    return queries[locks[0]]["sql"], locks[0], ends[-1]


@pytest.mark.parametrize("how", ["saved for the team", "given to the team"])
def test_a_new_place_in_a_teams_tabs_is_read_under_a_lock_on_the_team(client, world, how):
    """Two members saving for their team at once hold different people's rows (the limit's
    lock): the team's row is what makes the second wait until the first has its place."""
    client_for(client, world, "member")
    with CaptureQueriesContext(connection) as queries:
        if how == "saved for the team":
            client.post("/history/views/new/", {"name": "Mine too", "shared": "studio"})
        else:
            mine = SavedView.objects.create(user=world["users"]["member"], name="Mine too", position=0)
            client.post(f"/history/views/{mine.code}/share/", {"shared": "studio"})
    lock, locked_at, end_at = group_lock_then_end(queries.captured_queries, "teams_team")
    assert locked_at < end_at
    if connection.vendor == "postgresql":
        assert lock.endswith("FOR NO KEY UPDATE")
    # SQLite takes no row locks: its IMMEDIATE transactions let one writer at a time.
    assert SavedView.objects.get(name="Mine too").position == 2  # after "Failed songs" and "Newest"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_two_members_saving_for_their_team_at_once_get_two_places(world, monkeypatch):
    """Each save reads the end of the team's tabs, then waits a moment before it writes: the
    other save's read falls in between unless it waits for the first to finish."""
    from saved_views.models import SavedViewQuerySet

    read = SavedViewQuerySet.next_position

    def slow(self):
        position = read(self)
        time.sleep(0.5)
        return position

    monkeypatch.setattr(SavedViewQuerySet, "next_position", slow)
    start, answers = threading.Barrier(2), []

    def save(role):
        try:
            member = Client()
            member.force_login(world["users"][role])
            start.wait()
            answers.append(member.post("/history/views/new/", {"name": f"By {role}", "shared": "studio"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(role,)) for role in ("member", "admin")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [302, 302]
    saved = SavedView.objects.filter(team=world["team"], name__startswith="By ")
    assert sorted(saved.values_list("position", flat=True)) == [2, 3]


def test_moving_left_and_right_among_the_group(client, world, alice):
    a = world["private"]
    b = SavedView.objects.create(user=alice, name="B", position=1)
    c = SavedView.objects.create(user=alice, name="C", position=2)
    client_for(client, world, "owner")

    def order():
        return list(SavedView.objects.filter(user=alice, team=None).order_by("position").values_list("name", flat=True))

    client.post(f"/history/views/{c.code}/move/", {"direction": "left"})
    assert order() == ["Mine only", "C", "B"]
    client.post(f"/history/views/{a.code}/move/", {"direction": "left"})  # already first
    assert order() == ["Mine only", "C", "B"]
    client.post(f"/history/views/{a.code}/move/", {"direction": "right"})
    assert order() == ["C", "Mine only", "B"]
    client.post(f"/history/views/{b.code}/move/", {"direction": "up"})
    assert order() == ["C", "Mine only", "B"]
    # The team's views are a group of their own: alice's moves left them as they were.
    assert list(world["team"].saved_views.order_by("position").values_list("name", flat=True)) == [
        "Failed songs",
        "Newest",
    ]
    # The edit menu offers only the moves there is room for.
    page = client.get(f"/history/?view={c.code}").content.decode()
    assert "disabled>← Move left" in page and "disabled>Move right" not in page


def test_a_view_whose_key_is_no_longer_shared_opens_and_says_what_it_ignores(client, world):
    view = world["team_view"]
    view.query = f"status=failed&credential={world['key'].code}"
    view.save()
    Share.objects.filter(credential=world["key"]).delete()
    response = client_for(client, world, "member").get(view.get_absolute_url(), follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Some filters were ignored: Key: Select a valid choice." in page
    assert f'data-view="{view.code}"' in page and 'aria-current="page">Failed songs' in page


def test_a_team_going_takes_its_views(world):
    world["team"].delete()
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Mine only"]


def test_the_tabs_cost_the_same_queries_for_one_view_or_many(client, world, alice):
    client_for(client, world, "owner").get("/history/")  # the session, caches warmed
    with CaptureQueriesContext(connection) as few:
        client.get("/history/")
    SavedView.objects.bulk_create(SavedView(user=alice, name=f"v{n}", position=n + 5) for n in range(30))
    SavedView.objects.bulk_create(
        SavedView(user=alice, team=world["team"], name=f"t{n}", position=n + 5) for n in range(10)
    )
    with CaptureQueriesContext(connection) as many:
        page = client.get("/history/").content.decode()
    assert "v29" in page and "t9" in page
    assert len(many) == len(few)


def test_someone_in_no_team_saves_a_private_view_with_no_choice_to_make(client, django_user_model):
    frank = django_user_model.objects.create_user("frank", "frank@example.test", "frank-pass-2026")
    make_job(make_credential(frank, "munsit"), "fr-1", title="Frank's job")
    client.force_login(frank)
    page = client.get("/history/").content.decode()
    assert 'type="hidden" name="shared" value="_me"' in page and "Who sees it" not in page
    client.post("/history/views/new/", {"name": "Frank's", "shared": "_me"})
    assert SavedView.objects.get(user=frank).team is None


def update_menu(page: str) -> str:
    """The "Update with what's on screen" form of the page's "Edit view" menu."""
    start = page.index('class="view-update"')
    return page[page.rindex("<form", 0, start) : page.index("</form>", start)]


def test_the_owner_updates_a_private_view_with_what_is_on_screen(client, world):
    view = world["private"]
    client_for(client, world, "owner")
    page = client.get(f"/history/?kind=denoise&provider=apimall&view={view.code}").content.decode()
    menu = update_menu(page)
    assert " hidden>" not in menu.split("\n")[0]
    assert "Update with what's on screen" in menu and "Studio" not in menu
    assert 'name="query" value="provider=apimall&amp;kind=denoise"' in menu
    response = client.post(
        f"/history/views/{view.code}/update/", {"query": "kind=denoise&provider=apimall&cursor=x&view=y"}, follow=True
    )
    view.refresh_from_db()
    assert dict(parse_qsl(view.query)) == {"kind": "denoise", "provider": "apimall"}
    assert response.redirect_chain[0][0] == view.get_absolute_url()
    page = response.content.decode()
    assert "Updated the view “Mine only”." in page
    # Back on the view with its new parameters: its tab active, nothing left to update.
    assert f'data-view="{view.code}" data-query="kind=denoise&amp;provider=apimall" aria-current="page"' in page
    assert update_menu(page).split("\n")[0].endswith(" hidden>")


def test_a_member_updates_the_teams_view_and_is_told_the_team_sees_it(client, world):
    view = world["team_view"]
    client_for(client, world, "member")
    menu = update_menu(client.get(f"/history/?status=failed&provider=apimall&view={view.code}").content.decode())
    assert "everyone in Studio sees the change" in menu
    data = {"query": "provider=apimall&status=failed"}
    response = client.post(f"/history/views/{view.code}/update/", data, follow=True)
    view.refresh_from_db()
    assert (view.query, view.user.username, view.team) == ("provider=apimall&status=failed", "erin", world["team"])
    assert "Updated the view “Failed songs”." in response.content.decode()


def test_an_update_drops_invalid_filters_as_saving_does(client, world):
    view = world["team_view"]
    client_for(client, world, "admin")
    gone = "00000000-0000-4000-8000-000000000000"
    query = f"status=failed&credential={gone}&created_after=2026-13-45&sort=-credits&layout=sideways&q=so"
    client.post(f"/history/views/{view.code}/update/", {"query": query})
    view.refresh_from_db()
    assert dict(parse_qsl(view.query)) == {"status": "failed", "sort": "-credits"}


def test_an_update_to_what_the_view_holds_changes_nothing_and_says_so(client, world):
    view = world["team_view"]
    updated = view.updated
    client_for(client, world, "member")
    # The same parameters in another order, with paging: still what the view holds.
    response = client.post(f"/history/views/{view.code}/update/", {"query": "cursor=x&status=failed"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0] == view.get_absolute_url()
    assert "The view “Failed songs” already shows this: nothing to update." in response.content.decode()
    view.refresh_from_db()
    assert (view.query, view.updated) == ("status=failed", updated)
    # A query too long for any view is refused, the view left as it was.
    response = client.post(f"/history/views/{view.code}/update/", {"query": "q=" + "a" * 2000}, follow=True)
    assert "The view was not updated." in response.content.decode()
    view.refresh_from_db()
    assert view.query == "status=failed"


def test_the_update_is_not_offered_while_the_view_is_what_is_on_screen(client, world):
    view = world["team_view"]
    client_for(client, world, "member")
    # Opened, or on screen without the marker: the form is in the menu (for the script to show
    # after htmx filtering) but hidden.
    for url in (f"/history/?status=failed&view={view.code}", "/history/?status=failed"):
        assert update_menu(client.get(url).content.decode()).split("\n")[0].endswith(" hidden>"), url
    # Filtered further without JavaScript: the filter form keeps the view's marker, so the
    # next page still has its menu, offering the update.
    page = client.get(f"/history/?status=failed&view={view.code}").content.decode()
    assert f'<input type="hidden" name="view" value="{view.code}">' in page
    page = client.get(f"/history/?status=failed&provider=apimall&view={view.code}").content.decode()
    assert not update_menu(page).split("\n")[0].endswith(" hidden>")


def links(page: str, pattern: str) -> list[str]:
    """The hrefs of the page's links that `pattern` (a regular expression ending just before
    the href's value) finds, unescaped."""
    return [html.unescape(href) for href in re.findall(pattern + r'"([^"]*)"', page)]


def marker_of(url: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query)).get("view")


def test_chips_and_sorts_keep_the_view_opened_without_javascript(client, world):
    """Filtered further by a chip's removal or sorted, by plain links: the view opened stays
    the current tab (and its "Edit view" menu offers the update), as with the filter form."""
    view = world["team_view"]
    client_for(client, world, "member")
    response = client.get(view.get_absolute_url(), follow=True)
    assert marker_of(response.redirect_chain[-1][0]) == str(view.code)
    page = client.get(f"/history/?status=failed&provider=apimall&view={view.code}").content.decode()
    chips = links(page, r'<a class="chip" href=')
    sorts = links(page, r'<a href=(?="[^"]*" role="listitem")')
    assert len(chips) == 2 and len(sorts) == 8
    for url in chips + sorts:
        assert marker_of(url) == str(view.code), url
    # The table's headers, and a layout asked for by the address, kept beside it.
    page = client.get(f"/history/?status=failed&layout=table&view={view.code}").content.decode()
    headers = links(page, r'<th [^>]*aria-sort="[a-z]+"><a href=')
    assert len(headers) >= 3  # created, duration and credits are shown by default
    for url in headers:
        assert marker_of(url) == str(view.code) and "layout=table" in url, url
    # Followed, the link keeps the view's tab current, and offers to update it.
    chip = next(url for url in chips if "status" not in url)  # the status chip's: no longer the view's filters
    page = client.get(chip).content.decode()
    assert f'data-view="{view.code}" data-query="status=failed" aria-current="page"' in page
    assert not update_menu(page).split("\n")[0].endswith(" hidden>")
    # Without a view opened, or with a marker that is no view's code, the links carry none.
    for query in ("status=failed&provider=apimall", "status=failed&provider=apimall&view=<x>"):
        page = client.get(f"/history/?{query}").content.decode()
        hrefs = links(page, r'<a class="chip" href=') + links(page, r'<a href=(?="[^"]*" role="listitem")')
        assert hrefs and all(marker_of(url) is None for url in hrefs), query


@pytest.mark.parametrize("layout", ["table", "cards"])
def test_the_sort_menu_keeps_a_layout_the_address_asked_for(client, world, layout):
    """As the table's headers do: a layout given in the address stays (with the view opened),
    one's own layout is not written out."""
    view = world["team_view"]
    client_for(client, world, "member")
    page = client.get(f"/history/?status=failed&layout={layout}&view={view.code}").content.decode()
    sorts = links(page, r'<a href=(?="[^"]*" role="listitem")')
    assert len(sorts) == 8
    for url in sorts:
        assert dict(parse_qsl(urlsplit(url).query)).get("layout") == layout and marker_of(url) == str(view.code), url
    sorts = links(client.get("/history/?status=failed").content.decode(), r'<a href=(?="[^"]*" role="listitem")')
    assert len(sorts) == 8 and not [url for url in sorts if "layout=" in url]


HX = {"HX-Request": "true"}
ROW_CODE = re.compile(r'id="job-([0-9a-f-]{36})"')


def test_pages_errors_and_days_keep_the_view_opened_without_javascript(client, world, monkeypatch):
    """The next page ("Load more"), the way back to the first page, the "Failed with" links
    and the strip's days keep the view opened, as the chips and sorts do; "Clear all" does
    not (it is "All jobs"). The marker changes no row: a next page is the same with or without it."""
    cache.clear()  # the error breakdown and the strip are cached per person for a while
    monkeypatch.setattr(history_views, "PAGE_SIZE", 1)
    view, key = world["team_view"], world["key"]
    for n, error in enumerate(["Internal Error", "Internal Error", "Quota exceeded"]):
        oldest = make_job(key, f"e-{n}", status="failed", error=error, days_ago=n + 1)
    client_for(client, world, "member")
    days = "created_after=2026-11-10&created_before=2026-11-24"
    marked = f"/history/?status=failed&{days}&view={view.code}"
    page = client.get(marked).content.decode()
    more = links(page, r'<li class="jobs-more">\s*<a class="btn" href=')
    errors = links(page, r'<li><a class="chip" href=')
    bars = links(page, r'<a class="chart-bar" href=')
    assert len(more) == 1 and len(errors) == 2 and len(bars) == 15
    for url in more + errors + bars:
        assert marker_of(url) == str(view.code), url
    assert '<a class="chip chip-clear" href="/history/">Clear all</a>' in page
    # With htmx, the next page's rows are those of the address without the marker.
    fragment = client.get(more[0], headers=HX).content.decode()
    unmarked = client.get(more[0].replace(f"&view={view.code}", ""), headers=HX).content.decode()
    assert "<html" not in fragment and ROW_CODE.findall(fragment)
    assert ROW_CODE.findall(fragment) == ROW_CODE.findall(unmarked)
    assert all(marker_of(url) == str(view.code) for url in links(fragment, r'<a class="btn" href='))
    # Without, the next page is the whole page: the view's tab current, a way back kept in it.
    deep = client.get(more[0]).content.decode()
    assert f'data-view="{view.code}" data-query="status=failed" aria-current="page"' in deep
    (back,) = links(deep, r'<p class="center jobs-back"><a href=')
    assert marker_of(back) == str(view.code) and f"status=failed&{days}" in back and "cursor" not in back
    # Past the end ("No more jobs"), the way back too.
    end = client.get(f"{marked}&{urlencode({'cursor': f'{oldest.created.isoformat()}_{oldest.pk}'})}").content.decode()
    assert "No more jobs" in end and links(end, r'<a class="btn btn-primary" href=') == [back]
    # The strip alone (folded or unfolded: preferences.views.strip comes back to the address).
    strip = links(
        client.get(marked, headers={**HX, "HX-Target": "dash"}).content.decode(), r'<a class="chart-bar" href='
    )
    # The filter form with htmx: its answer's links keep it, the address pushed does not.
    results = client.get(marked, headers={**HX, "HX-Target": "history-results"})
    assert results["HX-Push-Url"] == f"/history/?status=failed&{days}"
    kept = strip + links(results.content.decode(), r'<a class="(?:chart-bar|chip)" href=')
    assert len(kept) == 15 + 15 + 3 + 2  # days, days, chips, errors
    assert all(marker_of(url) == str(view.code) for url in kept)
    # Without a view opened, none of them carries one.
    page = client.get(f"/history/?status=failed&{days}").content.decode()
    hrefs = [*links(page, r'<li class="jobs-more">\s*<a class="btn" href='), *links(page, r'<li><a class="chip" href=')]
    hrefs += links(page, r'<a class="chart-bar" href=')
    assert len(hrefs) == 18 and all(marker_of(url) is None for url in hrefs)


def group_names(**group) -> list[tuple[str, int]]:
    """The names and positions of a group's views (`team=` or `user=` for private ones), in order."""
    views = SavedView.objects.filter(**group) if "team" in group else SavedView.objects.filter(team=None, **group)
    return list(views.order_by("position", "id").values_list("name", "position"))


def share_menu(page: str) -> str:
    """The "Who sees it" form of the page's "Edit view" menu."""
    start = page.index('class="form view-share"')
    return page[page.rindex("<form", 0, start) : page.index("</form>", start)]


def test_the_owner_shares_a_private_view_with_the_team(client, world, alice):
    view = world["private"]
    SavedView.objects.create(user=alice, name="B", position=1)
    SavedView.objects.create(user=alice, name="C", position=2)
    client_for(client, world, "owner")
    menu = share_menu(client.get(view.get_absolute_url(), follow=True).content.decode())
    assert f'<label for="view-shared-{view.code}">Who sees it</label>' in menu
    assert '<option value="_me" selected>Only me</option>' in menu
    assert '<option value="label">Team Label</option><option value="studio">Team Studio</option>' in menu

    response = client.post(f"/history/views/{view.code}/share/", {"shared": "studio"}, follow=True)
    assert response.redirect_chain[0][0] == view.get_absolute_url()
    page = response.content.decode()
    assert "“Mine only” is now shared with Studio." in page
    view.refresh_from_db()
    assert (view.team, view.user) == (world["team"], alice)
    # At the end of the team's tabs; alice's private ones numbered again from 0.
    assert group_names(team=world["team"]) == [("Failed songs", 0), ("Newest", 1), ("Mine only", 2)]
    assert group_names(user=alice) == [("B", 0), ("C", 1)]
    # Its tab is active among the team's, and the menu says who sees it now.
    assert f'data-view="{view.code}" data-query="kind=denoise" aria-current="page"' in page
    assert page.index("Newest") < page.index(">Mine only<")
    assert '<option value="studio" selected>Team Studio</option>' in share_menu(page)
    # The team's members see it; what it already is changes nothing.
    assert SavedView.objects.visible_to(world["users"]["viewer"]).filter(pk=view.pk).exists()
    response = client.post(f"/history/views/{view.code}/share/", {"shared": "studio"}, follow=True)
    assert "“Mine only” is shared with Studio already: nothing changed." in response.content.decode()
    assert group_names(team=world["team"])[-1] == ("Mine only", 2)


def test_an_admin_takes_a_members_team_view_for_themselves(client, world):
    view, dave, erin = world["team_view"], world["users"]["admin"], world["users"]["member"]
    SavedView.objects.create(user=dave, name="Dave's", position=0)
    client_for(client, world, "admin")
    response = client.post(f"/history/views/{view.code}/share/", {"shared": "_me"}, follow=True)
    assert "“Failed songs” is now yours only." in response.content.decode()
    view.refresh_from_db()
    # Dave's private view now, after his own; the team's remaining view numbered from 0.
    assert (view.team, view.user) == (None, dave)
    assert group_names(user=dave) == [("Dave's", 0), ("Failed songs", 1)]
    assert group_names(team=world["team"]) == [("Newest", 0)]
    assert not SavedView.objects.visible_to(erin).filter(pk=view.pk).exists()


def test_a_team_view_moved_to_another_team_keeps_its_maker(client, world):
    view = world["team_view"]
    SavedView.objects.create(user=world["users"]["viewer"], team=world["label"], name="Label's", position=0)
    client_for(client, world, "owner")
    response = client.post(f"/history/views/{view.code}/share/", {"shared": "label"}, follow=True)
    assert "“Failed songs” is now shared with Label." in response.content.decode()
    view.refresh_from_db()
    assert (view.team, view.user.username) == (world["label"], "erin")
    assert group_names(team=world["label"]) == [("Label's", 0), ("Failed songs", 1)]
    assert group_names(team=world["team"]) == [("Newest", 0)]


def test_only_me_is_offered_to_the_views_maker_and_the_teams_owners_and_admins(client, world):
    client_for(client, world, "member")
    for view, offered in ((world["team_view"], True), (world["team_view_2"], False)):
        menu = share_menu(client.get(view.get_absolute_url(), follow=True).content.decode())
        assert '<option value="studio" selected>Team Studio</option>' in menu
        assert ('value="_me"' in menu) == offered, view.name


def test_no_choice_no_who_sees_it(client, world, carol):
    """Carol is in no team: her private view stays hers, and its menu does not ask."""
    view = SavedView.objects.create(user=carol, name="Carol's", query="kind=audio")
    page = client_for(client, world, "outsider").get(view.get_absolute_url(), follow=True).content.decode()
    assert "Edit view" in page and "view-share" not in page and "Only you see this view." in page


def test_taking_a_view_for_oneself_counts_against_the_limit(client, world):
    view, dave, erin = world["team_view"], world["users"]["admin"], world["users"]["member"]
    for user in (dave, erin):
        have = SavedView.objects.filter(user=user).count()
        SavedView.objects.bulk_create(
            SavedView(user=user, name=f"v{n}", position=n) for n in range(SavedView.LIMIT - have)
        )
    before = snapshot()
    client_for(client, world, "admin")
    response = client.post(f"/history/views/{view.code}/share/", {"shared": "_me"}, follow=True)
    assert (
        "You keep 50 saved views, the most one person can: delete one to keep “Failed songs” for yourself."
        in response.content.decode()
    )
    assert snapshot() == before
    # Its maker keeps it within her 50: it was one of them already.
    client.force_login(erin)
    response = client.post(f"/history/views/{view.code}/share/", {"shared": "_me"}, follow=True)
    assert "“Failed songs” is now yours only." in response.content.decode()
    assert SavedView.objects.filter(user=erin).count() == SavedView.LIMIT
    assert group_names(user=erin)[-1] == ("Failed songs", SavedView.LIMIT - 1)


@pytest.mark.parametrize("slug", ["another", "nowhere", ""])
def test_a_team_one_may_not_share_with_is_a_message(client, world, alice, slug):
    Member.objects.create(team=Team.objects.create(name="Another", slug="another"), user=alice, role="viewer")
    view = world["private"]
    before = snapshot()
    response = client_for(client, world, "owner").post(
        f"/history/views/{view.code}/share/", {"shared": slug}, follow=True
    )
    assert response.redirect_chain[0][0] == view.get_absolute_url()
    page = response.content.decode()
    wrong = "Choose “Only me” or a team where you are a member, admin or owner."
    assert f"Who sees “Mine only” was not changed. {wrong if slug else 'This field is required.'}" in page
    assert snapshot() == before


def test_a_view_moved_meanwhile_is_left_where_it_went(client, world, monkeypatch):
    """Read, then moved by someone else before the move's lock: the rules were checked on its
    old place, so nothing is done."""
    from saved_views import access, views

    def read_then_moved(request, code, **kwargs):
        view = access.get_view_for_user(request, code, **kwargs)
        SavedView.objects.filter(pk=view.pk).update(team=world["label"], position=7)
        return view

    monkeypatch.setattr(views, "get_view_for_user", read_then_moved)
    view = world["team_view"]
    response = client_for(client, world, "member").post(
        f"/history/views/{view.code}/share/", {"shared": "_me"}, follow=True
    )
    assert "“Failed songs” was moved or deleted meanwhile: nothing changed." in response.content.decode()
    view.refresh_from_db()
    assert (view.team, view.user.username, view.position) == (world["label"], "erin", 7)
