"""Sorting the history (history.sorting): every sort both ways, unknown values last, ties by
id, every job exactly once when walking all pages, cursors, the URL helpers, the indexes the
walks use, exports in the chosen order, and Job.duration as the sync and the migration fill it."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.cache import cache, caches
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from history import sorting, views
from history.filters import JobFilter
from history.models import Job
from history.sync import store
from providers.records import JobRecord, Output
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
BASE = datetime(2026, 3, 1, tzinfo=UTC)
ROW_CODE = re.compile(r'id="job-([0-9a-f-]{36})"')
MORE = re.compile(r'<li class="jobs-more">\s*<a class="btn" href="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def as_user(user):
    request = RequestFactory().get("/history/")
    request.user = user
    return request


def add_job(credential, n: int, **fields) -> Job:
    fields.setdefault("status", Job.Status.SUCCEEDED)
    return Job.objects.create(
        credential=credential,
        provider=credential.provider,
        kind=fields.pop("kind", "music"),
        external_id=f"j{n}",
        created=fields.pop("created", BASE + timedelta(hours=n)),
        **fields,
    )


def expected_order(jobs: list[Job], sort: sorting.Sort) -> list[int]:
    """The order the sort promises, worked out in Python: known values by value, unknown
    ones last, ties by id, all in the sort's direction."""
    known = [job for job in jobs if getattr(job, sort.field) is not None]
    unknown = [job for job in jobs if getattr(job, sort.field) is None]
    known.sort(key=lambda job: (getattr(job, sort.field), job.pk), reverse=sort.descending)
    unknown.sort(key=lambda job: job.pk, reverse=sort.descending)
    return [job.pk for job in known + unknown]


def walk_all(user, params: dict, page_size: int, monkeypatch) -> list[int]:
    """Every page of the list through views.page_rows, each cursor made and parsed as a page
    link carries it."""
    monkeypatch.setattr(views, "PAGE_SIZE", page_size)
    seen, cursor = [], None
    for _ in range(1000):
        filters = JobFilter(params or None, queryset=Job.objects.visible_to(user), request=as_user(user))
        page = views.page_rows(filters, cursor, views.visible_keys(user))
        seen += [job.pk for job in page[:page_size]]
        if len(page) <= page_size:
            return seen
        sort = filters.order
        cursor = sorting.parse_cursor(sort, sorting.make_cursor(sort, page[page_size - 1]))
        assert cursor is not None
    raise AssertionError("the walk did not end")


# Few distinct values, so that ties and unknown values are common.
maybe_time = st.one_of(st.none(), st.integers(0, 4).map(lambda h: BASE + timedelta(hours=h)))
maybe_length = st.one_of(st.none(), st.sampled_from([1.5, 30.0, 30.0, 187.25]))
maybe_credits = st.one_of(st.none(), st.sampled_from([Decimal("0"), Decimal("2.5"), Decimal("12")]))
job_values = st.fixed_dictionaries(
    {
        "key": st.integers(0, 2),
        "created": st.integers(0, 5).map(lambda h: BASE + timedelta(hours=h)),
        "completed": maybe_time,
        "duration": maybe_length,
        "credits_used": maybe_credits,
    }
)


