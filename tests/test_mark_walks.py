"""The star and tag filters, sorted by date, walk the marks' own index (stars and tag links
carry their job's `created`: annotations.models; history.sorting.Through): every page holds
the jobs the plain filter holds, in the same order, ties in time included; the copied date
follows an import that changes a job's date."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotations import bulk
from annotations.models import JobTag, Star, Tag
from history.filters import JobFilter
from history.models import Job
from history.sync import store
from providers.records import JobRecord
from teams.models import Member, Share, Team
from tests.factories import make_credential
from tests.test_sorting import HX, as_user, walk_all

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 1, tzinfo=UTC)

rows = st.lists(
    st.fixed_dictionaries(
        {
            "key": st.integers(0, 2),  # Alice's, the team's (Bob's, shared), Bob's own
            "hour": st.integers(0, 3),  # few hours: ties in time are common
            "starred": st.booleans(),
            "tagged": st.booleans(),
            "team_tagged": st.booleans(),
        }
    ),
    max_size=14,
)


@pytest.mark.parametrize("sort", ["-created", "created"])
@pytest.mark.parametrize("marks", [{"starred": "1"}, {"tag": "own"}, {"tag": "team"}, {"starred": "1", "tag": "own"}])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows, page_size=st.integers(1, 4))
def test_walking_marked_jobs_by_date_gives_what_the_filter_holds(alice, bob, monkeypatch, sort, marks, rows, page_size):
    with transaction.atomic():
        team = Team.objects.create(name="Studio", slug="studio")
        Member.objects.create(team=team, user=alice, role=Member.Role.MEMBER)
        Member.objects.create(team=team, user=bob, role=Member.Role.OWNER)
        keys = [make_credential(alice, "apimall", label="Mine"), make_credential(bob, "apimall", label="Shared")]
        keys.append(make_credential(bob, "apimall", label="Bob's own"))
        Share.objects.create(team=team, credential=keys[1], shared_by=bob)
        tags = {"own": Tag.objects.create(owner=alice, name="keep"), "team": Tag.objects.create(team=team, name="ok")}
        for n, row in enumerate(rows):
            job = Job.objects.create(
                credential=keys[row["key"]],
                provider="apimall",
                kind="music",
                external_id=f"j{n}",
                status="succeeded",
                created=BASE + timedelta(hours=row["hour"]),
            )
            if row["starred"]:
                Star.objects.create(user=alice if row["key"] < 2 else bob, job=job)
            if row["tagged"] and row["key"] < 2:
                JobTag.objects.create(tag=tags["own"], job=job)
            if row["team_tagged"]:
                JobTag.objects.create(tag=tags["team"], job=job)  # on Bob's own key too: not seen there
        params = {**marks, "sort": sort}
        if "tag" in marks:
            params["tag"] = str(tags[marks["tag"]].code)
        walked = walk_all(alice, params, page_size, monkeypatch)
        filters = JobFilter(params, queryset=Job.objects.visible_to(alice), request=as_user(alice))
        plain = list(filters.qs.values_list("pk", flat=True))
        assert walked == plain
        transaction.set_rollback(True)


def test_a_tag_sorted_by_date_is_read_through_its_links_by_date(client, alice):
    key = make_credential(alice, "apimall")
    tag = Tag.objects.create(owner=alice, name="keep")
    job = Job.objects.create(credential=key, provider="apimall", kind="music", external_id="a", created=BASE)
    JobTag.objects.create(tag=tag, job=job)
    client.force_login(alice)
    for sort, read_by_date in [("-created", True), ("credits", False)]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/history/?tag={tag.code}&sort={sort}", headers=HX)
        assert str(job.code) in page.text
        walk = next(q["sql"] for q in queries.captured_queries if "walk0" in q["sql"])
        assert ('"job_created" DESC' in walk) == read_by_date, walk


def test_marks_made_one_at_a_time_or_in_bulk_carry_their_jobs_date(alice):
    key = make_credential(alice, "apimall")
    jobs = [
        Job.objects.create(
            credential=key, provider="apimall", kind="music", external_id=f"j{n}", created=BASE + timedelta(days=n)
        )
        for n in range(3)
    ]
    Star.objects.create(user=alice, job=jobs[0])
    bulk.star(alice, Job.objects.filter(pk__in=[jobs[1].pk, jobs[2].pk]))
    bulk.tag(alice, Tag.objects.create(owner=alice, name="keep"), Job.objects.all())
    for model in (Star, JobTag):
        assert {(m.job_id, m.job_created) for m in model.objects.all()} == {(j.pk, j.created) for j in jobs}


def record(created: datetime) -> JobRecord:
    return JobRecord(external_id="late", kind="music", status="succeeded", provider_status="SUCCESS", created=created)


def test_an_import_that_changes_a_jobs_date_moves_its_marks(alice):
    key = make_credential(alice, "apimall")
    first = record(BASE)
    store(key, [first])
    job = Job.objects.get(external_id="late")
    Star.objects.create(user=alice, job=job)
    JobTag.objects.create(tag=Tag.objects.create(owner=alice, name="keep"), job=job)
    store(key, [record(BASE + timedelta(days=2))])
    for model in (Star, JobTag):
        assert model.objects.get().job_created == BASE + timedelta(days=2)


@pytest.mark.parametrize("sort", ["-created", "created"])
def test_a_search_among_starred_jobs_walks_the_stars(client, alice, sort):
    key = make_credential(alice, "apimall")
    jobs = [
        Job.objects.create(
            credential=key,
            provider="apimall",
            kind="music",
            external_id=f"j{n}",
            title=title,
            created=BASE + timedelta(hours=n),
        )
        for n, title in enumerate(["piano one", "violin", "piano two", "piano three"])
    ]
    for job in jobs[:3]:
        Star.objects.create(user=alice, job=job)
    client.force_login(alice)
    text = client.get(f"/history/?starred=1&q=piano&sort={sort}", headers=HX).text
    shown = [job.title for job in sorted(jobs, key=lambda j: j.created, reverse=sort == "-created")]
    expected = [title for title in shown if title in ("piano one", "piano two")]
    assert [t for t in shown if f">{t}</a>" in text] == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_postgresql_plans_for_an_index_in_memory():
    """At the default random_page_cost (4) PostgreSQL reads all of a person's stars and sorts
    them for the first page rather than walk star_by_user_date (config/settings.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone() == ("1.1",)
