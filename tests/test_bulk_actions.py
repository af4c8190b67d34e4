"""Bulk actions on the history's selection (history/bulk_actions.py, /history/bulk/): what a
request selects, what each action says before it happens and does after, who may remove."""

import csv
import io
import json
import re
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.core.files.base import ContentFile
from django.http import QueryDict
from django.test import Client, RequestFactory

from annotations.models import JobTag, Star, Tag
from archive.models import ArchivedFile
from archive.storage import archive_storage
from history import bulk_actions
from history.models import Export, Job, Tombstone
from teams.models import AuditEvent, Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, tzinfo=UTC)


def make_jobs(credential, n: int, prefix: str = "job", **fields) -> list[Job]:
    values = {"provider": credential.provider, "kind": "music", "status": "succeeded"}
    return Job.objects.bulk_create(
        Job(
            credential=credential,
            external_id=f"{prefix}-{i:05d}",
            title=f"{prefix} {i}",
            created=START + timedelta(minutes=i),
            **(values | fields),
        )
        for i in range(n)
    )


def codes(jobs) -> str:
    return ",".join(str(job.code) for job in jobs)


@pytest.fixture
def key(alice):
    return make_credential(alice, provider="audiopod", label="Studio", secret="sk-bulk-alice-1")


@pytest.fixture
def crew(alice, bob, key):
    """Alice and Bob in a team; Alice's key and Bob's key both shared with it."""
    team = Team.objects.create(name="Crew", slug="crew")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.MEMBER)
    bobs = make_credential(bob, provider="audiopod", label="Bob's", secret="sk-bulk-bob-1")
    Share.objects.create(team=team, credential=key, shared_by=alice)
    Share.objects.create(team=team, credential=bobs, shared_by=bob)
    return bobs


def resolve(user, data: dict):
    request = RequestFactory().post("/history/bulk/")
    request.user = user
    query = QueryDict(mutable=True)
    for name, value in data.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    return bulk_actions.resolve(request, query)


# --- the resolver ---------------------------------------------------------------------------


def test_codes_select_those_jobs_newest_first_and_ignore_invisible_ones(alice, carol, key):
    mine = make_jobs(key, 3)
    hidden = make_jobs(make_credential(carol, label="Carol's", secret="sk-bulk-carol"), 2, prefix="carol")
    unknown = uuid.uuid4()
    selection = resolve(alice, {"job": [codes(mine[:2]), codes(hidden), str(unknown)]})
    assert selection.pks == [mine[1].pk, mine[0].pk] and selection.matching == 2
    assert not selection.everything and not selection.capped
    assert selection.fields == [("job", codes([mine[1], mine[0]]))]  # only the visible ones go on


def test_a_malformed_code_or_too_many_codes_is_refused(alice, key, monkeypatch):
    with pytest.raises(bulk_actions.BadSelection, match="Bad job id"):
        resolve(alice, {"job": "not-a-code"})
    monkeypatch.setattr(bulk_actions, "BULK_MAX", 2)
    with pytest.raises(bulk_actions.BadSelection, match="At most 2 jobs"):
        resolve(alice, {"job": ",".join(str(uuid.uuid4()) for _ in range(3))})


def test_all_takes_every_visible_job_matching_the_filters(alice, bob, key, crew):
    make_jobs(key, 4, status="failed")
    make_jobs(key, 3, prefix="ok")
    teammates = make_jobs(crew, 2, prefix="bob", status="failed")
    make_jobs(make_credential(bob, label="Bob's private", secret="sk-bulk-bob-2"), 5, prefix="private", status="failed")
    selection = resolve(alice, {"all": "1", "status": "failed", "job": codes(teammates)})
    assert selection.everything and selection.matching == 6  # the codes are not what all=1 takes
    assert set(Job.objects.filter(pk__in=selection.pks).values_list("status", flat=True)) == {"failed"}
    assert ("all", "1") in selection.fields and ("status", "failed") in selection.fields
    assert selection.back == "/history/?status=failed"
    with pytest.raises(bulk_actions.BadSelection, match="Bad filter"):
        resolve(alice, {"all": "1", "status": "sideways"})


