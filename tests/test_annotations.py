"""Stars, tags and notes (app annotations): models, views with and without htmx, who sees and
changes what (the role × view matrix), rows, filters, search, exports and the bulk service."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from annotations import bulk
from annotations.access import seen_links
from annotations.marks import NONE, for_jobs
from annotations.models import JobTag, Note, Star, Tag
from history.models import Job
from teams.models import Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def make_job(key, n: int, title: str = "", **fields) -> Job:
    return Job.objects.create(
        credential=key,
        provider=key.provider,
        kind=Job.Kind.MUSIC,
        external_id=f"{key.pk}-{n}",
        title=title or f"Song {n}",
        status=Job.Status.SUCCEEDED,
        created=T0 - timedelta(minutes=n),
        **fields,
    )


@pytest.fixture
def dave(django_user_model):
    return django_user_model.objects.create_user("dave", "dave@example.com", "pw-dave-12345")


@pytest.fixture
def studio(alice, bob, carol, dave):
    """Alice's key shared with Studio (Bob a member, Carol a viewer); Dave sees nothing."""
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.MEMBER)
    Member.objects.create(team=team, user=carol, role=Member.Role.VIEWER)
    key = make_credential(alice, "audiopod", label="Pod")
    Share.objects.create(team=team, credential=key, shared_by=alice)
    jobs = [make_job(key, n) for n in range(3)]
    private = make_job(make_credential(alice, "munsit", label="Private"), 10, title="Alone")
    return {"team": team, "key": key, "jobs": jobs, "private": private}


def login(client, user):
    client.force_login(user)
    return client


def row_of(text: str, job: Job) -> str:
    found = re.search(rf'<li class="job[^"]*" id="job-{job.code}".*?</li>', text, re.S)
    assert found, f"no row for {job}"
    return found.group(0)


def body(response) -> str:
    """A page's or a streamed export's text."""
    return b"".join(response.streaming_content if response.streaming else [response.content]).decode()


def marks_panel(html: str) -> str:
    return re.search(r'<section id="marks".*?</section>', html, re.S).group(0)


def star_button(html: str) -> str:
    return re.search(r'<button[^>]*data-action="star"[^>]*>', html).group(0)


# --- models ------------------------------------------------------------------------------


def test_one_star_and_one_note_per_person_and_job(studio, alice):
    job = studio["jobs"][0]
    Star.objects.create(user=alice, job=job)
    Note.objects.create(user=alice, job=job, text="x")
    for model, fields in ((Star, {}), (Note, {"text": "y"})):
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.create(user=alice, job=job, **fields)


def test_tag_names_are_unique_per_owner_and_team_whatever_their_case(studio, alice, bob):
    Tag.objects.create(owner=alice, name="Keeper")
    Tag.objects.create(owner=bob, name="keeper")  # another person's: fine
    Tag.objects.create(team=studio["team"], name="keeper")  # a team's: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(owner=alice, name="KEEPER")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(team=studio["team"], name="Keeper")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(owner=alice, team=studio["team"], name="both")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="nobody's")


# --- stars ---------------------------------------------------------------------------------


def test_star_and_unstar_without_javascript_come_back_to_the_list(client, studio, alice):
    job = studio["jobs"][0]
    login(client, alice)
    response = client.post(f"/history/{job.code}/star/", {"on": "1", "next": "/history/?kind=music"})
    assert response.status_code == 302 and response["Location"] == "/history/?kind=music"
    assert Star.objects.filter(user=alice, job=job).exists()
    client.post(f"/history/{job.code}/star/", {"on": "1"})  # a state, not a toggle
    assert Star.objects.filter(user=alice, job=job).count() == 1
    response = client.post(f"/history/{job.code}/star/", {"on": "0", "next": "https://evil.example/"})
    assert response["Location"] == job.get_absolute_url()  # no open redirect
    assert not Star.objects.filter(user=alice, job=job).exists()


def test_star_with_htmx_answers_the_button_alone(client, studio, alice):
    job = studio["jobs"][0]
    login(client, alice)
    response = client.post(f"/history/{job.code}/star/", {"on": "1"}, headers=HX)
    assert response.status_code == 200 and response.text.startswith('<form class="star-form"')
    assert 'aria-pressed="true"' in star_button(response.text) and 'name="on" value="0"' in response.text


