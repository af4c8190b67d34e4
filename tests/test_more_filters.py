"""The history's further filters (history.filters): model, has_error, error and the date
presets; the dashboard chart's day links; the failed count broken down by error message
(history.error_breakdown). Each as a chip, in counts and exports, and offered only from the
jobs the viewer can see."""

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from history.filters import period_start, visible_models
from history.models import Job
from teams.models import Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
NOW = datetime.now(UTC).replace(microsecond=0)
ROW_TITLE = re.compile(r'<h3 class="job-title"><a class="job-link" href="/history/[0-9a-f-]{36}/">([^<]*)</a>')
CHIPS = re.compile(r'<a class="chip" href="([^"]*)" aria-label="Remove filter ([^"]*)"')


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def add_job(credential, name: str, *, days_ago: float = 0, **fields) -> Job:
    fields.setdefault("status", Job.Status.SUCCEEDED)
    return Job.objects.create(
        credential=credential,
        provider=credential.provider,
        kind=fields.pop("kind", "music"),
        external_id=name,
        title=name,
        created=fields.pop("created", NOW - timedelta(days=days_ago)),
        **fields,
    )


@pytest.fixture
def history(alice, bob, carol):
    """Alice's key; Bob's key shared with Studio (Alice a member); Carol's key, not shared."""
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=bob, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=alice, role=Member.Role.MEMBER)
    mine = make_credential(alice, "apimall", label="Mine")
    bobs = make_credential(bob, "apikley", label="Bob's")
    Share.objects.create(team=team, credential=bobs, shared_by=bob)
    carols = make_credential(carol, "apimall", label="Carol's")
    timeout = "Internal Error: the GPU worker timed out after 600 seconds while rendering the track"
    add_job(mine, "song", model="suno-v4")
    add_job(mine, "fail-1", model="suno-v4", status=Job.Status.FAILED, error=timeout, days_ago=2)
    add_job(mine, "fail-2", model="udio-130", status=Job.Status.FAILED, error=timeout, days_ago=3)
    add_job(mine, "fail-3", model="udio-130", status=Job.Status.FAILED, error="Content policy", days_ago=4)
    add_job(mine, "old", model="udio-130", days_ago=60)
    add_job(mine, "clean", model="", error="noise floor -60 dB", days_ago=1)  # a succeeded job's note
    add_job(bobs, "ballad", model="V4_5", status=Job.Status.FAILED, error="Bob's secret failure", days_ago=5)
    add_job(carols, "carol", model="carols-private-model", status=Job.Status.FAILED, error="Carol's error")
    return {"team": team, "timeout": timeout}


def titles(response) -> set[str]:
    return {unescape(t) for t in ROW_TITLE.findall(response.text)}


def chips(response) -> dict[str, str]:
    return {unescape(label): unescape(url) for url, label in CHIPS.findall(response.text)}


def test_the_model_filter_offers_only_the_models_of_visible_jobs(client, alice, history):
    client.force_login(alice)
    text = client.get("/history/filters/").text  # the fold's fields, as it fetches them
    select = text.split('name="model"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "V4_5", "suno-v4", "udio-130"]
    assert "carols-private-model" not in text
    response = client.get("/history/?model=udio-130")
    assert titles(response) == {"fail-2", "fail-3", "old"}
    assert chips(response) == {"Model: udio-130": "/history/"}
    # A model Alice cannot see is a form error, not a way to learn it exists.
    refused = client.get("/history/?model=carols-private-model")
    assert "Some filters were ignored: Model:" in refused.text and "carol" not in titles(refused)


def test_the_models_are_read_once_and_follow_sharing_at_once(client, alice, bob, history):
    assert visible_models(alice) == ["V4_5", "suno-v4", "udio-130"]
    with mock.patch("history.filters.Job.objects.filter", side_effect=AssertionError("not cached")):
        assert visible_models(alice) == ["V4_5", "suno-v4", "udio-130"]
    Share.objects.filter(team=history["team"]).delete()
    assert visible_models(alice) == ["suno-v4", "udio-130"]  # Bob's key left: its model too


def test_has_error_leaves_out_succeeded_jobs_notes(client, alice, history):
    client.force_login(alice)
    response = client.get("/history/?has_error=1")
    assert titles(response) == {"fail-1", "fail-2", "fail-3", "ballad"}
    assert chips(response) == {"With an error: yes": "/history/"}
    assert '<input type="checkbox" name="has_error" value="1" id="id_has_error" checked>' in response.text


def test_the_error_filter_is_exact_and_shown_shortened(client, alice, history):
    client.force_login(alice)
    response = client.get("/history/", {"error": history["timeout"]})
    assert titles(response) == {"fail-1", "fail-2"}
    [(label, url)] = chips(response).items()
    assert label.startswith("Error: Internal Error: the GPU worker timed out") and label.endswith("…")
    assert url == "/history/"
    assert titles(client.get("/history/", {"error": "Internal Error"})) == set()  # not a substring search


def test_the_new_filters_work_in_exports_and_counts(client, alice, history):
    client.force_login(alice)
    exported = json.loads(b"".join(client.get("/history/export.json?has_error=1&model=udio-130").streaming_content))
    assert {row["external_id"] for row in exported} == {"fail-2", "fail-3"}
    text = client.get("/history/?model=udio-130").text
    assert re.search(r'id="count-status-failed">2<', text) and re.search(r'id="count-status-all">3<', text)


# --- date presets ---------------------------------------------------------------------------


def test_presets_start_in_the_viewers_time_zone():
    now = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)  # still March 9 in New York (UTC-5)
    with timezone.override("America/New_York"):
        assert period_start("24h", now) == now - timedelta(hours=24)
        assert period_start("7d", now) == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # midnight EST
        assert period_start("month", now) == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
        assert period_start("30d", now) == datetime(2026, 2, 8, 5, 0, tzinfo=UTC)
    with timezone.override("Asia/Tokyo"):  # already March 10, 12:30
        assert period_start("7d", now) == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # Mar 4 00:00 JST