def test_a_selection_is_capped_in_the_lists_order(alice, key, monkeypatch):
    """Newest first by default; sorted by credits, the dearest (jobs without credits last)."""
    jobs = make_jobs(key, 5)
    monkeypatch.setattr(bulk_actions, "BULK_MAX", 3)
    selection = resolve(alice, {"all": "1"})
    assert selection.pks == [jobs[4].pk, jobs[3].pk, jobs[2].pk]
    assert selection.matching == 5 and selection.capped
    for job, credits in zip(jobs, [7, None, 30, 1, 12], strict=True):
        Job.objects.filter(pk=job.pk).update(credits_used=credits)
    assert resolve(alice, {"all": "1", "sort": "-credits"}).pks == [jobs[2].pk, jobs[4].pk, jobs[0].pk]
    assert resolve(alice, {"all": "1", "sort": "credits"}).pks == [jobs[3].pk, jobs[0].pk, jobs[4].pk]
    chosen = codes([jobs[1], jobs[2], jobs[3]])  # ticked boxes, in the list's order too
    assert resolve(alice, {"job": chosen, "sort": "-credits"}).pks == [jobs[2].pk, jobs[3].pk, jobs[1].pk]


# --- the view: ask, then do -----------------------------------------------------------------


def post(client, action: str, confirm: bool = False, **data):
    return client.post("/history/bulk/", {"action": action, **({"confirm": "1"} if confirm else {}), **data})


def test_anonymous_is_sent_to_log_in_and_get_is_refused(client, alice_client):
    anonymous = Client()
    assert anonymous.post("/history/bulk/", {"action": "remove", "all": "1"}).status_code == 302
    assert alice_client.get("/history/bulk/").status_code == 405


def test_bulk_actions_need_the_csrf_token(alice, key):
    job = make_jobs(key, 1)[0]
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert post(client, "remove", confirm=True, job=codes([job])).status_code == 403
    assert Job.objects.filter(pk=job.pk).exists()


def test_an_unknown_action_or_a_bad_selection_is_a_400(alice_client, key):
    assert post(alice_client, "explode", all="1").status_code == 400
    response = post(alice_client, "remove", job="nope")
    assert response.status_code == 400 and "Bad job id" in response.text


def test_nothing_selected_says_so_and_offers_no_button(alice_client, key):
    response = post(alice_client, "remove", confirm=True, job=str(uuid.uuid4()))
    assert response.status_code == 200 and "No jobs are selected." in response.text
    assert "Remove from Genboard</button>" not in response.text


def test_remove_says_the_counts_first_then_removes_only_the_owners_jobs(alice, alice_client, key, crew):
    mine = make_jobs(key, 37)
    theirs = make_jobs(crew, 5, prefix="bob")
    selected = codes(mine + theirs)
    asked = post(alice_client, "remove", job=selected)
    assert asked.status_code == 200
    assert "Remove 37 jobs of yours; 5 are a teammate’s and stay." in unescape(asked.text)
    assert Job.objects.count() == 42  # asking changes nothing
    assert "Remove from Genboard</button>" in asked.text and f'value="{selected}"' not in asked.text  # newest first

    done = post(alice_client, "remove", confirm=True, job=selected)
    assert done.status_code == 302 and done.headers["Location"] == "/history/"
    assert set(Job.objects.values_list("pk", flat=True)) == {job.pk for job in theirs}
    assert Tombstone.objects.filter(credential=key).count() == 37  # as the single removal does
    # On the team's page, as a single removal is: one event naming how many and the first few.
    event = AuditEvent.objects.get(verb="job.remove", team__slug="crew")
    assert event.actor == alice and event.subject == "37 jobs of key Studio: “job 36”, “job 35”, “job 34” and 34 more"
    page = unescape(alice_client.get("/history/").text)
    assert "Removed 37 jobs from Genboard; later syncs do not bring them back. 5 of teammates’ stay." in page


def test_a_teammate_cannot_remove_the_owners_jobs(bob, client, key, crew):
    alices = make_jobs(key, 3)
    client.force_login(bob)
    asked = post(client, "remove", job=codes(alices))
    assert "None of these 3 jobs is yours" in unescape(asked.text) and "Remove from Genboard</button>" not in asked.text
    post(client, "remove", confirm=True, job=codes(alices))
    post(client, "remove", confirm=True, all="1")
    assert Job.objects.count() == 3 and not Tombstone.objects.exists()