def test_the_row_has_a_star_button_in_a_form_and_shows_marks(client, studio, alice):
    job = studio["jobs"][0]
    login(client, alice)
    row = row_of(client.get("/history/").text, job)
    assert 'aria-pressed="false"' in star_button(row)
    assert re.search(r'<form[^>]*action="/history/[^"]+/star/"', row) and "csrf-" not in row
    Star.objects.create(user=alice, job=job)
    Note.objects.create(user=alice, job=job, text="Use <this> one")
    tag = Tag.objects.create(owner=alice, name="mix")
    JobTag.objects.create(tag=tag, job=job)
    row = row_of(client.get("/history/", headers=HX).text, job)
    assert 'aria-pressed="true"' in star_button(row)
    assert f'href="/history/?tag={tag.code}">mix</a>' in row
    assert "Use &lt;this&gt; one" in row and "<this>" not in row  # escaped


def test_the_star_comes_back_to_the_list_without_js_whoever_cached_the_row(client, studio, alice):
    job = studio["jobs"][0]
    login(client, alice)
    client.get("/history/", headers=HX)  # cached by an htmx request first
    row = row_of(client.get("/history/?kind=music").text, job)
    assert re.search(r'<form class="star-form".*?name="next" value="/history/\?kind=music"', row)


def test_a_cached_row_never_shows_one_persons_marks_to_another(client, studio, alice, bob):
    """The same row, cached, for two people who see it: each sees their own star and note."""
    job = studio["jobs"][0]
    Star.objects.create(user=alice, job=job)
    Note.objects.create(user=alice, job=job, text="alice only")
    mine = Tag.objects.create(owner=alice, name="alice-tag")
    JobTag.objects.create(tag=mine, job=job)
    alice_row = row_of(login(client, alice).get("/history/").text, job)
    bob_row = row_of(login(client, bob).get("/history/").text, job)
    assert 'aria-pressed="true"' in star_button(alice_row) and "alice only" in alice_row
    assert 'aria-pressed="false"' in star_button(bob_row)
    assert "alice only" not in bob_row and "alice-tag" not in bob_row
    # And the other way round, with Bob's star now cached first.
    Star.objects.filter(user=alice).delete()
    Star.objects.create(user=bob, job=job)
    bob_row = row_of(client.get("/history/").text, job)
    alice_row = row_of(login(client, alice).get("/history/").text, job)
    assert 'aria-pressed="true"' in star_button(bob_row)
    assert 'aria-pressed="false"' in star_button(alice_row)


def test_marks_cost_one_query_for_a_whole_page(client, studio, alice):
    key = studio["key"]
    jobs = [make_job(key, n) for n in range(20, 60)]
    tag = Tag.objects.create(owner=alice, name="t")
    for job in jobs:
        Star.objects.create(user=alice, job=job)
        Note.objects.create(user=alice, job=job, text=f"n{job.pk}")
        JobTag.objects.create(tag=tag, job=job)
    login(client, alice)
    with CaptureQueriesContext(connection) as few:
        client.get("/history/", headers=HX)
    marks = [q for q in few.captured_queries if "annotations_" in q["sql"]]
    assert len(marks) == 1
    page = client.get("/history/", headers=HX).text
    assert page.count('aria-pressed="true"') == 40 and page.count(">t</a>") == 40  # stars and tags shown


# --- tags ----------------------------------------------------------------------------------


def test_tag_add_finds_a_name_whatever_its_case_and_trims_it(client, studio, alice):
    a, b = studio["jobs"][:2]
    login(client, alice)
    client.post(f"/history/{a.code}/tags/", {"name": "  Keeper  "})
    client.post(f"/history/{b.code}/tags/", {"name": "keeper"})
    tag = Tag.objects.get(owner=alice)
    assert tag.name == "Keeper" and set(tag.links.values_list("job", flat=True)) == {a.pk, b.pk}


