"""PostgreSQL prepares a statement at its fifth run on a connection (config/settings.py), except
where the statement's values decide its best plan: a search, or a star or tag filter
(core.sql.planned_each_time; history.filters.JobFilter.values_decide_plans)."""

import pytest
from django.db import connection

from annotations.models import Star
from core import sql
from history.filters import JobFilter
from tests.factories import make_credential
from tests.test_sorting import HX, add_job

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")


def prepared(fragment: str) -> list[str]:
    """This connection's prepared statements that contain `fragment`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall() if fragment in statement]


@pytest.fixture
def starred_history(alice):
    key = make_credential(alice, "apimall", label="Mall")
    jobs = [add_job(key, n, title=f"piano {n}") for n in range(3)]
    Star.objects.create(user=alice, job=jobs[0])
    return jobs


@pytest.mark.parametrize(
    ("query", "decides"),
    [("", False), ("status=failed&sort=-credits", False), ("q=piano", True), ("starred=1", True), ("q=p", False)],
)
def test_the_filters_say_when_their_values_decide_the_plan(rf, alice, query, decides):
    request = rf.get(f"/history/?{query}")
    request.user = alice
    # A search too short to run ("p": a form error) runs no search statement.
    assert JobFilter(request.GET or None, request=request, min_search=3).values_decide_plans is decides


@on_postgresql
def test_the_history_page_statement_is_prepared_at_its_fifth_run(client, alice, starred_history):
    client.force_login(alice)
    for _ in range(6):
        assert client.get("/history/", headers=HX).status_code == 200
    assert prepared("AS walk0")  # history.views.page_rows's statement


@on_postgresql
def test_star_and_search_filters_are_planned_each_time(client, alice, starred_history):
    client.force_login(alice)
    for _ in range(6):
        assert client.get("/history/?starred=1", headers=HX).status_code == 200
        assert client.get("/history/?q=piano", headers=HX).status_code == 200
        assert client.get("/history/?q=piano").status_code == 200  # the full page's counts too
    assert not prepared('"annotations_star" "link"')
    assert not prepared("search_text")
    assert connection.connection.prepare_threshold == 5  # restored for the next request


@on_postgresql
def test_planning_each_time_ends_with_its_block_even_on_an_error():
    connection.ensure_connection()
    with pytest.raises(RuntimeError), sql.planned_each_time():
        assert connection.connection.prepare_threshold is None
        raise RuntimeError
    assert connection.connection.prepare_threshold == 5


@on_postgresql
def test_every_search_of_the_filters_is_planned_each_time(client, alice, starred_history):
    """Wherever the history's filters pick jobs, not only in the list: a bulk selection of all
    matching jobs, an export, a zip of archived files."""
    from tests.test_bulk_actions import resolve

    client.force_login(alice)
    for _ in range(6):
        assert resolve(alice, {"all": "1", "q": "piano"}).matching == 3
        export = client.get("/history/export.csv?q=piano")
        assert b"piano 2" in b"".join(export.streaming_content)
        assert client.get("/files/zip/?q=piano").status_code == 200
    assert not prepared("search_text")
    assert connection.connection.prepare_threshold == 5
