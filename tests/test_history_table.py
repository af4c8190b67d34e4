"""The history's table layout (templates/history/row_table.html): one line per job in the
person's columns, a header that sorts, rows cached per layout and column list, the layout
remembered or asked for by the address, and what a teammate's key shows of itself."""

import re
from html import unescape

import pytest
from django.core.cache import caches

from history.models import Job
from preferences.models import HistoryPreferences
from tests import test_history_views
from tests.factories import make_credential
from tests.test_history_views import HX, make_job

studio = test_history_views.studio  # a fixture: Alice's three keys, Bob's shared one, a job of each kind

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr class="job job-(\w+)" id="job-([0-9a-f-]{36})" data-job="\2"[^>]*>(.*?)</tr>', re.S)
HEADER = re.compile(r"<thead>(.*?)</thead>", re.S)


def table_rows(text: str) -> dict[str, str]:
    return {code: cells for _, code, cells in ROW.findall(text)}


def cell_classes(cells: str) -> list[str]:
    return re.findall(r'<td class="col-(\w+)', cells)


@pytest.fixture
def as_table(alice):
    return HistoryPreferences.objects.create(user=alice, layout="table")


def test_the_table_shows_one_line_per_job_with_the_default_columns(client, alice, studio, as_table):
    client.force_login(alice)
    text = client.get("/history/").text
    rows = table_rows(text)
    assert len(rows) == 6 and '<tbody id="rows">' in text and '<ol id="rows"' not in text
    song = rows[str(studio["song"].code)]
    # The selection column first (empty until selection fills it), then the defaults in order.
    assert cell_classes(song) == [
        "select", "star", "status", "title", "provider", "model", "kind", "key", "created", "duration", "credits",
        "play",
    ]  # fmt: skip
    assert f'<a class="job-link" href="/history/{studio["song"].code}/">Sunny song</a>' in song
    assert ">Succeeded</span>" in song and ">Mall</td>" in song and ">1:35</td>" in song and ">12</td>" in song
    assert 'data-play="https://cdn.example/a.mp3"' in song and "Play “Sunny song”" in song
    # The failed one says why; a job without audio has no play button.
    track = rows[str(studio["track"].code)]
    assert "GPU worker timed out" in track and "data-play" not in track
    header = HEADER.search(text).group(1)
    assert [unescape(h) for h in re.findall(r'<th class="col-(\w+)', header)] == ["select", *cell_classes(song)[1:]]


def test_a_teammate_s_key_shows_its_label_and_owner_never_its_last_four(client, alice, studio, as_table):
    client.force_login(alice)
    bobs = studio["bobs"]
    row = table_rows(client.get("/history/").text)[str(studio["suno"].code)]
    assert "Bob Suno" in row and "· bob" in row and bobs.last4 not in row


def test_the_columns_come_in_the_person_s_order(client, alice, studio, as_table):
    as_table.columns = ["credits", "title", "completed"]
    as_table.save()
    client.force_login(alice)
    text = client.get("/history/").text
    assert cell_classes(table_rows(text)[str(studio["song"].code)]) == ["select", "credits", "title", "completed"]
    assert re.findall(r'<th class="col-(\w+)', HEADER.search(text).group(1)) == [
        "select",
        "credits",
        "title",
        "completed",
    ]


def test_the_header_sorts_by_its_sortable_columns(client, alice, studio, as_table):
    client.force_login(alice)
    header = unescape(HEADER.search(client.get("/history/?status=succeeded").text).group(1))
    assert 'aria-sort="descending"><a href="/history/?status=succeeded&sort=created"' in header
    assert '<a href="/history/?status=succeeded&sort=-credits"' in header
    assert '<a href="/history/?status=succeeded&sort=-duration"' in header
    assert "sort=title" not in header and "sort=provider" not in header


def test_the_address_s_layout_wins_and_the_page_s_links_keep_it(client, alice, studio, as_table):
    client.force_login(alice)
    cards = client.get("/history/?layout=cards&kind=music")
    assert 'class="job-title"' in cards.text and "<tbody" not in cards.text
    assert '<input type="hidden" name="layout" value="cards">' in cards.text
    assert 'href="/history/?layout=cards" aria-label="Remove filter Kind: Music"' in cards.text
    results = client.get("/history/?layout=cards&kind=music", headers={**HX, "HX-Target": "history-results"})
    assert results["HX-Push-Url"] == "/history/?kind=music&layout=cards"
    HistoryPreferences.objects.filter(user=alice).update(layout="cards")
    assert "<tbody" in client.get("/history/?layout=table").text
    assert 'type="hidden" name="layout"' not in client.get("/history/").text