@pytest.mark.parametrize("name", ["", "   ", "x" * 41])
def test_tag_names_are_one_to_forty_characters(client, studio, alice, name):
    job = studio["jobs"][0]
    login(client, alice)
    response = client.post(f"/history/{job.code}/tags/", {"name": name}, headers=HX)
    assert response.status_code == 200 and "A tag name is 1 to 40 characters" in response.text
    assert not Tag.objects.exists()
    response = client.post(f"/history/{job.code}/tags/", {"name": name}, follow=True)
    assert "A tag name is 1 to 40 characters" in response.text


def test_tag_add_and_remove_with_htmx_answer_the_marks_panel(client, studio, alice):
    job = studio["jobs"][0]
    login(client, alice)
    response = client.post(f"/history/{job.code}/tags/", {"name": "mix"}, headers=HX)
    assert '<section id="marks"' in response.text and "<html" not in response.text
    tag = Tag.objects.get(name="mix")
    assert f"/history/{job.code}/tags/{tag.code}/remove/" in response.text
    assert '<option value="mix">' in response.text  # the datalist of existing tags
    response = client.post(f"/history/{job.code}/tags/{tag.code}/remove/", headers=HX)
    assert response.status_code == 200 and not JobTag.objects.exists() and "No tags yet." in response.text


def test_team_tags_role_by_role(client, studio, alice, bob, carol, dave):
    """Members tag with the team's tags and see them; viewers see them but cannot change
    them (403); outsiders get 404; personal tags stay their person's."""
    job = studio["jobs"][0]
    login(client, bob)
    assert client.post(f"/history/{job.code}/tags/", {"name": "Final", "team": "studio"}).status_code == 302
    tag = Tag.objects.get(name="Final")
    assert tag.team == studio["team"] and tag.owner is None and JobTag.objects.filter(tag=tag, job=job).exists()
    client.post(f"/history/{job.code}/tags/", {"name": "bobs-own"})
    for person in (alice, carol):  # the team's tag on the job page; not Bob's own
        text = marks_panel(login(client, person).get(f"/history/{job.code}/").text)
        assert "Final" in text and "bobs-own" not in text
    login(client, carol)
    assert client.post(f"/history/{job.code}/tags/", {"name": "Viewer", "team": "studio"}).status_code == 403
    assert client.post(f"/history/{job.code}/tags/{tag.code}/remove/").status_code == 403
    assert f"{tag.code}/remove/" not in client.get(f"/history/{job.code}/").text
    assert client.post(f"/history/{job.code}/tags/", {"name": "mine"}).status_code == 302  # her own: fine
    login(client, dave)
    for url in (f"/history/{job.code}/tags/", f"/history/{job.code}/tags/{tag.code}/remove/"):
        assert client.post(url, {"name": "x", "team": "studio"}).status_code == 404
    login(client, alice)
    # A team tag goes only on jobs seen through that team: Alice's private key's job is not.
    assert client.post(f"/history/{studio['private'].code}/tags/", {"name": "x", "team": "studio"}).status_code == 404
    own = Tag.objects.get(name="bobs-own")
    assert client.post(f"/history/{job.code}/tags/{own.code}/remove/").status_code == 404  # not hers
    assert client.post(f"/history/{job.code}/tags/{tag.code}/remove/").status_code == 302
    assert not JobTag.objects.filter(tag=tag).exists()


def datalist(html: str) -> list[str]:
    """The tag form's suggestions on a job page or marks panel."""
    found = re.search(r'<datalist id="tag-names">(.*?)</datalist>', html, re.S).group(1)
    return [unescape(value) for value in re.findall(r'<option value="([^"]*)">', found)]