def test_an_outsider_selects_nothing(carol, client, key):
    jobs = make_jobs(key, 2)
    client.force_login(carol)
    post(client, "remove", confirm=True, job=codes(jobs))
    post(client, "remove", confirm=True, all="1")
    assert Job.objects.count() == 2


def test_remove_all_matching_keeps_the_filters_and_says_the_cap(alice_client, key, monkeypatch):
    make_jobs(key, 5, status="failed")
    kept = make_jobs(key, 2, prefix="fine")
    monkeypatch.setattr(bulk_actions, "BULK_MAX", 3)
    asked = unescape(post(alice_client, "remove", all="1", status="failed").text)
    assert "5 jobs match: one bulk action takes the first 3 in the list's order (newest first)." in asked
    assert "Remove 3 jobs of yours." in asked
    done = post(alice_client, "remove", confirm=True, all="1", status="failed")
    assert done.headers["Location"] == "/history/?status=failed"
    assert (
        Job.objects.filter(status="failed").count() == 2
        and Job.objects.filter(pk__in=[j.pk for j in kept]).count() == 2
    )


def test_the_confirmation_is_a_dialog_fragment_for_htmx(alice_client, key):
    job = make_jobs(key, 1)[0]
    response = alice_client.post(
        "/history/bulk/", {"action": "remove", "job": str(job.code)}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert "Remove 1 job of yours." in response.text and "data-bulk-confirm" in response.text


def test_export_of_the_selection_has_the_exports_fields(alice_client, key, crew):
    mine = make_jobs(key, 3)
    theirs = make_jobs(crew, 1, prefix="bob")
    asked = post(alice_client, "export_csv", job=codes(mine[:2] + theirs))
    assert "Export 3 jobs as CSV" in asked.text
    response = post(alice_client, "export_json", confirm=True, job=codes(mine[:2] + theirs))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    rows = json.loads(b"".join(response.streaming_content))
    assert [row["title"] for row in rows] == ["job 1", "bob 0", "job 0"]
    assert list(rows[0]) == bulk_actions.export_jobs.export.FIELDS
    response = post(alice_client, "export_csv", confirm=True, all="1", q="job")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(row["title"] for row in table) == ["job 0", "job 1", "job 2"]


def test_a_large_export_of_the_selection_runs_in_the_background(alice, alice_client, key, monkeypatch):
    jobs = make_jobs(key, 4)
    monkeypatch.setattr(bulk_actions.export_jobs, "STREAM_LIMIT", 2)
    monkeypatch.setattr(bulk_actions.export_jobs, "async_task", lambda *args, **kwargs: None)
    asked = post(alice_client, "export_csv", job=codes(jobs[:3]))
    assert "written in the background" in asked.text
    response = post(alice_client, "export_csv", confirm=True, job=codes(jobs[:3]))
    export = Export.objects.get()
    assert response.status_code == 302 and response.headers["Location"] == export.get_absolute_url()
    assert bulk_actions.export_jobs.run(export.pk) == "done"
    export.refresh_from_db()
    lines = export.file.open("rb").read().decode("utf-8-sig").splitlines()
    assert len(lines) == 4 and "job 3" not in "".join(lines)  # the header and the three chosen
    page = unescape(alice_client.get(export.get_absolute_url()).text)
    assert "Exporting 3 jobs: this page shows the progress." in page


def test_zip_of_the_selection_says_how_many_have_files(alice_client, key, settings):
    jobs = make_jobs(key, 3)
    path = "archive/bulk-test.mp3"
    archive_storage().save(path, ContentFile(b"ID3-bulk"))
    ArchivedFile.objects.create(
        job=jobs[0], position=0, kind="audio", url="https://cdn.example/a.mp3", host="cdn.example:443",
        state=ArchivedFile.State.DONE, size=8, path=path, next_try=None,
    )  # fmt: skip
    asked = post(alice_client, "zip", job=codes(jobs))
    assert "Download the archived files of 3 jobs as one zip" in asked.text
    assert "2 of them have no archived file yet and stay out." in asked.text
    response = post(alice_client, "zip", confirm=True, job=codes(jobs))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert names == ["job 0.mp3", "about this download.txt"]
    nothing = post(alice_client, "zip", confirm=True, job=codes(jobs[1:]))
    assert nothing["Content-Type"].startswith("text/html") and "there is nothing to zip" in nothing.text


def test_remove_text():
    assert bulk_actions.remove_text(37, 5, 1) == "Remove 37 jobs of yours; 5 are a teammate’s and stay."
    assert bulk_actions.remove_text(1, 1, 1) == "Remove 1 job of yours; 1 is a teammate’s and stay."
    assert bulk_actions.remove_text(2, 3, 2) == "Remove 2 jobs of yours; 3 are teammates’ and stay."
    assert bulk_actions.remove_text(4, 0, 0) == "Remove 4 jobs of yours."


# --- the list -------------------------------------------------------------------------------


def test_every_row_has_a_labelled_checkbox_of_the_bulk_form(alice_client, key):
    job = make_jobs(key, 1)[0]
    page = alice_client.get("/history/", {"status": "succeeded"}).text
    assert f'<input type="checkbox" class="job-select" name="job" value="{job.code}" form="bulk-form">' in page
    assert "Select “job 0”" in unescape(page)
    assert 'id="bulk-form"' in page and 'data-matching="1"' in page
    assert '<input type="hidden" name="status" value="succeeded">' in page  # all=1 takes the filters


def test_without_script_the_ticked_boxes_go_with_the_buttons(alice_client, key):
    jobs = make_jobs(key, 3)
    # A plain form post: one `job` field per ticked box, and the button's action.
    response = alice_client.post("/history/bulk/", {"action": "remove", "job": [str(jobs[0].code), str(jobs[2].code)]})
    assert "Remove 2 jobs of yours." in response.text


def test_removing_a_job_buried_before_keeps_one_tombstone(alice, alice_client, key):
    """A job imported again after a removal (history.importer) is removed again: its old
    tombstone is kept, not doubled, and the removal goes through."""
    jobs = make_jobs(key, 2)
    Tombstone.objects.create(credential=key, external_id=jobs[0].external_id)
    post(alice_client, "remove", confirm=True, job=codes(jobs))
    assert not Job.objects.exists() and Tombstone.objects.filter(credential=key).count() == 2


def test_a_refused_selection_is_said_in_the_dialog_with_htmx(alice_client, key):
    response = alice_client.post("/history/bulk/", {"action": "remove", "job": "nope"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Not done" in response.text and "Bad job id." in response.text


# --- stars and tags (annotations.bulk) --------------------------------------------------------


def test_star_says_how_many_then_stars_and_unstars(alice, alice_client, key):
    jobs = make_jobs(key, 3)
    Star.objects.create(user=alice, job=jobs[0])
    asked = unescape(post(alice_client, "star", job=codes(jobs)).text)
    assert "Star 2 jobs." in asked and "1 of the 3 is starred already." in asked
    done = post(alice_client, "star", confirm=True, job=codes(jobs))
    assert done.status_code == 302 and Star.objects.filter(user=alice).count() == 3
    assert "Starred 2 jobs." in unescape(alice_client.get("/history/").text)
    assert "Unstar 3 jobs." in unescape(post(alice_client, "unstar", all="1").text)
    post(alice_client, "unstar", confirm=True, all="1")
    assert not Star.objects.exists()


def named(name: str, team: str = "") -> dict:
    """The bulk bar's tag fields (history.bulk_actions.TAG_PREFIX: the job page's TagForm)."""
    return {"bulk_tag-name": name, "bulk_tag-team": team}


def test_tag_with_a_personal_tag_beside_the_tag_filter(alice, alice_client, key):
    jobs = make_jobs(key, 3)
    mix = Tag.objects.create(owner=alice, name="mix")
    demo = Tag.objects.create(owner=alice, name="demo")
    JobTag.objects.create(tag=demo, job=jobs[0], added_by=alice)
    assert "mix" in datalist(alice_client)  # the bar's suggestions
    # `tag` is the history's filter (jobs tagged "demo"); `bulk_tag-name` the tag to put on them.
    asked = unescape(post(alice_client, "tag", all="1", tag=str(demo.code), **named("mix")).text)
    assert "Tag 1 job with “mix”." in asked and 'name="bulk_tag-name" value="mix"' in asked
    post(alice_client, "tag", confirm=True, job=codes(jobs), **named("mix"))
    assert JobTag.objects.filter(tag=mix).count() == 3
    asked = unescape(post(alice_client, "untag", job=codes(jobs[:2]), **named("mix")).text)
    assert "Take “mix” off 2 jobs." in asked
    post(alice_client, "untag", confirm=True, job=codes(jobs[:2]), **named("mix"))
    assert list(JobTag.objects.filter(tag=mix).values_list("job", flat=True)) == [jobs[2].pk]


def test_team_tags_follow_the_role_and_reach_only_the_teams_jobs(alice, bob, client, key, crew):
    shared = make_jobs(crew, 2, prefix="bob")
    private = make_jobs(make_credential(bob, label="Bob's own", secret="sk-bulk-bob-3"), 1, prefix="own")
    team_tag = Tag.objects.create(team=Team.objects.get(slug="crew"), name="release")
    client.force_login(bob)
    asked = unescape(post(client, "tag", job=codes(shared + private), **named("release", "crew")).text)
    assert "Tag 2 jobs with “release” of Crew." in asked and "1 job not shared with Crew stays as it is." in asked
    post(client, "tag", confirm=True, job=codes(shared + private), **named("release", "crew"))
    assert JobTag.objects.filter(tag=team_tag).count() == 2
    Member.objects.filter(user=bob).update(role=Member.Role.VIEWER)
    asked = post(client, "untag", confirm=True, job=codes(shared), **named("release", "crew"))
    assert asked.status_code == 200 and "Viewers of Crew cannot change its tags." in unescape(asked.text)
    assert JobTag.objects.filter(tag=team_tag).count() == 2
    # Neither the team nor its tags are offered to a viewer by the bulk bar (the tag filter still lists them).
    page = client.get("/history/").text
    assert '<option value="crew">Team Crew</option>' not in page and "release · Crew" not in datalist(client)
    Member.objects.filter(user=bob).update(role=Member.Role.MEMBER)
    page = client.get("/history/").text
    assert '<option value="crew">Team Crew</option>' in page
    assert "release · Crew" in datalist(client)


def test_a_name_is_looked_up_among_the_persons_own_tags_only(alice, carol, client, key):
    jobs = make_jobs(key, 1)
    carols = Tag.objects.create(owner=carol, name="secret")
    client.force_login(alice)
    asked = unescape(post(client, "tag", job=codes(jobs), **named("secret")).text)
    assert "Tag 1 job with the new tag “secret”." in asked
    asked = unescape(post(client, "untag", confirm=True, job=codes(jobs), **named("secret")).text)
    assert "There is no tag “secret” of yours to take off." in asked and "Remove the tag</button>" not in asked
    post(client, "tag", confirm=True, job=codes(jobs), **named("secret"))
    assert not carols.links.exists() and Tag.objects.get(owner=alice).name == "secret"


def datalist(client) -> list[str]:
    """The bulk bar's tag suggestions, as its tag field asks them when first focused."""
    page = client.get("/history/").text
    assert '<datalist id="bulk-tag-names"></datalist>' in page and 'hx-get="/history/bulk/tags/"' in page
    options = client.get("/history/bulk/tags/").text
    return [unescape(value) for value in re.findall(r'<option value="([^"]*)">', options)]


@pytest.mark.parametrize("htmx", [False, True], ids=["without htmx", "with htmx"])
def test_a_team_tags_suggestion_puts_the_teams_tag_while_only_me_is_selected(bob, client, key, crew, htmx):
    """As on the job page (annotations.forms.suggestions): a team's tag is suggested as "name ·
    team", and that text names the team's tag whatever "Whose tag" says, asked and confirmed;
    a personal tag of the same name is not made. A name typed plain is still the select's."""
    shared = make_jobs(crew, 2, prefix="bob")
    private = make_jobs(make_credential(bob, label="Bob's own", secret="sk-bulk-bob-5"), 1, prefix="own")
    final = Tag.objects.create(team=Team.objects.get(slug="crew"), name="Final")
    Tag.objects.create(owner=bob, name="rough")
    client.force_login(bob)
    # The field takes a team tag's suggestion whole: 40 characters of name, " · Crew".
    assert datalist(client) == ["Final · Crew", "rough"] and 'maxlength="47"' in client.get("/history/").text
    picked = {"job": codes(shared + private), **named("Final · Crew")}  # "Only me" left selected
    asked = client.post("/history/bulk/", {"action": "tag", **picked}, headers={"HX-Request": "true"} if htmx else {})
    text = unescape(asked.text)
    assert "Tag 2 jobs with “Final” of Crew." in text and "1 job not shared with Crew stays as it is." in text
    assert 'name="bulk_tag-name" value="Final · Crew"' in text  # the confirmation sends the text again
    done = post(client, "tag", confirm=True, **picked)
    assert done.status_code == 302 and Tag.objects.count() == 2
    assert set(final.links.values_list("job", flat=True)) == {job.pk for job in shared}
    assert "Tagged 2 jobs with “Final” of Crew." in unescape(client.get(done["Location"]).text)
    assert "Take “Final” of Crew off 2 jobs." in unescape(post(client, "untag", **picked).text)
    post(client, "untag", confirm=True, **picked)
    assert not final.links.exists()
    # Typed plain with "Only me": a new tag of Bob's own, as the select says.
    asked = unescape(post(client, "tag", job=codes(shared), **named("Final")).text)
    assert "Tag 2 jobs with the new tag “Final”." in asked


def test_a_team_tags_suggestion_is_that_tag_only_where_no_tag_of_the_chosen_kind_has_its_text(alice, bob, client, crew):
    shared = make_jobs(crew, 1, prefix="bob")
    crew_team = Team.objects.get(slug="crew")
    long = Tag.objects.create(team=crew_team, name="x" * 40)
    client.force_login(bob)
    # A suggestion longer than a name: the field takes it whole, and it names the team's tag.
    suggested = f"{'x' * 40} · Crew"
    assert datalist(client) == [suggested] and f'maxlength="{len(suggested)}"' in client.get("/history/").text
    post(client, "tag", confirm=True, job=codes(shared), **named(suggested))
    assert list(long.links.values_list("job", flat=True)) == [shared[0].pk]
    # Bob's own tag of that very text: "Only me" finds his.
    own = Tag.objects.create(owner=bob, name="Final · Crew")
    Tag.objects.create(team=crew_team, name="Final")
    asked = unescape(post(client, "tag", job=codes(shared), **named("Final · Crew")).text)
    assert "Tag 1 job with “Final · Crew”." in asked
    post(client, "tag", confirm=True, job=codes(shared), **named("Final · Crew"))
    assert list(own.links.values_list("job", flat=True)) == [shared[0].pk]
    # A viewer is offered no team tags: the text is a name like any other, and too long a one.
    Member.objects.filter(user=bob).update(role=Member.Role.VIEWER)
    assert datalist(client) == ["Final · Crew"] and 'maxlength="40"' in client.get("/history/").text
    asked = unescape(post(client, "tag", job=codes(shared), **named(suggested)).text)
    assert "A tag name is 1 to 40 characters" in asked and "Add the tag</button>" not in asked


# --- a new tag from the bulk bar --------------------------------------------------------------


def test_a_new_personal_tag_is_made_only_when_confirmed(alice, alice_client, key):
    jobs = make_jobs(key, 37)
    asked = unescape(post(alice_client, "tag", job=codes(jobs), **named("  keeper ")).text)
    assert "Tag 37 jobs with the new tag “keeper”." in asked and "Add the tag</button>" in asked
    assert not Tag.objects.exists()  # asking makes nothing
    done = post(alice_client, "tag", confirm=True, job=codes(jobs), **named("  keeper "))
    assert done.status_code == 302
    tag = Tag.objects.get()
    assert (tag.owner, tag.team, tag.name) == (alice, None, "keeper")  # trimmed, as on the job page
    assert JobTag.objects.filter(tag=tag, added_by=alice).count() == 37
    assert "Tagged 37 jobs with the new tag “keeper”." in unescape(alice_client.get("/history/").text)


def test_a_member_makes_a_new_team_tag_on_the_teams_jobs(bob, client, key, crew):
    shared = make_jobs(key, 2) + make_jobs(crew, 1, prefix="bob")
    private = make_jobs(make_credential(bob, label="Bob's own", secret="sk-bulk-bob-4"), 1, prefix="own")
    client.force_login(bob)
    asked = client.post(
        "/history/bulk/", {"action": "tag", "job": codes(shared + private), **named("final", "crew")},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    text = unescape(asked.text)
    assert "<html" not in text and "Tag 3 jobs with the new team tag “final” of Crew." in text
    assert "1 job not shared with Crew stays as it is." in text and not Tag.objects.exists()
    post(client, "tag", confirm=True, job=codes(shared + private), **named("final", "crew"))
    tag = Tag.objects.get()
    assert (tag.owner, tag.team.slug, tag.name) == (None, "crew", "final")
    assert set(tag.links.values_list("job", flat=True)) == {job.pk for job in shared}


def test_a_viewer_cannot_make_a_team_tag(bob, client, key, crew):
    jobs = make_jobs(key, 2)
    Member.objects.filter(user=bob).update(role=Member.Role.VIEWER)
    client.force_login(bob)
    for confirm in (False, True):
        refused = post(client, "tag", confirm=confirm, job=codes(jobs), **named("final", "crew"))
        assert refused.status_code == 200 and "Viewers of Crew cannot change its tags." in unescape(refused.text)
        assert "Add the tag</button>" not in refused.text
    assert not Tag.objects.exists() and not JobTag.objects.exists()


def test_a_name_in_another_case_is_the_existing_tag(alice, bob, client, key, crew):
    jobs = make_jobs(key, 3)
    keeper = Tag.objects.create(owner=alice, name="Keeper")
    final = Tag.objects.create(team=Team.objects.get(slug="crew"), name="Final")
    JobTag.objects.create(tag=keeper, job=jobs[0], added_by=alice)
    client.force_login(alice)
    asked = unescape(post(client, "tag", job=codes(jobs), **named("KEEPER")).text)
    assert "Tag 2 jobs with “Keeper”." in asked and "1 has it already." in asked and "new" not in asked
    post(client, "tag", confirm=True, job=codes(jobs), **named("KEEPER"))
    client.force_login(bob)
    asked = unescape(post(client, "tag", job=codes(jobs), **named("final", "crew")).text)
    assert "Tag 3 jobs with “Final” of Crew." in asked
    post(client, "tag", confirm=True, job=codes(jobs), **named("final", "crew"))
    assert Tag.objects.count() == 2  # no duplicate
    assert keeper.links.count() == 3 and final.links.count() == 3


@pytest.mark.parametrize(
    ("name", "team", "message"),
    [
        ("", "", "A tag name is 1 to 40 characters"),
        ("   ", "", "A tag name is 1 to 40 characters"),
        ("x" * 41, "", "A tag name is 1 to 40 characters"),
        ("final", "elsewhere", "You are not in that team."),
    ],
)
def test_a_bad_tag_is_said_not_made(alice, carol, alice_client, key, name, team, message):
    Member.objects.create(team=Team.objects.create(name="Elsewhere", slug="elsewhere"), user=carol)
    jobs = make_jobs(key, 2)
    for confirm in (False, True):
        refused = post(alice_client, "tag", confirm=confirm, job=codes(jobs), **named(name, team))
        assert refused.status_code == 200 and message in unescape(refused.text)
        assert "Add the tag</button>" not in refused.text
    assert not Tag.objects.exists() and not JobTag.objects.exists()


def test_without_script_a_new_tag_goes_through_the_confirmation_page(alice, alice_client, key):
    jobs = make_jobs(key, 3)
    # The bar as a browser without script sends it: one `job` field per ticked box.
    asked = alice_client.post(
        "/history/bulk/", {"action": "tag", "job": [str(job.code) for job in jobs[:2]], **named("keeper")}
    )
    assert "<html" in asked.text and "Tag 2 jobs with the new tag “keeper”." in unescape(asked.text)
    # The confirmation page's form, sent as it is.
    form = re.search(r'<form method="post" action="/history/bulk/".*?</form>', asked.text, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert fields["bulk_tag-name"] == "keeper" and fields["confirm"] == "1" and not Tag.objects.exists()
    done = alice_client.post("/history/bulk/", fields)
    assert done.status_code == 302
    assert set(Tag.objects.get(name="keeper").links.values_list("job", flat=True)) == {jobs[0].pk, jobs[1].pk}