def test_the_next_page_keeps_the_table(client, alice, as_table):
    mall = make_credential(alice, "apimall", label="Mall")
    for n in range(55):
        make_job(mall, f"n-{n}", days_ago=n / 24)
    client.force_login(alice)
    first = client.get("/history/").text
    more = unescape(re.search(r'<tr class="jobs-more"><td colspan="12"><a class="btn" href="([^"]+)"', first).group(1))
    page = client.get(more, headers=HX).text
    assert (
        len(table_rows(page)) == 5
        and "<li" not in page
        and '<tr class="jobs-end"><td class="muted" colspan="12">' in page
    )


def test_rows_are_cached_per_layout_and_column_list(client, alice, studio, as_table):
    client.force_login(alice)
    client.get("/history/", headers=HX)
    client.get("/history/?layout=cards", headers=HX)
    as_table.columns = ["title", "status"]
    as_table.save()
    table = client.get("/history/", headers=HX).text
    assert cell_classes(table_rows(table)[str(studio["song"].code)]) == ["select", "title", "status"]
    keys = [k for k in caches["rows"]._cache if k.split(":")[4] == str(studio["song"].pk)]
    assert len(keys) == 3
    default = "table=star,status,title,provider,model,kind,key,created,duration,credits,play"
    assert sorted(k.rsplit(":", 1)[1] for k in keys) == ["cards", default, "table=title,status"]


def test_a_renamed_key_changes_the_row(client, alice, studio, as_table):
    client.force_login(alice)
    assert ">Mall</td>" in table_rows(client.get("/history/").text)[str(studio["song"].code)]
    studio["mall"].label = "Mall main"
    studio["mall"].save()
    assert ">Mall main</td>" in table_rows(client.get("/history/").text)[str(studio["song"].code)]


def test_an_unfinished_row_polls_for_its_table_line(client, alice, studio, as_table):
    client.force_login(alice)
    running = studio["running"]
    row = re.search(rf'<tr class="job job-running" id="job-{running.code}"[^>]*>', client.get("/history/").text).group(
        0
    )
    poll = unescape(re.search(r'hx-get="([^"]+)"', row).group(1))
    assert poll.endswith("&layout=table")
    Job.objects.filter(pk=running.pk).update(status=Job.Status.SUCCEEDED)
    answer = client.get(poll).text.strip()
    assert answer.startswith('<tr class="job job-succeeded"') and "hx-trigger" not in answer
    # A cards row asks for a card, whatever the person keeps.
    assert client.get(f"/history/{running.code}/row/?layout=cards").text.strip().startswith('<li class="job')


def test_the_columns_menu_lists_shown_columns_first(client, alice, studio, as_table):
    as_table.columns = ["credits", "title"]
    as_table.save()
    client.force_login(alice)
    text = client.get("/history/").text
    menu = re.search(r'<details class="dropdown columns-menu" id="columns-menu">(.*?)</details>', text, re.S).group(1)
    order = re.findall(r'name="order" value="(\w+)"', menu)
    assert order[:2] == ["credits", "title"] and len(order) == 13 and "select" not in order
    assert re.search(r'value="credits" id="column-credits" checked', menu)
    assert re.search(r'value="title" id="column-title" checked disabled', menu)
    assert re.search(r'value="status" id="column-status">', menu)
    assert (
        "Columns" not in client.get("/history/?layout=cards").text.split('id="history-results"')[1].split("Export")[0]
    )


def test_a_sorted_column_links_the_other_way_and_the_default_is_never_written(client, alice, studio, as_table):
    client.force_login(alice)
    header = unescape(HEADER.search(client.get("/history/?sort=-credits&layout=table").text).group(1))
    assert 'aria-sort="descending"><a href="/history/?layout=table&sort=credits"' in header
    assert 'class="col-created" scope="col" aria-sort="none"><a href="/history/?layout=table"' in header


def test_an_unfinished_row_can_be_refreshed_from_the_table_by_who_may(client, alice, carol, studio, as_table):
    """ "Refresh now" sits at the end of an unfinished row's title (the owner, and team members
    who are not viewers); with htmx it answers the row again, as a table row."""
    running = make_job(studio["bobs"], "ak-run", title="Still cooking", status=Job.Status.RUNNING)
    client.force_login(alice)
    rows = table_rows(client.get("/history/").text)
    form = f'action="/history/{running.code}/refresh/?layout=table"'
    assert form in rows[str(running.code)] and "Refresh “Still cooking” now" in rows[str(running.code)]
    assert "refresh-button" not in rows[str(studio["song"].code)]  # finished: nothing to ask
    answer = client.post(
        f"/history/{running.code}/refresh/?layout=table", headers={**HX, "HX-Target": f"job-{running.code}"}
    )
    assert answer.status_code == 200 and answer.text.startswith(f'<tr class="job job-running" id="job-{running.code}"')
    HistoryPreferences.objects.create(user=carol, layout="table")
    client.force_login(carol)  # a viewer of the team that sees Bob's key
    assert "refresh-button" not in table_rows(client.get("/history/").text)[str(running.code)]