@pytest.mark.parametrize("value", list(sorting.SORTS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(job_values, min_size=0, max_size=14), page_size=st.integers(1, 4))
def test_walking_every_page_gives_every_job_once_in_the_sorts_order(alice, bob, monkeypatch, value, rows, page_size):
    sort = sorting.SORTS[value]
    with transaction.atomic():
        keys = [make_credential(alice, "apimall", label=f"k{i}") for i in range(2)]
        keys.append(make_credential(bob, "apimall", label="Bob's"))  # not Alice's: never listed
        jobs = [add_job(keys[row.pop("key")], n, **row) for n, row in enumerate(rows)]
        mine = [job for job in jobs if job.credential.owner_id == alice.pk]
        for job in mine:
            job.refresh_from_db()  # values as the database holds them
        params = {} if sort is sorting.DEFAULT else {"sort": value}
        walked = walk_all(alice, params, page_size, monkeypatch)
        plain = list(Job.objects.visible_to(alice).order_by(*sort.ordering()).values_list("pk", flat=True))
        assert walked == plain == expected_order(mine, sort)
        transaction.set_rollback(True)


@pytest.fixture
def sorted_jobs(alice):
    mall = make_credential(alice, "apimall", label="Mall")
    pod = make_credential(alice, "audiopod", label="Pod")
    jobs = {
        "short": add_job(mall, 1, duration=30.0, credits_used=Decimal("2"), completed=BASE + timedelta(hours=5)),
        "long": add_job(pod, 2, duration=240.0, credits_used=Decimal("12"), completed=BASE + timedelta(hours=3)),
        "image": add_job(mall, 3, kind="image", credits_used=Decimal("4.5"), completed=BASE + timedelta(hours=4)),
        "running": add_job(pod, 4, status=Job.Status.RUNNING),
        "tie": add_job(mall, 5, duration=240.0, completed=BASE + timedelta(hours=9)),
    }
    return jobs


def listed(client, url: str) -> list[str]:
    return ROW_CODE.findall(client.get(url, headers=HX).text)


@pytest.mark.parametrize(
    "value, order",
    [
        ("-created", ["tie", "running", "image", "long", "short"]),
        ("created", ["short", "long", "image", "running", "tie"]),
        ("-completed", ["tie", "short", "image", "long", "running"]),
        ("completed", ["long", "image", "short", "tie", "running"]),
        ("-duration", ["tie", "long", "short", "running", "image"]),
        ("duration", ["short", "long", "tie", "image", "running"]),
        ("-credits", ["long", "image", "short", "tie", "running"]),
        ("credits", ["short", "image", "long", "running", "tie"]),
    ],
)
def test_each_sort_orders_the_list_with_unknown_values_last(client, alice, sorted_jobs, value, order):
    client.force_login(alice)
    assert listed(client, f"/history/?sort={value}") == [str(sorted_jobs[name].code) for name in order]


def test_next_page_links_keep_the_sort_and_carry_its_value(client, alice, sorted_jobs, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client.force_login(alice)
    response = client.get("/history/?sort=-duration", headers=HX)
    url = MORE.search(response.text).group(1).replace("&amp;", "&")
    assert "sort=-duration" in url and f"cursor=240.0_{sorted_jobs['long'].pk}" in url
    second = client.get(url, headers=HX)
    assert ROW_CODE.findall(second.text) == [str(sorted_jobs["short"].code), str(sorted_jobs["running"].code)]
    third = MORE.search(second.text).group(1).replace("&amp;", "&")
    assert f"cursor=none_{sorted_jobs['running'].pk}" in third  # past the known values
    assert listed(client, third) == [str(sorted_jobs["image"].code)]


def test_a_deep_page_links_back_to_the_first_page_of_its_order(client, alice, sorted_jobs):
    client.force_login(alice)
    text = client.get(f"/history/?sort=duration&cursor=30.0_{sorted_jobs['short'].pk}").text
    assert '<a href="/history/?sort=duration">Back to the first page</a>' in text


@pytest.mark.parametrize("sort, label", [("duration", "Back to the first page"), ("", "Back to the newest jobs")])
def test_a_deep_page_of_the_table_links_back_to_the_first_page_above_the_table(client, alice, sorted_jobs, sort, label):
    """The dense table offers the cards' way back, before the table (valid HTML, the first
    thing read), to the first page of the same sort, layout and saved view."""
    client.force_login(alice)
    view = "0b5a1c9e-3f0e-4d7a-9a52-6c1d2e3f4a5b"
    first = sorting.list_url({**({"sort": sort} if sort else {}), "layout": "table", "view": view})
    short, tie = sorted_jobs["short"], sorted_jobs["tie"]
    cursor = f"30.0_{short.pk}" if sort else f"{tie.created.isoformat()}_{tie.pk}"
    deep_url = f"{first}&{urlencode({'cursor': cursor})}"
    deep = client.get(deep_url).content.decode()
    assert '<table class="jobs-table">' in deep and ROW_CODE.findall(deep)
    link = f'<a href="{first.replace("&", "&amp;")}">{label}</a>'
    assert deep.count(label) == 1 and link in deep
    before_table, table = deep.split('<table class="jobs-table">')
    assert link in before_table and "</table>" in table
    # The first page needs no way back, nor does a next page that htmx appends to the table.
    assert label not in client.get(first).content.decode()
    assert label not in client.get(deep_url, headers=HX).content.decode()


def test_a_page_costs_the_same_queries_at_any_depth_and_sort(client, alice, sorted_jobs, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    client.force_login(alice)
    client.get("/history/?sort=duration", headers=HX)  # warm the row cache's template digest
    urls = [
        "/history/?sort=duration",
        f"/history/?sort=duration&cursor=240.0_{sorted_jobs['long'].pk}",
        f"/history/?cursor={sorted_jobs['image'].created.isoformat()}_{sorted_jobs['image'].pk}",
    ]
    rendered, cached = set(), set()
    for url in urls:
        caches["rows"].clear()
        for counts in (rendered, cached):  # its row rendered, then from the cache
            with CaptureQueriesContext(connection) as queries:
                client.get(url, headers=HX)
            counts.add(len(queries))
            assert not [q for q in queries.captured_queries if "OFFSET" in q["sql"].upper()]
    assert len(rendered) == len(cached) == 1


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "2026-03-01T00:00:00_5", "abc_12", "nan_3", "inf_3", "240.0_x", "_5", "none_", "240.0_"],
)
def test_a_tampered_cursor_says_so_and_shows_the_first_page(client, alice, sorted_jobs, cursor):
    client.force_login(alice)
    response = client.get(f"/history/?sort=-duration&cursor={cursor}")
    assert response.status_code == 200
    assert "That page link is broken or belongs to another order" in response.text
    assert ROW_CODE.findall(response.text)[0] == str(sorted_jobs["tie"].code)


def test_cursors_of_each_sort(sorted_jobs):
    long = sorted_jobs["long"]
    assert sorting.make_cursor(sorting.DEFAULT, long) == f"{long.created.isoformat()}_{long.pk}"
    assert sorting.parse_cursor(sorting.SORTS["-credits"], f"12.0000_{long.pk}") == sorting.Cursor(
        Decimal("12.0000"), long.pk
    )
    assert sorting.parse_cursor(sorting.SORTS["created"], f"none_{long.pk}") is None  # created is never unknown
    assert sorting.parse_cursor(sorting.SORTS["completed"], "2026-03-01T10:00:00_4") is None  # no time zone
    assert sorting.parse_cursor(sorting.SORTS["duration"], "2026-03-01T10:00:00+00:00_4") is None


def test_an_unknown_sort_is_a_form_error_and_the_default_order(client, alice, sorted_jobs):
    client.force_login(alice)
    response = client.get("/history/?sort=-title")
    assert "Some filters were ignored: Sort:" in response.text
    assert ROW_CODE.findall(response.text)[0] == str(sorted_jobs["tie"].code)
    assert client.get("/history/export.csv?sort=-title").status_code == 400


def test_sort_urls_toggle_the_column_and_keep_the_filters():
    assert sorting.sort_url({}, "created") == "/history/?sort=created"  # newest first now: flip
    assert sorting.sort_url({"sort": "created"}, "created") == "/history/"  # the default is never written
    assert sorting.sort_url({"status": "failed", "cursor": "x_1"}, "duration") == (
        "/history/?status=failed&sort=-duration"
    )
    assert sorting.sort_url({"sort": "-duration"}, "duration") == "/history/?sort=duration"
    assert sorting.sort_url({"sort": "duration"}, "credits") == "/history/?sort=-credits"
    assert sorting.aria_sort({"sort": "duration"}, "duration") == "ascending"
    assert sorting.aria_sort({}, "created") == "descending"
    assert sorting.aria_sort({}, "credits") == "none"
    assert sorting.headers({"sort": "-completed"})["completed"] == {
        "url": "/history/?sort=completed",
        "aria_sort": "descending",
    }


def test_the_sort_menu_links_every_order_and_marks_the_current_one(client, alice, sorted_jobs):
    client.force_login(alice)
    text = client.get("/history/?sort=credits&status=succeeded").text
    menu = text.split('class="dropdown dropdown-end sort-menu"', 1)[1].split("</details>", 1)[0]
    assert "Sort:</span> Fewest credits" in menu
    assert len(re.findall(r"<a href=", menu)) == len(sorting.SORTS)
    assert '<a href="/history/?status=succeeded&amp;sort=-duration" role="listitem">Longest</a>' in menu
    assert '<a href="/history/?status=succeeded" role="listitem">Newest first</a>' in menu
    assert 'aria-current="true" class="sort-current">Fewest credits</a>' in menu
    # The filter form keeps the order when a filter changes.
    assert '<input type="hidden" name="sort" value="credits" id="id_sort">' in text
    assert "Sort:" not in text.split('aria-label="Filters in use"', 1)[1].split("</div>", 1)[0]


def exported(client, url: str) -> list[dict]:
    return json.loads(b"".join(client.get(url).streaming_content))


def test_exports_follow_the_sort(client, alice, sorted_jobs):
    client.force_login(alice)
    rows = exported(client, "/history/export.json?sort=-duration")
    assert [row["external_id"] for row in rows] == ["j5", "j2", "j1", "j4", "j3"]
    newest = exported(client, "/history/export.json")
    assert [row["external_id"] for row in newest] == ["j5", "j4", "j3", "j2", "j1"]


# --- the indexes the walks use ---------------------------------------------------------------


def plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        # A few rows without statistics: the planner would scan and sort them. Can the index
        # give the order? (Plans at scale: bench/history_bench.py --explain.)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("value", [v for v in sorting.SORTS if v.lstrip("-") != "created"])
def test_each_walk_is_a_range_of_the_sorts_index_without_a_sort_step(alice, sorted_jobs, value):
    sort = sorting.SORTS[value]
    jobs = Job.objects.filter(credential_id=sorted_jobs["long"].credential_id)
    middle = {"completed": BASE, "duration": 30.0, "credits": Decimal("4.5")}[sort.column]
    for cursor, indexes in [
        (None, ["", "_none"]),
        (sorting.Cursor(middle, 9), ["", "", "_none"]),  # the cursor's ties, the values past it, none
        (sorting.Cursor(None, 9), ["_none"]),
    ]:
        walks = sorting.walks(sort, jobs, cursor)
        assert len(walks) == len(indexes)
        for walk, suffix in zip(walks, indexes, strict=True):
            sql, params = walk.values("pk")[:51].query.sql_with_params()
            shown = plan(sql, params)
            assert f"job_sort_{sort.column}{suffix} " in shown + " ", shown
            assert "TEMP B-TREE" not in shown and " Sort " not in shown, shown


# --- Job.duration -----------------------------------------------------------------------------


def test_the_sync_fills_duration_from_the_first_playable_output(alice):
    key = make_credential(alice, "apimall")
    song = JobRecord(
        "s1", "audio", "succeeded", "completed", BASE, outputs=[Output("audio", "https://x/a.mp3", duration=187.5)]
    )
    picture = JobRecord("p1", "image", "succeeded", "completed", BASE, outputs=[Output("image", "https://x/a.png")])
    store(key, [song, picture])
    assert dict(Job.objects.values_list("external_id", "duration")) == {"s1": 187.5, "p1": None}
    song.outputs = [Output("audio", "https://x/a.mp3", duration=200.0)]
    store(key, [song])  # a later look with a longer track
    assert Job.objects.get(external_id="s1").duration == 200.0


def test_the_migration_fills_duration_in_one_update(alice):
    from importlib import import_module

    from django.apps import apps

    key = make_credential(alice, "apimall")
    add_job(key, 1, outputs=[{"kind": "audio", "url": "u", "duration": 95.5}, {"kind": "image", "url": "i"}])
    add_job(key, 2, outputs=[{"kind": "image", "url": "i"}])
    add_job(key, 3, outputs=[{"kind": "video", "url": "v", "duration": 12}])
    add_job(key, 4, outputs=[])
    migration = import_module("history.migrations.0012_sorting")
    with CaptureQueriesContext(connection) as queries:
        migration.fill_duration(apps, connection.schema_editor())
    assert len(queries) == 1
    assert dict(Job.objects.values_list("external_id", "duration")) == {"j1": 95.5, "j2": None, "j3": 12.0, "j4": None}