def test_a_preset_filters_combines_with_the_days_and_shows_as_a_chip(client, alice, history):
    client.force_login(alice)
    client.cookies["tz"] = "Pacific/Auckland"
    response = client.get("/history/?period=7d")
    assert titles(response) == {"song", "fail-1", "fail-2", "fail-3", "clean", "ballad"}
    assert chips(response) == {"Presets: Last 7 days": "/history/"}
    assert 'value="7d" id="id_period_2" checked' in response.text
    with timezone.override("Pacific/Auckland"):
        before = (timezone.localdate() - timedelta(days=3)).isoformat()
    both = client.get(f"/history/?period=7d&created_before={before}")
    assert titles(both) <= {"fail-2", "fail-3", "ballad"} and "song" not in titles(both)
    assert "Some filters were ignored" in client.get("/history/?period=year").text


def test_a_preset_sets_the_dashboards_period(client, alice, history):
    client.force_login(alice)
    text = client.get("/history/?period=7d").text
    first = timezone.localdate() - timedelta(days=6)
    assert f"{first:%b} {first.day} –" in unescape(text)
    assert text.count('<a class="chart-bar"') == 7


# --- the chart's day links -----------------------------------------------------------------


def test_each_day_of_the_chart_links_to_that_day_with_the_other_filters_kept(client, alice, history):
    client.force_login(alice)
    text = client.get("/history/?model=suno-v4&sort=-duration&period=30d").text
    svg = re.search(r'<svg class="chart-svg".*?</svg>', text, re.S).group(0)
    day = timezone.localdate() - timedelta(days=2)
    label = f"Show {day:%b} {day.day}: 1 job (API Mall 1)"
    link = re.search(rf'<a class="chart-bar" href="([^"]+)" aria-label="{re.escape(label)}">', svg)
    assert link, svg
    url = unescape(link.group(1))
    assert url == f"/history/?model=suno-v4&sort=-duration&created_after={day}&created_before={day}"
    assert titles(client.get(url)) == {"fail-1"}


def test_the_chart_is_a_group_of_links_with_names(client, alice, history):
    client.force_login(alice)
    text = client.get("/history/").text
    svg = re.search(r'<svg class="chart-svg".*?</svg>', text, re.S).group(0)
    assert 'role="group"' in svg and 'role="img"' not in svg
    assert svg.count('<a class="chart-bar" href="/history/?created_after=') == 30
    assert svg.count('aria-label="Show ') == 30


# --- the failed count by error message --------------------------------------------------------


def breakdown(response) -> list[tuple[str, str, str]]:
    part = response.text.split('aria-label="Failed jobs by error"', 1)
    if len(part) == 1:
        return []
    found = re.findall(r'<a class="chip" href="([^"]+)" title="[^"]*"><strong>(\d+) ×</strong> ([^<]*)</a>', part[1])
    return [(unescape(url), n, unescape(text)) for url, n, text in found]


def test_the_failed_count_is_broken_down_by_message_with_links(client, alice, history):
    client.force_login(alice)
    rows = breakdown(client.get("/history/?model=udio-130"))
    assert [(n, text[:14]) for _, n, text in rows] == [("1", "Content policy"), ("1", "Internal Error")]
    everything = breakdown(client.get("/history/"))
    assert [n for _, n, _ in everything] == ["2", "1", "1"]
    url, _, text = everything[0]
    assert text.startswith("Internal Error: the GPU") and text.endswith("…")
    assert url.startswith("/history/?status=failed&error=Internal+Error")
    assert titles(client.get(url)) == {"fail-1", "fail-2"}


