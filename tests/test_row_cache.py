"""Rendered history rows are cached per (job, row version, viewer): a cached row never shows a
stale status, nor another person's rights, name, time zone or CSRF token."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history import row_cache
from history.models import Job
from teams.models import Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def row(client, job: Job, **headers) -> str:
    """The job's row as the list shows it."""
    text = client.get("/history/", headers=headers).text
    found = re.search(rf'<li class="job[^"]*" id="job-{job.code}".*?</li>', text, re.S)
    assert found, f"no row for {job.title}"
    return found.group(0)


@pytest.fixture
def shared(alice, bob, carol):
    """Alice's key, shared with a team where Bob is a member and Carol a viewer; one running job."""
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.MEMBER)
    Member.objects.create(team=team, user=carol, role=Member.Role.VIEWER)
    key = make_credential(alice, "audiopod", label="Pod")
    Share.objects.create(team=team, credential=key, shared_by=alice)
    job = Job.objects.create(
        credential=key,
        provider="audiopod",
        kind=Job.Kind.MUSIC,
        external_id="77",
        title="Slow burn",
        status=Job.Status.RUNNING,
        provider_status="PROCESSING",
        created=datetime(2026, 11, 20, 23, 30, tzinfo=UTC),
    )
    return {"team": team, "key": key, "job": job}


@pytest.fixture
def renders(monkeypatch):
    """How many rows were rendered (not read from the cache)."""
    count = {"rows": 0}
    real = row_cache.render_row

    def counting(*args, **kwargs):
        count["rows"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(row_cache, "render_row", counting)
    return count


def test_a_row_is_rendered_once_then_read_from_the_cache(client, alice, shared, renders):
    client.force_login(alice)
    first = row(client, shared["job"], **HX)
    assert renders["rows"] == 1
    again = row(client, shared["job"], **HX)
    assert renders["rows"] == 1
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')  # masked anew for each answer
    assert token.sub("", again) == token.sub("", first)


def test_a_changed_status_is_never_served_from_the_cache(client, alice, shared, renders):
    client.force_login(alice)
    job = shared["job"]
    assert "Running" in row(client, job) and "hx-trigger" in row(client, job)

    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, provider_status="COMPLETED")

    now = row(client, job)
    assert "Succeeded" in now and "Running" not in now
    assert "hx-trigger" not in now and "Refresh now" not in now  # finished: no poll, no refresh
    # The row's own poll agrees.
    assert ">Succeeded</span>" in client.get(f"/history/{job.code}/row/").text


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("title", "Renamed at AudioPod", "Renamed at AudioPod"),
        ("stale", True, "No news for a day"),
        ("outputs", [{"kind": "audio", "url": "https://cdn.example/new.mp3", "duration": 61}], "new.mp3"),
        ("credits_used", 42, "42 credits"),
    ],
)
def test_every_field_a_row_shows_changes_its_version(client, alice, shared, field, value, shown):
    client.force_login(alice)
    job = shared["job"]
    assert shown not in row(client, job)
    Job.objects.filter(pk=job.pk).update(**{field: value})
    assert shown in row(client, job)


def test_each_viewer_sees_their_own_rights_and_a_changed_role_at_once(client, alice, bob, carol, shared):
    job = shared["job"]
    client.force_login(alice)
    own = row(client, job)
    assert "shared by" not in own and "Refresh now" in own

    client.force_login(bob)  # a member: may refresh, sees whose key it is
    as_member = row(client, job)
    assert "shared by alice" in as_member and "Refresh now" in as_member

    client.force_login(carol)  # a viewer: the same job, no refresh
    as_viewer = row(client, job)
    assert "shared by alice" in as_viewer and "Refresh now" not in as_viewer

    Member.objects.filter(user=bob).update(role=Member.Role.VIEWER)
    client.force_login(bob)
    assert "Refresh now" not in row(client, job)

    Member.objects.filter(user=carol).update(role=Member.Role.MEMBER)
    client.force_login(carol)
    assert "Refresh now" in row(client, job)


def test_whether_one_may_refresh_comes_with_the_keys_not_a_query_per_key(client, bob, carol, shared):
    """The page reads each key's "Refresh now" right for its viewer with the keys
    (teams.access.refreshes_key): no query of its own, for a member or a viewer."""
    for person, shown in ((bob, True), (carol, False)):
        client.force_login(person)
        with CaptureQueriesContext(connection) as queries:
            text = client.get("/history/", headers={"HX-Request": "true"}).text
        assert ("Refresh now" in text) is shown
        assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT 1 AS "a" FROM "teams_member"')]