@pytest.mark.parametrize("htmx", [False, True], ids=["without htmx", "with htmx"])
def test_a_team_tags_suggestion_picked_while_only_me_is_selected_puts_the_teams_tag(client, studio, bob, htmx):
    """The suggestions name the team of each team tag ("Final · Studio", as the job's tag
    chips show it): picked, that tag goes on, whatever "Whose tag" says; a personal tag of
    the same name is not made. A name typed plain is the select's, as before."""
    job = studio["jobs"][0]
    final = Tag.objects.create(team=studio["team"], name="Final")
    Tag.objects.create(owner=bob, name="Rough")
    login(client, bob)
    page = client.get(f"/history/{job.code}/").text
    assert datalist(page) == ["Final · Studio", "Rough"]
    assert '<option value="">Only me</option>' in page  # what the select says when nothing is picked
    picked = {"name": "Final · Studio", "team": ""}
    response = client.post(f"/history/{job.code}/tags/", picked, headers=HX if htmx else {})
    assert response.status_code == (200 if htmx else 302)
    assert not Tag.objects.filter(owner=bob).exclude(name="Rough").exists()
    assert list(JobTag.objects.filter(job=job).values_list("tag", flat=True)) == [final.pk]
    if htmx:
        assert 'Final<span class="tag-scope"> · Studio</span>' in marks_panel(response.text)
    else:
        assert "Tagged “Final” of Studio." in client.get(response["Location"]).text
    # The same name typed plain, with "Only me": Bob's own tag, as "For" says.
    client.post(f"/history/{job.code}/tags/", {"name": "Final", "team": ""})
    assert Tag.objects.filter(owner=bob, name="Final").exists()


def test_a_team_tags_suggestion_is_that_tag_only_where_no_tag_of_the_chosen_kind_has_its_text(
    client, studio, alice, bob, carol, django_user_model
):
    job, team = studio["jobs"][0], studio["team"]
    final = Tag.objects.create(team=team, name="Final")
    # A tag of Bob's own named as the suggestion reads: "Only me" finds his.
    own = Tag.objects.create(owner=bob, name="Final · Studio")
    login(client, bob).post(f"/history/{job.code}/tags/", {"name": "Final · Studio"})
    assert set(JobTag.objects.filter(job=job).values_list("tag", flat=True)) == {own.pk}
    # Another team chosen, which has no such tag: the suggestion's team's.
    label = Team.objects.create(name="Label", slug="label")
    Member.objects.create(team=label, user=bob, role=Member.Role.MEMBER)
    Share.objects.create(team=label, credential=studio["key"], shared_by=alice)
    second = studio["jobs"][1]
    client.post(f"/history/{second.code}/tags/", {"name": "Final · Studio", "team": "label"})
    assert list(JobTag.objects.filter(job=second).values_list("tag", flat=True)) == [final.pk]
    assert not label.tags.exists()
    # A viewer is offered no team tags to put on: the text is a name like any other, hers.
    page = login(client, carol).get(f"/history/{job.code}/").text
    assert datalist(page) == []
    client.post(f"/history/{job.code}/tags/", {"name": "Final · Studio"})
    assert Tag.objects.filter(owner=carol, name="Final · Studio").exists()
    assert not JobTag.objects.filter(tag=final, job=job).exists()


def test_a_team_tags_suggestion_may_be_longer_than_a_name_and_names_the_team_apart(client, studio, alice, bob):
    job = studio["jobs"][0]
    twin = Team.objects.create(name="Studio", slug="studio-2")
    Member.objects.create(team=twin, user=bob, role=Member.Role.MEMBER)
    Share.objects.create(team=twin, credential=studio["key"], shared_by=alice)
    long = Tag.objects.create(team=studio["team"], name="x" * 40)
    Tag.objects.create(team=twin, name="x" * 40)
    page = login(client, bob).get(f"/history/{job.code}/").text
    suggested = f"{'x' * 40} · Studio (studio)"
    assert datalist(page) == [suggested, f"{'x' * 40} · Studio (studio-2)"]
    assert f'maxlength="{len(suggested) + 2}"' in page
    client.post(f"/history/{job.code}/tags/", {"name": suggested})
    assert list(JobTag.objects.filter(job=job).values_list("tag", flat=True)) == [long.pk]
    # Typed, a name is still at most 40 characters.
    response = client.post(f"/history/{job.code}/tags/", {"name": "y" * 41}, headers=HX)
    assert "A tag name is 1 to 40 characters" in response.text and not Tag.objects.filter(owner=bob).exists()


def test_a_team_tag_is_not_shown_once_the_key_is_no_longer_shared(client, studio, alice, bob):
    job = studio["jobs"][0]
    tag = Tag.objects.create(team=studio["team"], name="Final")
    JobTag.objects.create(tag=tag, job=job)
    assert "Final" in row_of(login(client, alice).get("/history/").text, job)
    Share.objects.all().delete()
    assert "Final" not in row_of(client.get("/history/").text, job)
    assert "Final" not in client.get(f"/history/{job.code}/").text


