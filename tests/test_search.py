"""History search and how pages are read (history.search, history.views.page_rows): the trigram
index only narrows which rows are compared, so every way of reading gives what a plain
`icontains` scan gives, and the index follows every insert, rename and delete."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from history import search, sorting, views
from history.filters import JobFilter
from history.models import Job
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(microsecond=0)
TEXTS = [
    ("Midnight Drive", "a dreamy synthwave tune with analog synth"),
    ("Sunny Morning", "cheerful ukulele and whistling"),
    ("interview_take2.wav", ""),
    ('The "quoted" one', "100% pure piano, no_underscore"),
    ("Café au lait", "bossa nova, Crème brûlée"),
    ("MIDNIGHT again", "piano at midnight"),
]
TERMS = [
    "midnight", "MIDNIGHT", "night d", "ukulele", "take2", "_take", '"quoted"', 'quoted"', "100%", "no_u",
    "café", "crème", "pi", "a", "zzz-not-there", "ext-3", "AU LAIT", '" OR "', "title:midnight", "*",
]  # fmt: skip


@pytest.fixture
def jobs(alice, bob):
    keys = [make_credential(alice, "apimall"), make_credential(alice, "munsit"), make_credential(bob, "audiopod")]
    made = []
    for i in range(60):
        title, prompt = TEXTS[i % len(TEXTS)]
        key = keys[i % len(keys)]
        made.append(
            Job.objects.create(
                credential=key,
                provider=key.provider,
                kind="audio",
                external_id=f"ext-{i}",
                title=title,
                prompt=prompt,
                status=Job.Status.SUCCEEDED,
                created=NOW - timedelta(minutes=i % 7),
            )
        )
    return made


def scanned(term: str) -> set[int]:
    return set(Job.objects.filter(search.condition(term)).values_list("pk", flat=True))


def searched(term: str) -> set[int]:
    found, _ = search.search(Job.objects.all(), term)
    return set(found.values_list("pk", flat=True))


@pytest.mark.parametrize("term", TERMS)
def test_the_index_finds_exactly_what_a_scan_finds(jobs, term):
    assert searched(term) == scanned(term)


def test_sqlite_reads_a_rare_term_from_the_trigram_index(jobs):
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table is SQLite's")
    plan = search.make_plan("default", "midnight")
    assert plan.ids is not None and not plan.per_key
    assert set(plan.ids) >= scanned("midnight")
    assert search.make_plan("default", "pi") == search.Plan()  # too short for trigrams


def test_postgresql_searches_all_keys_in_one_query(jobs):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan")
    assert search.make_plan("default", "midnight") == search.Plan(per_key=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'job_search_%%'")
        assert {name for (name,) in cursor.fetchall()} == set(search_indexes())


def search_indexes():
    return ["job_search_title", "job_search_prompt", "job_search_external_id", "job_search_text"]


def test_the_index_follows_renames_deletes_and_new_jobs(jobs, alice):
    renamed, deleted = jobs[0], jobs[6]
    assert renamed.title == deleted.title == "Midnight Drive"
    Job.objects.filter(pk=renamed.pk).update(title="Quiet Harbour")
    deleted.delete()
    new = Job.objects.create(
        credential=jobs[1].credential,
        provider="munsit",
        kind="denoise",
        external_id="late",
        title="Harbour lights",
        created=NOW,
    )
    assert renamed.pk not in searched("midnight drive") and deleted.pk not in searched("midnight drive")
    assert searched("harbour") == {renamed.pk, new.pk}
    assert searched("midnight drive") == scanned("midnight drive")


def test_a_term_too_common_for_the_index_is_scanned(jobs, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's planner weighs the GIN indexes itself")
    monkeypatch.setattr(search, "RARE", 3)
    assert search.make_plan("default", "midnight") == search.Plan()
    assert searched("midnight") == scanned("midnight")


def test_without_its_triggers_the_index_is_not_trusted_and_search_says_why(jobs, caplog):
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table is SQLite's")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {search.FTS_TABLE}_update")
    with caplog.at_level(logging.WARNING, logger="history.search"):
        assert search.make_plan("default", "midnight") == search.Plan()
    assert "triggers of history_job_search are gone" in caplog.text
    assert searched("midnight") == scanned("midnight")


def test_without_the_full_text_table_search_scans(jobs, caplog):
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table is SQLite's")
    with connection.cursor() as cursor:
        for trigger in search.FTS_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {trigger}")
        cursor.execute(f"DROP TABLE {search.FTS_TABLE}")
    with caplog.at_level(logging.WARNING, logger="history.search"):
        assert searched("midnight") == scanned("midnight")
    assert "no full-text table" in caplog.text


def as_user(user):
    request = RequestFactory().get("/history/")
    request.user = user
    return request


def all_pages(user, query: dict) -> list[int]:
    """Every page of views.page_rows, cursor after cursor."""
    seen, cursor = [], None
    while True:
        filters = JobFilter(query or None, queryset=Job.objects.visible_to(user), request=as_user(user))
        page = views.page_rows(filters, cursor, views.visible_keys(user))
        seen += [job.pk for job in page[: views.PAGE_SIZE]]
        if len(page) <= views.PAGE_SIZE:
            return seen
        cursor = sorting.Cursor(page[views.PAGE_SIZE - 1].created, page[views.PAGE_SIZE - 1].pk)


@pytest.mark.parametrize("query", [{}, {"q": "midnight"}, {"q": "pi"}, {"status": "succeeded", "q": "a"}])
def test_walking_key_by_key_or_all_keys_at_once_reads_the_same_pages(jobs, alice, monkeypatch, query):
    expected = list(
        JobFilter(query or None, queryset=Job.objects.visible_to(alice), request=as_user(alice))
        .qs.order_by("-created", "-id")
        .values_list("pk", flat=True)
    )
    monkeypatch.setattr(views, "PAGE_SIZE", 7)
    per_key = all_pages(alice, query)
    monkeypatch.setattr(views, "MAX_KEY_WALKS", 0)
    assert per_key == all_pages(alice, query) == expected
    assert expected  # the fixture has matches for every query here


# --- terms too short for the trigram index ----------------------------------------------------


@pytest.mark.parametrize("term", ["a", "pi", " z "])
def test_the_list_refuses_a_search_of_one_or_two_characters_with_a_clear_message(client, alice, jobs, term):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/history/", {"q": term}, headers={"HX-Request": "true", "HX-Target": "history-results"})
    assert response.status_code == 200
    assert "Search: Type at least 3 characters to search." in response.text
    assert not any("LIKE" in q["sql"].upper() for q in queries.captured_queries)  # nothing scanned


def test_the_search_box_says_it_waits_for_three_characters(client, alice, jobs):
    client.force_login(alice)
    text = client.get("/history/").text
    assert 'data-min-length="3"' in text and 'aria-describedby="search-hint"' in text
    assert (
        '<p id="search-hint" class="search-hint muted small" aria-live="polite">Searching starts at 3 characters.'
        in text
    )


def test_an_export_still_takes_a_short_term(client, alice, jobs):
    """An export is asked once, not per keystroke: it searches whatever the term."""
    client.force_login(alice)
    response = client.get("/history/export.json", {"q": "pi"})
    assert response.status_code == 200
    exported = json.loads(b"".join(response.streaming_content))
    assert exported and all("pi" in (j["title"] + j["prompt"] + j["external_id"]).lower() for j in exported)