def test_a_renamed_owner_shows_under_the_new_name(client, alice, bob, shared):
    client.force_login(bob)
    assert "shared by alice" in row(client, shared["job"])
    alice.username = "alicia"
    alice.save()
    assert "shared by alicia" in row(client, shared["job"])


def test_the_refresh_form_carries_each_request_s_own_token_and_page(client, alice, bob, shared):
    job = shared["job"]
    client.force_login(alice)
    plain = row(client, job)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', plain).group(1)
    assert token not in (row_cache.CSRF_SLOT, "") and row_cache.CSRF_SLOT not in plain
    assert '<input type="hidden" name="next" value="/history/">' in plain
    refresh = re.search(r"<form[^>]*/refresh/.*?</form>", row(client, job, **HX), re.S).group(0)
    assert 'name="next"' not in refresh  # htmx swaps the row in place
    # A refresh with the cached row's token is accepted, for the person it was rendered for.
    client.cookies["csrftoken"] = client.cookies["csrftoken"].value
    enforcing = client.__class__(enforce_csrf_checks=True)
    enforcing.force_login(alice)
    form = row(enforcing, job)
    sent = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    answer = enforcing.post(f"/history/{job.code}/refresh/", {"csrfmiddlewaretoken": sent, "next": "/history/"})
    assert answer.status_code == 302

    client.force_login(bob)
    other = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', row(client, job)).group(1)
    assert other != token


def test_times_follow_each_viewer_s_time_zone(client, alice, shared):
    client.force_login(alice)
    assert ">Nov 20, 2026, 23:30</time>" in row(client, shared["job"])
    client.cookies["tz"] = "Asia/Tokyo"
    assert ">Nov 21, 2026, 08:30</time>" in row(client, shared["job"])


def test_rows_are_kept_per_template(shared, alice, client, monkeypatch):
    """A deploy that changes row.html does not serve rows rendered by the old one."""
    client.force_login(alice)
    row(client, shared["job"])
    rows = [key for key in caches["rows"]._cache if ":row:" in key]
    assert rows and all(f":{row_cache.template_digest()}:" in key for key in rows)


def test_an_archived_copy_and_its_state_change_the_row(client, alice, shared):
    """The row shows the files as the archive makes them (our URL, its state), not only as
    stored on the job: its version covers them."""
    from archive.models import ArchivedFile

    job = shared["job"]
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED, outputs=[{"kind": "audio", "url": "https://cdn.example/slow.mp3", "duration": 61}]
    )
    client.force_login(alice)
    assert 'src="https://cdn.example/slow.mp3"' in row(client, job)

    copy = ArchivedFile.objects.create(
        job=job, position=0, kind="audio", url="https://cdn.example/slow.mp3", host="cdn.example:443",
        state=ArchivedFile.State.DONE, size=2048, path="archive/x.mp3", next_try=None,
    )  # fmt: skip
    archived = row(client, job)
    assert f'src="/files/{copy.code}/"' in archived and "Archived · 2.0\xa0KB" in archived

    ArchivedFile.objects.filter(pk=copy.pk).update(state=ArchivedFile.State.FAILED, error="too big")
    failed = row(client, job)
    assert "Archive failed: too big" in failed


@pytest.mark.parametrize("layout", ["cards", "table"])
def test_rows_escape_what_providers_and_people_wrote(client, alice, bob, shared, layout):
    """The rows are Jinja2 templates (config/jinja.py): a title, model, error, status, key
    label, owner's name or tag that holds markup shows as text in both layouts."""
    from annotations.models import JobTag, Note, Tag
    from preferences.models import HistoryPreferences

    evil = '<img src=x onerror="alert(1)">'
    Job.objects.filter(pk=shared["job"].pk).update(
        title=f"Song {evil}", model=evil, provider_status=evil, status=Job.Status.FAILED, error=evil
    )
    shared["key"].label = f"Pod {evil}"
    shared["key"].save()
    alice.username = "alice<b>"
    alice.save()
    tag = Tag.objects.create(owner=bob, name="<i>tag</i>")
    JobTag.objects.create(tag=tag, job=shared["job"])
    Note.objects.create(user=bob, job=shared["job"], text=evil)
    columns = ["star", "status", "title", "model", "key", "tags"]
    HistoryPreferences.objects.create(user=bob, layout=layout, columns=columns)
    client.force_login(bob)
    text = client.get("/history/", headers=HX).text
    assert "<img" not in text and "<b>" not in text and "<i>tag" not in text
    assert "&lt;img src=x onerror=" in text and "&lt;i&gt;tag&lt;/i&gt;" in text