def test_a_pages_marks_are_the_links_seen_links_allows(studio, alice, bob, carol, dave):
    """annotations.marks.for_jobs reads a page's marks in SQL of its own: for each person it
    gives exactly the stars, notes and tag links that the ORM rule (access.seen_links) does,
    with team tags only where the job is seen through that team."""
    jobs = [*studio["jobs"], studio["private"]]
    team_tag = Tag.objects.create(team=studio["team"], name="Final")
    other_team = Team.objects.create(name="Elsewhere", slug="elsewhere")
    Member.objects.create(team=other_team, user=bob, role=Member.Role.OWNER)
    foreign = Tag.objects.create(team=other_team, name="Foreign")  # its team sees no key of these jobs
    own = {person: Tag.objects.create(owner=person, name=f"{person.username}-own") for person in (alice, bob)}
    for job in jobs:
        for tag in (team_tag, foreign, *own.values()):
            JobTag.objects.create(tag=tag, job=job)
    Star.objects.create(user=bob, job=jobs[0])
    Note.objects.create(user=bob, job=jobs[1], text="bob's")
    Note.objects.create(user=alice, job=jobs[1], text="alice's")
    for person in (alice, bob, carol, dave):
        marks = for_jobs(person, [job.pk for job in jobs])
        seen = JobTag.objects.filter(seen_links(person), job__in=jobs)
        expected = {(link.job_id, str(link.tag.code), link.tag.name) for link in seen}
        assert {(job_id, code, name) for job_id, m in marks.items() for code, name, _ in m.tags} == expected
        stars = {job_id for job_id, m in marks.items() if m.starred}
        notes = {job_id: m.note for job_id, m in marks.items() if m.note}
        assert stars == set(Star.objects.filter(user=person).values_list("job_id", flat=True))
        assert notes == dict(Note.objects.filter(user=person).values_list("job_id", "text"))
    bobs = for_jobs(bob, [job.pk for job in jobs])
    # Bob sees the team's tag on the shared key's jobs (named with its team), not on Alice's
    # private job, and never the tag of a team that sees none of these keys.
    assert ("Final", "Studio") in [(name, team) for _, name, team in bobs[jobs[0].pk].tags]
    assert [name for _, name, _ in bobs.get(studio["private"].pk, NONE).tags] == ["bob-own"]
    assert bobs[jobs[0].pk].starred and bobs[jobs[1].pk].note == "bob's"
    assert for_jobs(dave, [job.pk for job in jobs]) == {}


# --- notes ---------------------------------------------------------------------------------


def test_note_save_edit_and_clear(client, studio, alice):
    job = studio["jobs"][0]
    login(client, alice)
    assert client.post(f"/history/{job.code}/note/", {"text": "first <b>take</b>"}).status_code == 302
    client.post(f"/history/{job.code}/note/", {"text": "second take"})
    assert Note.objects.get(user=alice, job=job).text == "second take"
    response = client.post(f"/history/{job.code}/note/", {"text": "x" * 2001}, headers=HX)
    assert "at most 2000 characters" in unescape(response.text)
    assert Note.objects.get(user=alice, job=job).text == "second take"
    response = client.post(f"/history/{job.code}/note/", {"text": ""}, headers=HX)
    assert response.status_code == 200 and not Note.objects.exists()


