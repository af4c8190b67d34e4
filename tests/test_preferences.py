import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from preferences import history
from preferences.models import HistoryPreferences

pytestmark = pytest.mark.django_db


def test_defaults_until_the_person_chooses_are_not_written(alice):
    prefs = HistoryPreferences.for_user(alice)
    assert prefs.pk is None
    assert prefs.layout == HistoryPreferences.Layout.CARDS
    assert prefs.columns == []
    assert not HistoryPreferences.objects.exists()


def test_saved_choices_are_read_back(alice, bob):
    HistoryPreferences.objects.create(user=alice, layout=HistoryPreferences.Layout.TABLE, columns=["title", "status"])
    assert HistoryPreferences.for_user(alice).layout == HistoryPreferences.Layout.TABLE
    assert HistoryPreferences.for_user(alice).columns == ["title", "status"]
    assert HistoryPreferences.for_user(bob).layout == HistoryPreferences.Layout.CARDS


# --- choosing: /preferences/history/ ------------------------------------------------------------

HX = {"HX-Request": "true"}


def test_anonymous_people_are_sent_to_log_in(client):
    response = client.post("/preferences/history/", {"layout": "table"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not HistoryPreferences.objects.exists()


def test_only_post_changes_anything(alice_client):
    assert alice_client.get("/preferences/history/").status_code == 405


def test_choosing_a_layout_keeps_it_and_goes_back_without_the_address_s_layout(alice_client, alice):
    response = alice_client.post(
        "/preferences/history/", {"layout": "table", "next": "/history/?status=failed&layout=cards"}
    )
    assert response.status_code == 302 and response["Location"] == "/history/?status=failed"
    assert HistoryPreferences.for_user(alice).layout == "table"
    alice_client.post("/preferences/history/", {"layout": "cards"})
    assert HistoryPreferences.for_user(alice).layout == "cards"


@pytest.mark.parametrize("layout", ["grid", ""])
def test_an_unknown_layout_is_refused(alice_client, alice, layout):
    assert alice_client.post("/preferences/history/", {"layout": layout}).status_code == 400
    assert not HistoryPreferences.objects.exists()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/history/"])
def test_it_never_sends_people_to_another_site(alice_client, target):
    response = alice_client.post("/preferences/history/", {"layout": "table", "next": target})
    assert response["Location"] == "/history/"


def test_with_htmx_the_results_come_back_in_place(alice_client):
    response = alice_client.post(
        "/preferences/history/", {"layout": "table", "next": "/history/?kind=music"}, headers=HX
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Location"]) == {
        "path": "/history/?kind=music",
        "target": "#history-results",
        "swap": "outerHTML",
    }


def columns_form(order, ticked, move=""):
    return {"order": order, "columns": ticked, "move": move, "next": "/history/"}


def test_columns_are_kept_in_the_menu_s_order_ticked_ones_only(alice_client, alice):
    order = ["title", "created", "status", "credits", "model", "play"]
    alice_client.post("/preferences/history/", columns_form(order, ["status", "created", "title", "credits"]))
    assert HistoryPreferences.for_user(alice).columns == ["title", "created", "status", "credits"]


@pytest.mark.parametrize(
    ("move", "kept"),
    [
        ("up:created", ["created", "title", "status"]),
        ("down:title", ["created", "title", "status"]),
        ("down:status", ["title", "created", "status"]),  # already last: stays
        ("up:title", ["title", "created", "status"]),  # already first: stays
        ("up:nonsense", ["title", "created", "status"]),
        ("sideways:title", ["title", "created", "status"]),
    ],
)
def test_moving_a_column(alice_client, alice, move, kept):
    order = ["title", "created", "status"]
    alice_client.post("/preferences/history/", columns_form(order, order, move))
    assert HistoryPreferences.for_user(alice).columns == kept


def test_unknown_columns_are_dropped_with_a_message_and_the_title_stays(alice_client, alice):
    response = alice_client.post(
        "/preferences/history/",
        columns_form(["status", "secret", "created"], ["status", "secret", "created"]),
        follow=True,
    )
    assert HistoryPreferences.for_user(alice).columns == ["title", "status", "created"]
    assert "Unknown column left out: “secret”." in response.text


def test_each_person_keeps_their_own(client, alice, bob):
    client.force_login(alice)
    client.post("/preferences/history/", {"layout": "table"})
    assert HistoryPreferences.for_user(bob).layout == "cards" and HistoryPreferences.objects.count() == 1


# --- what a request shows ------------------------------------------------------------------------


def shown(rf, user, query=""):
    request = rf.get("/history/" + query)
    request.user = user
    return history.display_for(request)


def test_the_address_s_layout_wins_over_the_kept_one_and_says_so(rf, alice):
    HistoryPreferences.objects.create(user=alice, layout="table", columns=["title", "credits"])
    assert shown(rf, alice) == history.Display("table", ("title", "credits"))
    assert shown(rf, alice, "?layout=cards") == history.Display("cards", (), from_url=True)
    assert shown(rf, alice, "?layout=cards").params == {"layout": "cards"}
    assert shown(rf, alice, "?layout=bogus") == history.Display("table", ("title", "credits"))


def test_without_a_choice_the_table_has_the_default_columns(rf, alice):
    assert shown(rf, alice) == history.Display("cards", ())
    assert shown(rf, alice, "?layout=table").columns == history.DEFAULT_COLUMNS


def test_the_header_takes_the_sortable_columns_links():
    display = history.Display("table", ("title", "created", "credits"))
    links = {"created": {"url": "/history/?sort=created", "aria_sort": "descending"}}
    cells = {c["column"].id: (c["url"], c["aria_sort"]) for c in history.header(display, links)}
    assert cells == {"title": ("", ""), "created": ("/history/?sort=created", "descending"), "credits": ("", "")}


def test_the_history_reads_the_choices_from_the_cache_and_a_choice_shows_at_once(alice_client, alice):
    alice_client.get("/history/")
    with CaptureQueriesContext(connection) as queries:
        alice_client.get("/history/")
    assert not [q for q in queries.captured_queries if "preferences_historypreferences" in q["sql"]]
    # Chosen elsewhere (another browser, the admin): the next page shows it.
    prefs = HistoryPreferences.objects.create(user=alice, layout="table", columns=["title", "status"])
    assert "layout-table" in alice_client.get("/history/").text
    prefs.layout = "cards"
    prefs.save()
    assert "layout-cards" in alice_client.get("/history/").text
    HistoryPreferences.objects.filter(pk=prefs.pk).update(layout="table")  # no signal: the cached copy stays
    assert "layout-cards" in alice_client.get("/history/").text
    prefs.delete()
    assert "layout-cards" in alice_client.get("/history/").text