def _version(job: Job) -> str:
    """The job's row version as a page reads it (history.views.page_rows)."""
    fresh = row_cache.with_digest(Job.objects.filter(pk=job.pk).only(*row_cache.LIGHT_FIELDS)).get()
    fresh.credential = job.credential
    return row_cache.row_version(fresh)


CHANGES = {
    "code": uuid.uuid4(),
    "provider": "apimall",
    "kind": Job.Kind.AUDIO,
    "external_id": "78",
    "created": datetime(2026, 11, 19, tzinfo=UTC),
    "status": Job.Status.FAILED,
    "provider_status": "FAILED",
    "title": "Renamed",
    "model": "v5",
    "error": "Out of credits",
    "stale": True,
    "credits_used": Decimal("1.5"),
    "completed": datetime(2026, 11, 21, tzinfo=UTC),
    "outputs": [{"kind": "audio", "url": "https://cdn.example/a.mp3"}],
    "inputs": [{"kind": "audio", "url": "https://cdn.example/in.mp3"}],
}


@pytest.mark.parametrize("field", [name for name in row_cache.SHOWN_COLUMNS if name != "credential_id"])
def test_the_database_digest_covers_every_column_a_row_shows(shared, field):
    job = shared["job"]
    before = _version(job)
    assert _version(job) == before  # the same digest read twice
    Job.objects.filter(pk=job.pk).update(**{field: CHANGES[field]})
    assert _version(job) != before


def test_the_version_follows_the_key_its_label_and_the_job_s_archived_files(shared, alice):
    from archive.models import ArchivedFile

    job = shared["job"]
    versions = [_version(job)]
    job.credential = other = make_credential(alice, "audiopod", label="Other pod")
    Job.objects.filter(pk=job.pk).update(credential=other)
    versions.append(_version(job))
    job.credential.label = "Renamed pod"
    versions.append(_version(job))
    copy = ArchivedFile.objects.create(
        job=job, position=0, kind="audio", url="https://cdn.example/a.mp3", host="cdn.example:443"
    )
    versions.append(_version(job))
    for field, value in [
        ("state", ArchivedFile.State.DONE), ("size", 2048), ("path", "archive/a.mp3"), ("error", "slow"),
        ("content_type", "audio/mpeg"), ("position", 1), ("role", ArchivedFile.Role.INPUT), ("kind", "video"),
        ("code", uuid.uuid4()),
    ]:  # fmt: skip
        ArchivedFile.objects.filter(pk=copy.pk).update(**{field: value})
        versions.append(_version(job))
    ArchivedFile.objects.create(job=job, position=1, kind="audio", url="https://cdn.example/b.mp3", host="x")
    versions.append(_version(job))
    assert len(set(versions)) == len(versions)


def test_the_version_follows_the_days_left_at_the_provider(shared, monkeypatch):
    """A finished Suno job's files are "expiring in 14 days", then 13: time alone changes its row."""
    job = shared["job"]
    Job.objects.filter(pk=job.pk).update(provider="apikley", status=Job.Status.SUCCEEDED, completed=timezone.now())
    job.refresh_from_db()
    today = _version(job)
    later = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert _version(job) != today


@pytest.mark.parametrize("layout", ["cards", "table"])
def test_a_row_reads_no_column_outside_the_digest(client, alice, shared, layout):
    """Rendered from a job read with SHOWN_COLUMNS alone (and its archived files), a row makes
    no query: a column it read besides would be loaded on access, and be missing from the
    digest that keys its cache."""
    from preferences.history import COLUMNS
    from preferences.models import HistoryPreferences

    Job.objects.filter(pk=shared["job"].pk).update(**{k: v for k, v in CHANGES.items() if k not in ("code", "kind")})
    HistoryPreferences.objects.create(user=alice, layout=layout, columns=list(COLUMNS))
    client.force_login(alice)
    request = client.get("/history/").wsgi_request
    job = Job.objects.only("id", *row_cache.SHOWN_COLUMNS).get(pk=shared["job"].pk)
    job.credential = shared["key"]
    row_cache.attach_archive([job])
    viewer = row_cache.Viewer(request)
    viewer.prefetch([job])
    with CaptureQueriesContext(connection) as queries:
        html = row_cache.render_row(viewer, job, "v")
    assert "Renamed" in html and queries.captured_queries == []