def test_the_breakdown_counts_only_visible_jobs_once_per_page_load(client, alice, carol, history):
    client.force_login(alice)
    first = client.get("/history/")
    texts = " ".join(text for _, _, text in breakdown(first))
    assert "Carol" not in texts and "Bob's secret failure" in texts  # shared with Alice's team
    client.force_login(carol)
    assert [text for _, _, text in breakdown(client.get("/history/"))] == ["Carol's error"]


def test_no_breakdown_without_failed_jobs_or_for_another_status(client, alice, history):
    client.force_login(alice)
    assert breakdown(client.get("/history/?status=succeeded")) == []
    assert breakdown(client.get("/history/?model=suno-v4&days=1&status=running")) == []
    assert breakdown(client.get("/history/?status=failed"))  # the failed ones themselves


def grid(response) -> str:
    """The fold's fields: drawn open in a page, or fetched alone (/history/filters/)."""
    if '<div class="filters-grid">' not in response.text:
        return response.text.strip()
    drawn = response.text.split('<div class="filters-grid">', 1)[1].split("</details>", 1)[0].strip()
    return drawn.removesuffix("</div>").strip()


def test_the_rendered_more_filters_follow_keys_tags_values_and_errors(client, alice, bob, history):
    """The "More filters" grid is rendered once and kept (history.filters.rendering_digest):
    a new key or tag, a value typed, an error or another person gets markup of its own."""
    from annotations.models import Tag

    client.force_login(alice)
    first = grid(client.get("/history/filters/"))
    assert grid(client.get("/history/?more=1")) == first
    make_credential(alice, "audiopod", label="Brand new key")
    Tag.objects.create(owner=alice, name="keeper")
    fresh = grid(client.get("/history/filters/"))
    assert "Brand new key (AudioPod)" in fresh and ">keeper</option>" in fresh
    assert 'value="2026-01-02"' in grid(client.get("/history/?created_after=2026-01-02"))
    assert "Choose a day from" in grid(client.get("/history/?created_after=0001-01-01"))
    client.force_login(bob)
    bobs = grid(client.get("/history/filters/"))
    assert "Brand new key" not in bobs and "keeper" not in bobs and "Mine (API Mall)" not in bobs


def fold(text: str) -> str:
    return re.search(r'<details class="more-filters".*?</details>', text, re.S).group(0)


def test_a_closed_fold_is_fetched_when_opened_and_reads_no_choices(client, alice, history):
    """With none of its filters in use, the page draws the fold closed and empty: its fields
    (and their choices: keys, teams, tags, models) come from /history/filters/ when it first
    opens; without script, its link asks for the page with the fold open."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        text = client.get("/history/?status=failed&sort=credits").text
    closed = fold(text)
    assert " open" not in closed.split(">", 1)[0]
    assert 'hx-get="/history/filters/"' in closed and 'hx-trigger="toggle once"' in closed
    assert 'name="kind"' not in text and 'name="model"' not in text
    assert 'href="/history/?status=failed&amp;sort=credits&amp;more=1">Show the filters' in closed
    # The key field's choices, by label, and the models, are not read.
    assert not [q for q in queries.captured_queries if 'ORDER BY "providers_credential"."label"' in q["sql"]]
    assert not [q for q in queries.captured_queries if "history:models" in q["sql"]]
    # The order and the breakdown's error stay in the form, the fold fetched or not.
    assert '<input type="hidden" name="sort" value="credits" id="id_sort">' in text
    errored = client.get("/history/?error=Content+policy").text
    assert '<input type="hidden" name="error" value="Content policy" id="id_error">' in errored
    fetched = client.get("/history/filters/")
    assert fetched.status_code == 200 and "<html" not in fetched.text and 'name="model"' in fetched.text


@pytest.mark.parametrize(
    "query",
    ["more=1", "kind=music", "starred=1", "period=7d", "created_after=2026-13-45"],
)
def test_the_fold_comes_open_with_the_page_when_in_use_in_error_or_asked(client, alice, history, query):
    client.force_login(alice)
    opened = fold(client.get(f"/history/?{query}").text)
    assert opened.split(">", 1)[0].endswith(" open") and "hx-get" not in opened
    assert 'name="kind"' in opened and 'name="model"' in opened and 'name="tag"' in opened


def test_the_fold_is_for_people_logged_in(client):
    response = client.get("/history/filters/")
    assert response.status_code == 302 and "login" in response["Location"]