def test_the_note_is_shown_escaped_on_the_job_page(client, studio, alice):
    job = studio["jobs"][0]
    Note.objects.create(user=alice, job=job, text="<script>alert(1)</script>")
    text = login(client, alice).get(f"/history/{job.code}/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_nobody_sees_anothers_star_or_note(client, studio, alice, bob, carol, who):
    job = studio["jobs"][0]
    person = {"alice": alice, "bob": bob, "carol": carol}[who]
    for other in {alice, bob, carol} - {person}:
        Star.objects.create(user=other, job=job)
        Note.objects.create(user=other, job=job, text=f"secret of {other.username}")
    for url in ("/history/", f"/history/{job.code}/", "/history/?starred=1", "/history/export.json?starred=1"):
        text = body(login(client, person).get(url))
        assert "secret of" not in text
    assert 'aria-pressed="true"' not in client.get(f"/history/{job.code}/").text
    assert json.loads(body(client.get("/history/export.json")))[0]["starred"] is False


def test_people_who_cannot_see_the_job_get_404_everywhere(client, studio, dave):
    job = studio["jobs"][0]
    tag = Tag.objects.create(owner=dave, name="x")
    login(client, dave)
    for url in ("star/", "tags/", "note/", f"tags/{tag.code}/remove/"):
        assert client.post(f"/history/{job.code}/{url}", {"name": "x", "text": "x"}).status_code == 404
    assert not Star.objects.exists() and not Note.objects.exists() and not JobTag.objects.exists()


def test_anonymous_people_are_sent_to_log_in(client, studio):
    response = client.post(f"/history/{studio['jobs'][0].code}/star/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_marks_change_by_post_only(client, studio, alice):
    login(client, alice)
    for url in ("star/", "tags/", "note/"):
        assert client.get(f"/history/{studio['jobs'][0].code}/{url}").status_code == 405


# --- filters and search --------------------------------------------------------------------


def codes(text: str) -> list[str]:
    return re.findall(r'<li class="job[^"]*" id="job-([0-9a-f-]+)"', text)


def test_starred_filter_with_its_chip(client, studio, alice, bob):
    a, b, c = studio["jobs"]
    Star.objects.create(user=alice, job=c)
    Star.objects.create(user=alice, job=a)
    Star.objects.create(user=bob, job=b)  # Bob's: not Alice's filter
    text = login(client, alice).get("/history/?starred=1").text
    assert codes(text) == [str(a.code), str(c.code)]
    assert "Remove filter Starred only: yes" in text
    assert "<strong>2</strong> jobs" in text
    assert len(codes(client.get("/history/?starred=").text)) == 4  # unchecked: every job


def test_tag_filter_own_and_team_tags(client, studio, alice, bob, carol, dave):
    a, b, _ = studio["jobs"]
    team_tag = Tag.objects.create(team=studio["team"], name="Final")
    own = Tag.objects.create(owner=alice, name="mix")
    JobTag.objects.create(tag=team_tag, job=a)
    JobTag.objects.create(tag=own, job=b)
    text = login(client, carol).get(f"/history/?tag={team_tag.code}").text  # viewers filter by it too
    assert codes(text) == [str(a.code)] and "Remove filter Tag: Final (team Studio)" in text
    # Another person's tag is no choice: a form error, not its jobs.
    text = client.get(f"/history/?tag={own.code}").text
    assert "Some filters were ignored" in text and len(codes(text)) == 3
    assert codes(login(client, alice).get(f"/history/?tag={own.code}").text) == [str(b.code)]
    assert client.get(f"/history/export.json?tag={own.code}").status_code == 200
    assert login(client, dave).get(f"/history/export.json?tag={own.code}").status_code == 400
    # Not a tag's code at all, or no tag's: the same clear message, never a 500.
    for code in ("not-a-code", "00000000-0000-0000-0000-000000000000", "1" * 500):
        response = client.get("/history/", {"tag": code})
        assert response.status_code == 200 and "Some filters were ignored" in response.text


def test_search_finds_the_viewers_own_tags_and_notes_only(client, studio, alice, bob):
    a, b, c = studio["jobs"]
    Note.objects.create(user=alice, job=a, text="remember the Zebra bridge")
    JobTag.objects.create(tag=Tag.objects.create(owner=alice, name="zebrafish"), job=b)
    JobTag.objects.create(tag=Tag.objects.create(team=studio["team"], name="team-zebra"), job=c)
    Note.objects.create(user=bob, job=c, text="bob's zebra")
    assert sorted(codes(login(client, alice).get("/history/?q=zebra").text)) == sorted(str(j.code) for j in (a, b, c))
    # Bob: only the team's tag and his own note (on the same job), never Alice's marks.
    assert codes(login(client, bob).get("/history/?q=zebra").text) == [str(c.code)]
    assert codes(client.get("/history/?q=Song 1").text) == [str(b.code)]  # the title still


def test_search_without_matching_marks_is_everyones_query(studio, alice, rf):
    """Nobody's marks match: the search's SQL names no annotation table."""
    from history.filters import JobFilter

    request = rf.get("/history/", {"q": "Song"})
    request.user = alice
    filters = JobFilter(request.GET, queryset=Job.objects.visible_to(alice), request=request)
    assert "annotations_" not in str(filters.qs.query)
    Note.objects.create(user=alice, job=studio["jobs"][0], text="Song for mum")
    filters = JobFilter(request.GET, queryset=Job.objects.visible_to(alice), request=request)
    assert len(filters.qs) == 3


# --- exports -------------------------------------------------------------------------------


def test_exports_carry_the_exporting_persons_marks(client, studio, alice, bob):
    a = studio["jobs"][0]
    Star.objects.create(user=alice, job=a)
    Note.objects.create(user=alice, job=a, text="=SUM(A1)")
    JobTag.objects.create(tag=Tag.objects.create(owner=alice, name="mix"), job=a)
    JobTag.objects.create(tag=Tag.objects.create(team=studio["team"], name="Final"), job=a)
    Star.objects.create(user=bob, job=studio["jobs"][1])
    rows = {row["id"]: row for row in json.loads(body(login(client, alice).get("/history/export.json")))}
    row = rows[str(a.code)]
    assert list(row)[-3:] == ["starred", "tags", "note"]
    assert row["starred"] is True and row["tags"] == ["Final", "mix"] and row["note"] == "=SUM(A1)"
    assert rows[str(studio["jobs"][1].code)]["starred"] is False  # Bob's star
    text = body(client.get("/history/export.csv?starred=1")).removeprefix("\ufeff")
    (only,) = list(csv.DictReader(io.StringIO(text)))
    assert list(only)[-3:] == ["starred", "tags", "note"]
    assert only["starred"] == "True" and json.loads(only["tags"]) == ["Final", "mix"] and only["note"] == "'=SUM(A1)"


# --- bulk service --------------------------------------------------------------------------


def test_bulk_star_counts_changes_and_skips_jobs_not_visible(studio, alice, dave):
    everything = Job.objects.all()
    assert bulk.star(alice, everything) == 4
    assert bulk.star(alice, everything) == 0
    assert bulk.star(dave, everything) == 0 and not Star.objects.filter(user=dave).exists()
    assert bulk.star(alice, everything.filter(pk=studio["private"].pk), on=False) == 1
    assert Star.objects.filter(user=alice).count() == 3


def test_bulk_tag_rules(studio, alice, bob, carol, dave):
    everything = Job.objects.all()
    team_tag = Tag.objects.create(team=studio["team"], name="Final")
    own = Tag.objects.create(owner=alice, name="mix")
    assert bulk.tag(alice, own, everything) == 4
    assert bulk.tag(bob, team_tag, everything) == 3  # the shared key's jobs only
    assert bulk.tag(bob, team_tag, everything) == 0
    for person, tag in ((carol, team_tag), (dave, team_tag), (bob, own)):
        with pytest.raises(PermissionDenied):
            bulk.tag(person, tag, everything)
    assert bulk.tag(alice, team_tag, everything, on=False) == 3
    assert JobTag.objects.filter(added_by=alice).count() == 4


def test_the_table_layout_has_a_star_column_and_a_tags_column(client, studio, alice, bob):
    from preferences.models import HistoryPreferences

    job = studio["jobs"][0]
    Star.objects.create(user=alice, job=job)
    JobTag.objects.create(tag=Tag.objects.create(owner=alice, name="mix"), job=job)
    HistoryPreferences.objects.create(user=alice, layout="table", columns=["star", "title", "tags"])
    HistoryPreferences.objects.create(user=bob, layout="table", columns=["star", "title", "tags"])
    text = login(client, alice).get("/history/").text
    row = re.search(rf'<tr class="job[^"]*" id="job-{job.code}".*?</tr>', text, re.S).group(0)
    assert re.findall(r'<td class="col-(\w+)', row) == ["select", "star", "title", "tags"]
    assert 'aria-pressed="true"' in star_button(row) and ">mix</a>" in row
    row = re.search(
        rf'<tr class="job[^"]*" id="job-{job.code}".*?</tr>', login(client, bob).get("/history/").text, re.S
    )
    assert 'aria-pressed="false"' in star_button(row.group(0)) and "mix" not in row.group(0)


def test_the_job_page_reads_its_tags_once(client, studio, alice):
    """Its marks panel takes the star and note from annotations.marks and the tags, those on
    the job and those to suggest, from access.tags_for_page: one query of tags, none of teams."""
    job = studio["jobs"][0]
    JobTag.objects.create(tag=Tag.objects.create(owner=alice, name="keeper"), job=job)
    JobTag.objects.create(tag=Tag.objects.create(team=studio["team"], name="mixed"), job=job)
    Star.objects.create(user=alice, job=job)
    Note.objects.create(user=alice, job=job, text="mix again")
    login(client, alice)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/history/{job.code}/").text
    assert "keeper" in page and "mix again" in page and 'aria-pressed="true"' in page
    assert len([q for q in queries.captured_queries if "annotations_jobtag" in q["sql"]]) == 1
    tags = [q["sql"] for q in queries.captured_queries if 'FROM "annotations_tag"' in q["sql"]]
    assert len(tags) == 1 and "teams_team" not in tags[0]  # the teams: those roles_seeing read
    assert '<span class="tag-scope"> · Studio</span>' in page and datalist(page) == ["keeper", "mixed · Studio"]


def test_the_job_pages_one_tag_query_agrees_with_tags_on_and_suggestions(studio, alice, bob, carol):
    """access.tags_for_page reads at once the tags that access.tags_on finds on the job and
    those that forms.suggestions offers, for the key's owner, a member and a viewer."""
    from annotations.access import roles_seeing, tagging_teams, tags_for_page, tags_on
    from annotations.forms import suggestions

    job, other = studio["jobs"][:2]
    elsewhere = Team.objects.create(name="Elsewhere", slug="elsewhere")  # sees neither job
    for person in (alice, bob, carol):
        Member.objects.create(team=elsewhere, user=person, role=Member.Role.MEMBER)
    for n, owner_or_team in enumerate([{"owner": alice}, {"owner": bob}, {"owner": carol}, {"team": studio["team"]}]):
        on, off = (Tag.objects.create(name=f"{kind}-{n}", **owner_or_team) for kind in ("on", "off"))
        JobTag.objects.create(tag=on, job=job)
        JobTag.objects.create(tag=off, job=other)
    JobTag.objects.create(tag=Tag.objects.create(name="far", team=elsewhere), job=job)
    for person in (alice, bob, carol):
        seeing = roles_seeing(person, job)
        teams = tagging_teams(person, job, seeing)
        tags = tags_for_page(person, job, seeing)
        assert [t.pk for t in tags if t.on_job] == [t.pk for t in tags_on(person, job)]
        assert suggestions(person, teams, tags) == suggestions(person, teams)
        assert {t.team.name for t in tags if t.team_id} <= {"Studio"}


def test_roles_seeing_is_the_orms_rule(studio, alice, bob, carol, dave):
    """access.roles_seeing (SQL) gives what the ORM's lookups give: the person's teams that the
    job's key is shared with, by name, each with the person's role, whatever else they are in."""
    from annotations.access import roles_seeing

    job, private = studio["jobs"][0], studio["private"]
    label = Team.objects.create(name="Label", slug="label")  # sorts before Studio
    Member.objects.create(team=label, user=bob, role=Member.Role.VIEWER)
    Member.objects.create(team=label, user=dave, role=Member.Role.ADMIN)
    Share.objects.create(team=label, credential=studio["key"], shared_by=alice)
    aside = Team.objects.create(name="Aside", slug="aside")  # shares nothing of Alice's
    Member.objects.create(team=aside, user=bob, role=Member.Role.OWNER)
    for person in (alice, bob, carol, dave):
        for seen in (job, private):
            members = Member.objects.filter(user=person, team__shares__credential_id=seen.credential_id)
            expected = {m.team: m.role for m in members.select_related("team").order_by("team__name", "team_id")}
            assert roles_seeing(person, seen) == expected
            assert list(roles_seeing(person, seen)) == list(expected)  # in the same order
    assert roles_seeing(bob, job) == {label: "viewer", studio["team"]: "member"}
