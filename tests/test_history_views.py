"""The merged history: list, filters, keyset pages, fragments, row polls, the job page,
the dashboard strip, the counts beside the filters, empty states and the sync buttons."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history.models import Job, SyncRun
from history.views import PAGE_SIZE
from providers.models import Credential
from teams.models import AuditEvent, Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
NOW = datetime.now(UTC).replace(microsecond=0)
ROW_LINK = re.compile(r'<h3 class="job-title"><a class="job-link" href="/history/([0-9a-f-]{36})/">([^<]*)</a>')
MORE = re.compile(r'<li class="jobs-more">\s*<a class="btn" href="([^"]+)" hx-get="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Counts and the dashboard are cached per person for a short while: start each test clean.
    cache.clear()


def make_job(credential, external_id, *, days_ago: float = 0, **fields) -> Job:
    fields.setdefault("kind", {"apimall": "audio", "munsit": "denoise"}.get(credential.provider, "music"))
    fields.setdefault("status", Job.Status.SUCCEEDED)
    fields.setdefault("title", f"Job {external_id}")
    return Job.objects.create(
        credential=credential,
        provider=credential.provider,
        external_id=external_id,
        created=fields.pop("created", NOW - timedelta(days=days_ago)),
        **fields,
    )


def codes(response) -> list[str]:
    return [code for code, _ in ROW_LINK.findall(response.text)]


def titles(response) -> set[str]:
    return {unescape(title) for _, title in ROW_LINK.findall(response.text)}


@pytest.fixture
def studio(alice, bob, carol):
    """Alice's three keys; Bob's key shared with the team Studio, where Alice is a member
    and Carol a viewer. One job of each kind, at known days and statuses."""
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=bob, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=alice, role=Member.Role.MEMBER)
    Member.objects.create(team=team, user=carol, role=Member.Role.VIEWER)
    mall = make_credential(alice, "apimall", label="Mall")
    pod = make_credential(alice, "audiopod", label="Pod")
    munsit = make_credential(alice, "munsit", label="Clean")
    bobs = make_credential(bob, "apikley", label="Bob Suno")
    Share.objects.create(team=team, credential=bobs, shared_by=bob)
    audio = "https://cdn.example/a.mp3"
    jobs = {
        "song": make_job(
            mall,
            "am-1",
            title="Sunny song",
            prompt="a cheerful ukulele tune",
            credits_used=Decimal("12"),
            outputs=[
                {"kind": "audio", "url": audio, "title": "Sunny song", "duration": 95.0, "position": 0},
                {"kind": "image", "url": "https://cdn.example/cover.png", "title": "Cover", "position": 1},
            ],
        ),
        "picture": make_job(
            mall,
            "img-2",
            kind=Job.Kind.IMAGE,
            title="Red fox",
            prompt="a fox in snow",
            days_ago=3,
            credits_used=Decimal("4.5"),
            outputs=[{"kind": "image", "url": f"https://cdn.example/fox{i}.png", "position": i} for i in range(3)],
        ),
        "track": make_job(
            pod,
            "501",
            title="Night drive",
            days_ago=10,
            status=Job.Status.FAILED,
            provider_status="FAILED",
            error="GPU worker timed out",
            credits_used=Decimal("30"),
        ),
        "cleanup": make_job(
            munsit,
            "dn-7",
            title="interview_take2.wav",
            days_ago=40,
            outputs=[{"kind": "audio", "url": "https://cdn.example/clean.wav", "duration": 61.0}],
            inputs=[{"kind": "audio", "url": "https://cdn.example/raw.wav", "duration": 61.0}],
        ),
        "running": make_job(
            pod, "502", title="Still cooking", status=Job.Status.RUNNING, provider_status="PROCESSING", days_ago=0.01
        ),
        "suno": make_job(
            bobs,
            "task-abc",
            title="Bob's ballad",
            days_ago=1,
            credits_used=Decimal("10"),
            outputs=[
                {"kind": "audio", "url": f"https://cdn.example/t{i}.mp3", "title": f"Ballad {i}", "position": i}
                for i in range(2)
            ],
        ),
    }
    return {"team": team, "mall": mall, "pod": pod, "munsit": munsit, "bobs": bobs, **jobs}


# --- the list -------------------------------------------------------------------------------


def test_the_list_merges_every_visible_job_newest_first(client, alice, studio):
    client.force_login(alice)
    response = client.get("/history/")
    assert response.status_code == 200
    order = ["song", "running", "suno", "picture", "track", "cleanup"]
    assert codes(response) == [str(studio[name].code) for name in order]
    text = response.text
    assert "<title>History · Genboard</title>" in text
    # Media: compact players that load nothing until asked, lazy images, before and after.
    assert text.count("<audio") == 1 + 2 + 2  # the song, both Suno tracks, denoise before/after
    assert 'preload="none"' in text and text.count("<audio") == text.count('preload="none"')
    assert 'src="https://cdn.example/cover.png"' in text and 'loading="lazy"' in text
    assert "Before" in text and "After" in text
    # Status with the provider's raw word on hover, owner only when shared, credits.
    assert 'title="AudioPod says: FAILED"' in text
    assert "shared by bob" in text and "shared by alice" not in text
    assert "12 credits" in text and "4.5 credits" in text
    assert "GPU worker timed out" in text
    # Times absolute in the viewer's zone, made relative by the browser (rows are cached).
    assert re.search(r'<time datetime="[^"]+" title="[^"]+" data-relative>[A-Z][a-z]{2} \d', text)


def test_jobs_of_keys_nobody_shared_stay_hidden(client, carol, dave_key):
    client.force_login(carol)
    assert codes(client.get("/history/")) == []


@pytest.fixture
def dave_key(django_user_model):
    dave = django_user_model.objects.create_user("dave", "dave@example.test", "dave-pass-2026")
    key = make_credential(dave, "apimall", label="Dave's")
    make_job(key, "d-1", title="Dave private")
    return key


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("provider=apimall", {"song", "picture"}),
        ("provider=apikley", {"suno"}),
        ("kind=image", {"picture"}),
        ("kind=denoise", {"cleanup"}),
        ("status=failed", {"track"}),
        ("status=running", {"running"}),
        ("q=sunny", {"song"}),  # title
        ("q=UKULELE", {"song"}),  # prompt, any case
        ("q=interview_take2", {"cleanup"}),  # file name
        ("q=task-ab", {"suno"}),  # external id
        ("credential={mall}", {"song", "picture"}),
        ("credential={bobs}", {"suno"}),
        ("team=studio", {"suno"}),
        ("created_after={d3}", {"song", "picture", "running", "suno"}),
        ("created_before={d3}", {"picture", "track", "cleanup"}),
        ("created_after={d10}&created_before={d3}", {"picture", "track"}),
        ("provider=audiopod&status=failed", {"track"}),
        ("provider=apimall&kind=audio&q=song", {"song"}),
        ("q=job&provider=munsit", set()),
        ("credential={mall}&created_after={d1}", {"song"}),
        ("team=studio&status=succeeded&kind=music", {"suno"}),
    ],
)
def test_each_filter_and_combinations(client, alice, studio, query, expected):
    client.force_login(alice)
    days = {f"d{n}": (NOW - timedelta(days=n)).date().isoformat() for n in (1, 3, 10)}
    url = "/history/?" + query.format(mall=studio["mall"].code, bobs=studio["bobs"].code, **days)
    response = client.get(url)
    assert response.status_code == 200
    assert set(codes(response)) == {str(studio[name].code) for name in expected}, url
    assert "Some filters were ignored" not in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "Status: Select a valid choice"),
        ("provider=openai", "Provider: Select a valid choice"),
        ("kind=video", "Kind: Select a valid choice"),
        ("created_after=yesterday", "From: Enter a valid date"),
        ("created_before=2026-13-45", "To: Enter a valid date"),
        ("credential=not-a-uuid", "Key: Select a valid choice"),
        ("credential=00000000-0000-0000-0000-000000000000", "Key: Select a valid choice"),
        ("team=nope", "Team: Select a valid choice"),
        ("created_after=2026-05-02&created_before=2026-05-01", "To: This day is before the “From” day."),
        ("q=" + "x" * 201, "Search: Ensure this value has at most 200 characters"),
    ],
)
def test_bad_filter_values_are_a_clear_message_never_a_500(client, alice, studio, query, message):
    client.force_login(alice)
    response = client.get("/history/?" + query)
    assert response.status_code == 200
    assert "Some filters were ignored" in response.text
    assert message in unescape(response.text)
    export = client.get("/history/export.json?" + query)
    assert export.status_code == 400 and message in export.content.decode()
    assert client.get("/history/export.csv?" + query).status_code == 400


def test_a_bad_filter_is_ignored_and_the_good_ones_still_apply(client, alice, studio):
    client.force_login(alice)
    response = client.get("/history/?status=bogus&provider=apimall")
    assert set(codes(response)) == {str(studio["song"].code), str(studio["picture"].code)}


def test_a_filter_on_a_team_you_left_is_refused(client, alice, studio):
    Member.objects.filter(user=alice).delete()
    client.force_login(alice)
    response = client.get("/history/?team=studio")
    assert "Team: Select a valid choice" in response.text
    assert str(studio["suno"].code) not in response.text


# --- keyset pages ---------------------------------------------------------------------------


@pytest.fixture
def many(alice):
    """330 jobs on two keys, most sharing one of four timestamps (the hard case for keyset
    paging: order must fall back on the id)."""
    keys = [make_credential(alice, "apimall", label="A"), make_credential(alice, "munsit", label="B")]
    stamps = [NOW - timedelta(hours=h) for h in (1, 2, 3, 4)]
    jobs = []
    for i in range(330):
        key = keys[i % 2]
        jobs.append(
            Job(
                credential=key,
                provider=key.provider,
                kind="audio" if key.provider == "apimall" else "denoise",
                external_id=f"m-{i}",
                title=f"Many {i}",
                status="succeeded" if i % 5 else "failed",
                created=stamps[i % 4] if i < 320 else NOW - timedelta(minutes=i),
            )
        )
    Job.objects.bulk_create(jobs)
    return keys


def walk(client, url: str) -> tuple[list[str], list[str]]:
    """Follow the "more" control from the full page through htmx fragments to the end."""
    response = client.get(url)
    seen, more_urls = codes(response), []
    while match := MORE.search(response.text):
        href, hx_get = (unescape(m) for m in match.groups())
        assert href == hx_get
        more_urls.append(hx_get)
        response = client.get(hx_get, headers=HX)
        assert response.status_code == 200 and "<html" not in response.text
        seen += codes(response)
    return seen, more_urls


def test_walking_the_cursor_shows_each_job_exactly_once_in_a_stable_order(client, alice, many):
    client.force_login(alice)
    seen, more_urls = walk(client, "/history/")
    expected = list(Job.objects.order_by("-created", "-id").values_list("code", flat=True))
    assert seen == [str(code) for code in expected]
    assert len(more_urls) == 330 // PAGE_SIZE
    assert all(url.startswith("/history/?") and "cursor=" in url for url in more_urls)
    last = client.get(more_urls[-1], headers=HX).text
    assert '<span id="results-status" hx-swap-oob="innerHTML">30 more jobs loaded: that is everything.</span>' in last


def test_the_more_control_keeps_the_filters(client, alice, many):
    client.force_login(alice)
    seen, more_urls = walk(client, "/history/?status=succeeded&provider=apimall&q=many")
    expected = Job.objects.filter(status="succeeded", provider="apimall").order_by("-created", "-id")
    assert seen == [str(code) for code in expected.values_list("code", flat=True)]
    assert len(more_urls) == 2
    assert all("status=succeeded" in u and "provider=apimall" in u and "q=many" in u for u in more_urls)
    page = client.get("/history/").text
    assert 'hx-get="/history/?cursor=' in page and 'hx-trigger="revealed, click"' in page


def test_a_page_is_cheap_whatever_its_depth(client, alice, many):
    """No OFFSET and no COUNT for a page of rows: one keyset query (plus the session's, the
    person's layout preferences, one for the visible keys with their owners' names and one for
    the viewer's marks: annotations.marks); for rows not in the cache yet, one for the rest of
    their jobs and one for their archived files (history.row_cache.complete)."""
    client.force_login(alice)
    _, more_urls = walk(client, "/history/")
    caches["rows"].clear()
    for most in (8, 6):  # rendered, then from the cache
        with CaptureQueriesContext(connection) as queries:
            client.get(more_urls[-1], headers=HX)
        sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
        assert "OFFSET" not in sql and "COUNT(" not in sql
        # The one grouping is each row's archived files, in its digest (row_cache.with_digest).
        assert sql.count("GROUP BY") == sql.count("MD5(") == 1
        assert len(queries.captured_queries) <= most


def test_a_broken_cursor_shows_the_newest_jobs_and_says_so(client, alice, many):
    client.force_login(alice)
    response = client.get("/history/?cursor=garbage")
    assert response.status_code == 200 and "That page link is broken" in response.text
    assert codes(response)[0] == str(Job.objects.order_by("-created", "-id").first().code)


def test_without_javascript_the_next_page_is_a_full_page_with_a_way_back(client, alice, many):
    client.force_login(alice)
    first = client.get("/history/")
    href = unescape(MORE.search(first.text).group(1))
    second = client.get(href)
    assert "<html" in second.text and "Back to the newest jobs" in second.text
    assert not set(codes(first)) & set(codes(second))


# --- fragments -----------------------------------------------------------------------------


def test_htmx_gets_the_rows_only(client, alice, studio):
    client.force_login(alice)
    fragment = client.get("/history/", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<form" not in fragment.text.split('<li class="job', 1)[0]
    assert len(codes(fragment)) == 6
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_filter_form_gets_the_results_with_counts_and_a_clean_address(client, alice, studio):
    client.force_login(alice)
    response = client.get("/history/?q=&provider=apimall&kind=&status=", headers={**HX, "HX-Target": "history-results"})
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="history-results"')
    assert response.headers["HX-Push-Url"] == "/history/?provider=apimall"
    assert set(codes(response)) == {str(studio["song"].code), str(studio["picture"].code)}
    # The counts beside the options come along, swapped in place.
    assert '<span id="count-status-succeeded" hx-swap-oob="true" class="pill-count">2</span>' in response.text
    assert "Last 30 days" in response.text
    # Screen readers hear how many match (the list itself is not a live region).
    assert '<span id="results-status" hx-swap-oob="innerHTML">2 jobs match the filters.</span>' in response.text


def test_going_back_gets_the_whole_page(client, alice, studio):
    client.force_login(alice)
    response = client.get("/history/?provider=apimall", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.text and 'id="history-filters"' in response.text


def test_the_form_changes_the_list_with_htmx_and_works_without(client, alice, studio):
    client.force_login(alice)
    page = client.get("/history/").text
    form = re.search(r'<form id="history-filters"[^>]*>', page).group(0)
    for attribute in ('method="get"', 'action="/history/"', 'hx-get="/history/"', 'hx-push-url="true"'):
        assert attribute in form
    assert 'hx-target="#history-results"' in form and 'hx-indicator="#history-loading"' in form
    for name in ("q", "provider", "status"):
        assert f'name="{name}"' in page
    # The fold's fields come when it opens (history.more_filters), or with the page on ?more=1.
    for text in (client.get("/history/filters/").text, client.get("/history/?more=1").text):
        for name in ("kind", "credential", "team", "created_after", "created_before"):
            assert f'name="{name}"' in text


# --- counts beside the filters ----------------------------------------------------------------


def test_counts_per_status_and_provider_leave_out_their_own_filter(client, alice, studio):
    client.force_login(alice)

    def count(text, facet, value):
        return int(re.search(rf'id="count-{facet}-{value}">([\d,]+)<', text).group(1))

    page = client.get("/history/").text
    assert count(page, "status", "all") == 6 and count(page, "status", "succeeded") == 4
    assert count(page, "provider", "apimall") == 2 and count(page, "provider", "munsit") == 1
    page = client.get("/history/?provider=audiopod").text
    # Statuses within AudioPod; providers as if no provider was chosen.
    assert [count(page, "status", s) for s in ("failed", "running", "all")] == [1, 1, 2]
    assert count(page, "provider", "apimall") == 2 and count(page, "provider", "all") == 6
    page = client.get("/history/?status=failed").text
    assert count(page, "provider", "audiopod") == 1 and count(page, "provider", "apimall") == 0
    assert count(page, "status", "succeeded") == 4


def test_counts_and_the_dashboard_are_one_group_by_each_and_cached_briefly(client, alice, studio):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as first:
        client.get("/history/?kind=music")
    # Not the rows' digests of their archived files (history.row_cache.with_digest).
    grouped = [q for q in first.captured_queries if "GROUP BY" in q["sql"].upper() and "MD5(" not in q["sql"].upper()]
    # Counts, the dashboard, and the failed jobs by error (the fixture has a failed one).
    assert len(grouped) == 3
    with CaptureQueriesContext(connection) as again:
        client.get("/history/?kind=music")
    assert not [q for q in again.captured_queries if "GROUP BY" in q["sql"].upper() and "MD5(" not in q["sql"].upper()]


# --- the dashboard strip ----------------------------------------------------------------------


def dashboard_numbers(text: str) -> dict[str, str]:
    section = text.split('<section class="card dash"', 1)[1].split("</section>", 1)[0]
    return {unescape(re.sub(r"<[^>]+>", "", dt)).strip(): re.sub(r"<[^>]+>", "", dd).strip() for dt, dd in
            re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section)}  # fmt: skip


def test_the_dashboard_counts_jobs_and_credits_per_provider_over_the_last_30_days(client, alice, studio):
    client.force_login(alice)
    make_job(studio["mall"], "old", days_ago=31, credits_used=Decimal("1000"))
    text = client.get("/history/").text
    numbers = dashboard_numbers(text)
    # The 40-day-old denoise and the 31-day-old job are outside the default period.
    assert numbers["Jobs"] == "5" and numbers["Credits used"] == "56.5"
    assert numbers["API Mall"] == "2 jobs · 16.5 credits"
    assert numbers["AudioPod"] == "2 jobs · 30 credits"
    assert numbers["Apikley (Suno)"] == "1 job · 10 credits"
    assert "Munsit (denoise)" not in numbers
    assert "Last 30 days" in text
    svg = re.search(r"<svg class=\"chart-svg\".*?</svg>", text, re.S).group(0)
    assert 'role="group"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">Jobs per day, stacked by provider</title>' in svg
    # One link per day, and one segment per provider and day (besides each day's hit area).
    assert svg.count('<a class="chart-bar"') == 30 and svg.count("<rect") - svg.count("chart-hit") == 5
    assert "the busiest was" in svg and "Busiest:" in text


def test_the_dashboard_follows_the_date_filters(client, alice, studio):
    client.force_login(alice)
    after, before = (NOW - timedelta(days=45)).date(), (NOW - timedelta(days=5)).date()
    text = client.get(f"/history/?created_after={after}&created_before={before}").text
    numbers = dashboard_numbers(text)
    assert numbers["Jobs"] == "2"  # the failed track (10 days ago) and the denoise (40)
    assert numbers["Munsit (denoise)"] == "1 job" and numbers["Credits used"] == "30"
    munsit_only = dashboard_numbers(client.get(f"/history/?provider=munsit&created_after={after}").text)
    assert munsit_only["Credits used"] == "—"  # Munsit never says what a job cost
    assert f"{after:%b} {after.day}, {after.year} – " in unescape(text)
    assert re.search(r"<svg class=\"chart-svg\".*?</svg>", text, re.S).group(0).count('<a class="chart-bar"') == 41


def test_a_long_period_is_drawn_in_a_few_dozen_bars(client, alice, studio):
    client.force_login(alice)
    text = client.get("/history/?created_after=2020-01-01").text
    svg = re.search(r"<svg class=\"chart-svg\".*?</svg>", text, re.S).group(0)
    assert 20 <= svg.count('<a class="chart-bar"') <= 60 and "Jobs per" in svg and "days, stacked by provider" in svg


# --- empty and error states ---------------------------------------------------------------------


def test_no_keys_yet_explains_how_to_add_one(client, alice):
    client.force_login(alice)
    text = client.get("/history/").text
    assert "Bring in your first history" in text and 'href="/keys/new/"' in text
    assert 'id="history-filters"' not in text  # nothing to filter yet


def test_keys_without_jobs_offer_a_sync(client, alice):
    make_credential(alice, "audiopod")
    client.force_login(alice)
    text = client.get("/history/").text
    assert "No jobs yet" in text and 'action="/history/sync/"' in text


def test_a_sync_under_way_shows_its_progress(client, alice):
    key = make_credential(alice, "audiopod", label="Fresh")
    SyncRun.objects.create(credential=key, trigger=SyncRun.Trigger.MANUAL, state=SyncRun.State.RUNNING, pages=3)
    client.force_login(alice)
    text = client.get("/history/").text
    assert "Importing your history" in text and "<progress" in text and "3 pages read" in text


def test_the_filter_forms_answer_reads_syncs_only_for_an_empty_list(client, alice, studio):
    """The results region draws neither the notices nor "More filters": it reads the syncs
    only when its empty state may say that an import is under way."""
    SyncRun.objects.create(credential=studio["pod"], trigger=SyncRun.Trigger.MANUAL, state=SyncRun.State.RUNNING)
    client.force_login(alice)
    results = {**HX, "HX-Target": "history-results"}
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/history/?provider=apimall", headers=results)
    assert codes(response) and "Importing your history" not in response.text
    assert not [q for q in queries.captured_queries if "history_syncrun" in q["sql"]]
    # The key field's choices ("More filters"), by label: not read for the results.
    assert not [q for q in queries.captured_queries if 'ORDER BY "providers_credential"."label"' in q["sql"]]
    empty = client.get("/history/?q=nothing-like-this", headers=results)
    assert "No jobs match these filters" in empty.text
    Job.objects.all().delete()
    assert "Importing your history" in client.get("/history/", headers=results).text


def test_the_full_page_reads_its_summaries_at_once_and_the_teams_and_keys_once(client, alice, studio):
    """The counts, the failed count's breakdown and the strip come from one cache read once
    kept (history.dashboard.read_ahead); the person's teams are read once for the tabs and
    the bulk bar's team tags, and the keys once for the walks and the person's own (the sync
    menu, the summary line and the balances: history.views.visible_keys)."""
    from unittest import mock

    from history import dashboard

    client.force_login(alice)
    first = client.get("/history/?provider=audiopod")
    with (
        mock.patch.object(dashboard.cache, "get_or_set", side_effect=AssertionError("read one by one")),
        CaptureQueriesContext(connection) as queries,
    ):
        again = client.get("/history/?provider=audiopod")
    assert codes(again) == codes(first)
    for facet, option in (("status", "all"), ("status", "failed"), ("provider", "apimall")):
        count = f'id="count-{facet}-{option}">'
        assert again.text.split(count)[1][:5] == first.text.split(count)[1][:5]
    assert again.text.count('class="chart-bar"') == first.text.count('class="chart-bar"') > 0
    teams = [
        q for q in queries.captured_queries if q["sql"].startswith(('SELECT "teams_member"', 'SELECT "teams_team"'))
    ]
    assert len(teams) == 1
    keys = [q for q in queries.captured_queries if q["sql"].startswith('SELECT "providers_credential"')]
    assert len(keys) == 1
    assert all(f'aria-label="Sync {label}"' in again.text for label in ("Mall", "Pod", "Clean"))  # her own keys
    assert 'aria-label="Sync Bob Suno"' not in again.text  # shared with her team, not hers
    # The team is offered for a team tag in the bulk bar, and to save a view for.
    assert f'<option value="{studio["team"].slug}">Team ' in again.text


def test_no_match_tells_how_to_clear_the_filters(client, alice, studio):
    client.force_login(alice)
    text = client.get("/history/?q=nothing-like-this&provider=apimall").text
    assert "No jobs match these filters" in text and 'href="/history/">Clear all filters' in text
    # Each filter in use can be removed on its own.
    assert 'href="/history/?provider=apimall"' in text and 'href="/history/?q=nothing-like-this"' in text


def test_a_rejected_key_of_yours_is_a_notice_to_its_page(client, alice, studio):
    Credential.objects.filter(pk=studio["pod"].pk).update(status="rejected", last_error="Invalid API key")
    client.force_login(alice)
    text = unescape(client.get("/history/").text)
    assert "1 key needs attention" in text  # the summary line; the details under it say which
    assert "AudioPod rejected your key “Pod”" in text and "Invalid API key" in text
    assert f'href="/keys/{studio["pod"].code}/">Fix the key' in text


# --- one job's row, polled while unfinished -----------------------------------------------------


def test_an_unfinished_row_polls_until_it_finished(client, alice, studio):
    client.force_login(alice)
    job = studio["running"]
    page = client.get("/history/").text
    row = re.search(rf'<li class="job job-running" id="job-{job.code}"[^>]*>', page).group(0)
    poll = re.search(r'hx-get="([^"]+)"', row).group(1)
    assert poll.startswith(f"/history/{job.code}/row/?v=") and 'hx-trigger="every 5s"' in row
    assert client.get(poll, headers=HX).status_code == 204  # nothing changed: no swap
    Job.objects.filter(pk=job.pk).update(status="succeeded", outputs=[{"kind": "audio", "url": "https://x/1.mp3"}])
    response = client.get(poll, headers=HX)
    assert response.status_code == 200 and "<audio" in response.text
    assert f'id="job-{job.code}"' in response.text and "hx-trigger" not in response.text
    assert re.search(rf'<li class="job job-succeeded" id="job-{job.code}">', page) is None
    finished = re.search(rf'<li class="job job-succeeded" id="job-{studio["song"].code}"[^>]*>', page).group(0)
    assert "hx-get" not in finished


def test_a_stale_row_does_not_poll(client, alice, studio):
    Job.objects.filter(pk=studio["running"].pk).update(stale=True)
    client.force_login(alice)
    response = client.get(f"/history/{studio['running'].code}/row/")
    assert "hx-trigger" not in response.text and "stopped asking" in response.text


def test_rows_and_pages_of_jobs_you_cannot_see_are_404(client, carol, dave_key, studio):
    client.force_login(carol)
    hidden = [Job.objects.get(external_id="d-1"), studio["song"]]
    for job in hidden:
        assert client.get(f"/history/{job.code}/").status_code == 404
        assert client.get(f"/history/{job.code}/row/").status_code == 404
    assert client.get(f"/history/{studio['suno'].code}/row/").status_code == 200  # viewer of Studio


# --- the job page ---------------------------------------------------------------------------------


def test_the_job_page_shows_everything_we_know(client, alice, studio):
    job = studio["track"]
    Job.objects.filter(pk=job.pk).update(
        status="succeeded",
        error="",
        completed=job.created + timedelta(seconds=72),
        outputs=[
            {
                "kind": "audio",
                "url": "https://cdn.example/n.mp3",
                "title": "Night drive",
                "duration": 187.4,
                "downloads": {"mp3": "https://cdn.example/n.mp3", "wav": "https://cdn.example/n.wav"},
            },
            {"kind": "image", "url": "https://cdn.example/n.png", "title": "Cover"},
        ],
        raw={"id": 501, "status": "COMPLETED", "lrc_content": "[00:08.00]City lights\n[00:15.50]Engine hum"},
        next_poll=None,
    )
    client.force_login(alice)
    text = unescape(client.get(f"/history/{job.code}/").text)
    assert "<title>Night drive · History · Genboard</title>" in text
    assert '<audio controls preload="metadata" src="https://cdn.example/n.mp3"' in text
    assert 'href="https://cdn.example/n.wav" download>WAV</a>' in text and ">MP3</a>" in text
    assert 'src="https://cdn.example/n.png"' in text
    assert "3:07" in text and "after 1 min 12 s" in text
    assert '<span class="lyrics-time">0:15</span><span>Engine hum</span>' in text
    assert "<summary>Raw provider record</summary>" in text and '"lrc_content": "[00:08.00]City lights' in text
    for label in ("Created", "Completed", "Imported", "Last refreshed"):
        assert f'<span class="timeline-label">{label}</span>' in text
    assert "Pod" in text and "<dd>You</dd>" in text


def test_the_job_page_of_a_shared_suno_task(client, alice, studio):
    job = studio["suno"]
    raw = {"taskId": "task-abc", "param": json.dumps({"prompt": "a slow ballad", "model": "V4", "instrumental": False})}
    Job.objects.filter(pk=job.pk).update(raw=raw, error="Sensitive word", error_code="SENSITIVE_WORD_ERROR")
    client.force_login(alice)
    text = unescape(client.get(f"/history/{job.code}/").text)
    assert "<dt>prompt</dt><dd>a slow ballad</dd>" in text and "<dt>instrumental</dt><dd>false</dd>" in text
    assert "Ballad 0" in text and "Ballad 1" in text and text.count("<audio") == 2
    assert "Sensitive word" in text and "<code>SENSITIVE_WORD_ERROR</code>" in text
    assert "<dt>Owner</dt><dd>bob</dd>" in text and 'href="/teams/studio/">Studio</a>' in text
    assert "Bob Suno" in text and "…" + studio["bobs"].last4 not in text  # the label only
    # Not alice's key: no provider actions, nothing to refresh (her own marks are forms too).
    actions = re.findall(r'action="/history/[^/"]+/([a-z]+)/', text)
    assert actions and set(actions) <= {"star", "tags", "note"}


def test_an_unfinished_job_page_says_when_we_look_again(client, alice, studio):
    job = studio["running"]
    Job.objects.filter(pk=job.pk).update(next_poll=timezone.now() + timedelta(minutes=3))
    client.force_login(alice)
    text = client.get(f"/history/{job.code}/").text
    assert '<span class="timeline-label">Next look</span>' in text and "Refresh now" in text
    Job.objects.filter(pk=job.pk).update(next_poll=None, stale=True)
    assert "Genboard stopped asking" in client.get(f"/history/{job.code}/").text


def test_a_teammates_unfinished_job_page_reads_the_persons_roles_once(client, alice, carol, studio):
    """Its teams, the tags one may put on it and "Refresh now" come from one read of the
    person's memberships (annotations.access.roles_seeing)."""
    job = make_job(studio["bobs"], "task-late", status=Job.Status.RUNNING, days_ago=0.01)
    for person, refreshes in ((alice, True), (carol, False)):
        client.force_login(person)
        with CaptureQueriesContext(connection) as queries:
            text = client.get(f"/history/{job.code}/").text
        assert ("Refresh now" in text) == refreshes and 'href="/teams/studio/">Studio</a>' in text
        assert len([q for q in queries.captured_queries if 'FROM "teams_member"' in q["sql"]]) == 1


def test_the_lineage_lists_the_children_one_sees_and_probes_its_index_first(client, alice, carol, studio):
    """Jobs naming this one as their parent are listed when the person sees them; a job that
    no job names is known from the lineage index alone, without the visible children's query."""
    song = studio["song"]  # Alice's ApiMall job "am-1"
    make_job(studio["mall"], "am-2", title="Longer song", parent_ref="am-1", details={"operation": "extend"})
    other = make_credential(carol, "apimall", label="Carol's")  # nobody else sees it
    make_job(other, "am-3", title="Carol's cover", parent_ref="am-1")
    client.force_login(alice)
    text = client.get(f"/history/{song.code}/").text
    assert "Continued by:" in text and 'Longer song</a> <span class="muted">(extend)</span>' in text
    assert "Carol&#39;s cover" not in text and "Carol's cover" not in text
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/history/{studio['picture'].code}/")
    assert not [q for q in queries.captured_queries if '"history_job"."parent_ref" IN' in q["sql"]]


def test_the_job_page_shows_its_times_in_the_persons_time_zone(client, alice, studio):
    """The job page is a Jinja2 template (config/jinja.py): its times are in the zone the
    browser gave (core.middleware), as Django's templates show them, and in UTC without one."""
    job = studio["song"]
    created = datetime(2026, 1, 15, 12, 30, 5, tzinfo=UTC)
    Job.objects.filter(pk=job.pk).update(created=created, completed=created + timedelta(seconds=72))
    client.force_login(alice)
    utc = client.get(f"/history/{job.code}/").text
    assert '<time datetime="2026-01-15T12:30:05+00:00" title="Jan. 15, 2026, 12:30 p.m. (UTC)">' in utc
    client.cookies["tz"] = "Europe/Berlin"
    text = client.get(f"/history/{job.code}/").text
    assert '<time datetime="2026-01-15T13:30:05+01:00" title="Jan. 15, 2026, 1:30 p.m. (CET)">' in text
    # The timeline: created, then completed 72 seconds later.
    assert 'Jan 15, 2026, 13:30:05 <span class="muted">CET</span></time>' in text
    assert 'Jan 15, 2026, 13:31:17 <span class="muted">CET</span></time> <span class="muted">after 1 min 12 s' in text


# --- actions: who may ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["rename", "retry", "delete", "refresh"])
def test_actions_are_404_for_outsiders_and_403_for_read_only_members(client, alice, bob, carol, studio, action):
    pod_job, suno_job = studio["track"], studio["suno"]
    before = AuditEvent.objects.count()
    client.force_login(carol)  # outsider to alice's keys, viewer of bob's
    assert client.post(f"/history/{pod_job.code}/{action}/", {"name": "x"}).status_code == 404
    if action == "refresh":
        unfinished = make_job(studio["bobs"], "task-run", status=Job.Status.RUNNING)
        assert client.post(f"/history/{unfinished.code}/refresh/").status_code == 403
    client.force_login(bob)  # sees alice's jobs? no: her keys are not shared
    assert client.post(f"/history/{pod_job.code}/{action}/", {"name": "x"}).status_code == 404
    client.force_login(alice)  # a member of Studio: Apikley has no such call at all
    if action != "refresh":
        assert client.post(f"/history/{suno_job.code}/{action}/", {"name": "x"}).status_code == 404
    assert AuditEvent.objects.count() == before
    assert Job.objects.filter(pk=pod_job.pk, title="Night drive").exists()


def test_provider_actions_are_the_key_owners_and_only_where_the_provider_has_them(client, alice, bob, carol, studio):
    shared = studio["suno"]
    Share.objects.create(team=studio["team"], credential=studio["pod"], shared_by=alice)
    for user in (bob, carol):  # the team's owner, a viewer: both see the job, neither owns the key
        client.force_login(user)
        for action in ("rename", "retry", "delete"):
            assert client.post(f"/history/{studio['track'].code}/{action}/", {"name": "x"}).status_code == 403
        assert client.get(f"/history/{studio['track'].code}/delete/").status_code == 403
        page = client.get(f"/history/{studio['track'].code}/")
        assert page.status_code == 200 and "/rename/" not in page.text and "/delete/" not in page.text
    client.force_login(bob)
    for action in ("rename", "retry", "delete"):
        # Apikley has no such calls: there is no such action, even for the key's owner.
        assert client.post(f"/history/{shared.code}/{action}/", {"name": "x"}).status_code == 404
    assert not AuditEvent.objects.exists()


def test_actions_are_posts(client, alice, studio):
    client.force_login(alice)
    for action in ("rename", "retry", "refresh"):
        assert client.get(f"/history/{studio['track'].code}/{action}/").status_code == 405


def test_anonymous_actions_go_to_log_in(client, studio):
    for action in ("rename", "retry", "refresh", "delete", "row"):
        response = client.post(f"/history/{studio['track'].code}/{action}/")
        assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login/")


# --- refresh now ---------------------------------------------------------------------------------


def test_refresh_now_makes_the_job_due_and_queues_its_keys_sync(client, alice, studio):
    job = studio["running"]
    Job.objects.filter(pk=job.pk).update(next_poll=timezone.now() + timedelta(minutes=8), stale=True)
    client.force_login(alice)
    response = client.post(f"/history/{job.code}/refresh/", {"next": "/history/?status=running"})
    assert response.status_code == 302 and response.headers["Location"] == "/history/?status=running"
    job.refresh_from_db()
    assert job.next_poll <= timezone.now() and not job.stale
    assert SyncRun.objects.filter(credential=studio["pod"], state="queued").count() == 1
    event = AuditEvent.objects.get(verb="job.refresh")
    assert event.actor == alice and "Still cooking" in event.subject
    assert "Asked AudioPod for the latest" in client.get("/history/").text


def test_refresh_now_by_a_team_member_with_htmx_answers_the_row(client, alice, bob, studio):
    job = make_job(studio["bobs"], "task-slow", status=Job.Status.PENDING, title="Slow ballad")
    client.force_login(alice)  # a member (not viewer) of the team Bob's key is shared with
    response = client.post(f"/history/{job.code}/refresh/", headers={**HX, "HX-Target": f"job-{job.code}"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<li class="job job-pending" id="job-{job.code}"')
    assert '<div id="live-messages" hx-swap-oob="innerHTML">' in response.text
    assert "Asked Apikley (Suno) for the latest" in response.text
    assert AuditEvent.objects.get(verb="job.refresh").team == studio["team"]


def test_refresh_now_of_a_finished_job_or_through_a_rejected_key_is_refused(client, alice, studio):
    client.force_login(alice)
    client.post(f"/history/{studio['song'].code}/refresh/")
    assert "nothing to refresh" in client.get("/history/").text
    Credential.objects.filter(pk=studio["pod"].pk).update(status="rejected")
    client.post(f"/history/{studio['running'].code}/refresh/")
    assert "AudioPod rejected the key" in unescape(client.get("/history/").text)
    assert not SyncRun.objects.exists() and not AuditEvent.objects.exists()


# --- sync buttons -------------------------------------------------------------------------------


def test_sync_all_queues_each_usable_key_of_yours(client, alice, studio):
    Credential.objects.filter(pk=studio["munsit"].pk).update(status="reenter")
    client.force_login(alice)
    response = client.post("/history/sync/", headers=HX)
    assert response.status_code == 200
    assert set(SyncRun.objects.values_list("credential__label", flat=True)) == {"Mall", "Pod"}
    assert response.text.count('class="sync-progress"') == 2 and "Mall" in response.text
    assert AuditEvent.objects.filter(verb="key.sync").count() == 2
    response = client.post("/history/sync/")
    assert response.status_code == 302 and response.headers["Location"] == "/history/"
    assert SyncRun.objects.count() == 2  # already queued: not twice


def test_sync_buttons_per_key_on_the_history_and_key_pages(client, alice, studio):
    client.force_login(alice)
    history = client.get("/history/").text
    for key in ("mall", "pod", "munsit"):
        assert f'hx-post="/history/sync/{studio[key].code}/"' in history
    assert f"/history/sync/{studio['bobs'].code}/" not in history
    key_page = client.get(f"/keys/{studio['pod'].code}/").text
    assert f'hx-post="/history/sync/{studio["pod"].code}/"' in key_page and "Last sync" in key_page
    response = client.post(f"/history/sync/{studio['pod'].code}/", {"next": "/history/"})
    assert response.headers["Location"] == "/history/"
    response = client.post(f"/history/sync/{studio['pod'].code}/", {"next": "https://evil.example/"})
    assert response.headers["Location"] == f"/keys/{studio['pod'].code}/"


def test_the_keys_pages_show_sync_status(client, alice, studio):
    now = timezone.now()
    Credential.objects.filter(pk=studio["pod"].pk).update(
        last_sync=now - timedelta(minutes=5),
        sync_error="Rate limited by AudioPod",
        paused_until=now + timedelta(minutes=3),
    )
    client.force_login(alice)
    keys = client.get("/keys/").text
    assert "Rate limited by AudioPod" in keys and "Last sync" in keys
    page = client.get(f"/keys/{studio['pod'].code}/").text
    assert "5\xa0minutes ago" in page and "<dt>Paused</dt>" in page and "Rate limited by AudioPod" in page


def test_the_import_form_waits_for_an_apikley_key(client, alice, studio):
    client.force_login(alice)
    page = client.get("/history/import/").text
    assert "No Apikley key yet" in page and '<fieldset class="plain-fieldset" disabled>' in page
    assert 'name="credential"' in page and 'name="task_ids"' in page
    make_credential(alice, "apikley", label="Suno")
    page = client.get("/history/import/").text
    assert "No Apikley key yet" not in page and "disabled" not in page


def test_a_denoised_video_plays_compact_in_the_list_and_as_a_video_on_its_page(client, alice, studio):
    job = make_job(
        studio["munsit"],
        "dn-video",
        title="street.mov",
        outputs=[{"kind": "video", "url": "https://cdn.example/clean.mp4"}],
        inputs=[{"kind": "video", "url": "https://cdn.example/raw.mov"}],
    )
    client.force_login(alice)
    row = client.get(f"/history/{job.code}/row/").text
    assert row.count('<audio controls preload="none"') == 2 and "<video" not in row
    page = client.get(f"/history/{job.code}/").text
    assert page.count('<video class="player-video" controls preload="metadata"') == 2
    assert "Before (original upload)" in page and "After (denoised)" in page
