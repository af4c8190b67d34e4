"""Archived files served to whoever sees the job (Range, names), the streamed zip, the key's
switch, and the pages and exports that use the archived copy and show each file's state."""

import hashlib
import io
import json
import tracemalloc
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from archive.models import ArchivedFile
from archive.storage import archive_storage
from history.models import Job
from teams.models import Member, Share, Team
from tests.factories import make_credential
from tests.media_host import make_job

pytestmark = pytest.mark.django_db

BODY = bytes(range(256)) * 40  # 10,240 bytes


def archived(job, body: bytes = BODY, *, position: int = 0, kind: str = "audio", content_type="audio/mpeg"):
    """Store `body` as the job's archived output `position`, as the archiver would."""
    code = uuid.uuid4()
    path = archive_storage().save(f"archive/{code.hex[:2]}/{code.hex}.mp3", ContentFile(body))
    return ArchivedFile.objects.create(
        code=code,
        job=job,
        position=position,
        kind=kind,
        url=job.outputs[position]["url"] if position < len(job.outputs) else "https://cdn.example/x",
        host="cdn.example:443",
        state=ArchivedFile.State.DONE,
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        content_type=content_type,
        path=path,
        next_try=None,
    )


@pytest.fixture
def key(alice):
    return make_credential(alice, "apikley", label="Suno")


@pytest.fixture
def song(key):
    return make_job(key, [{"kind": "audio", "url": "https://cdn.example/song.mp3"}], title="Café del Mar")


@pytest.fixture
def team(alice, bob):
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=alice, role="owner")
    Member.objects.create(team=team, user=bob, role="viewer")
    return team


def get(client, user, url, **headers):
    client.force_login(user)
    return client.get(url, headers=headers)


# --- /files/<id>/ -------------------------------------------------------------------------


def test_owner_and_team_see_the_file_outsiders_get_404_anonymous_log_in(client, alice, bob, carol, key, song, team):
    file = archived(song)
    url = f"/files/{file.code}/"
    assert client.get(url).status_code == 302  # anonymous: to the log-in page
    response = get(client, alice, url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == BODY
    assert get(client, bob, url).status_code == 404  # not shared yet
    Share.objects.create(team=team, credential=key, shared_by=alice)
    assert get(client, bob, url).status_code == 200
    assert get(client, carol, url).status_code == 404


def test_a_file_not_archived_yet_is_404(client, alice, song):
    file = archived(song)
    ArchivedFile.objects.filter(pk=file.pk).update(state=ArchivedFile.State.PENDING)
    assert get(client, alice, f"/files/{file.code}/").status_code == 404
    assert get(client, alice, f"/files/{uuid.uuid4()}/").status_code == 404


def test_headers_type_length_name_and_no_script(client, alice, song):
    file = archived(song)
    response = get(client, alice, f"/files/{file.code}/")
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Length"] == str(len(BODY))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{file.sha256}"'
    assert response["Content-Disposition"] == "inline; filename*=utf-8''Caf%C3%A9%20del%20Mar.mp3"
    assert "sandbox" in response["Content-Security-Policy"]
    download = get(client, alice, f"/files/{file.code}/?download=1")
    assert download["Content-Disposition"].startswith("attachment; filename*=utf-8''Caf%C3%A9")


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-9", 0, 9), ("bytes=100-", 100, 10239), ("bytes=-16", 10224, 10239), ("bytes=10000-99999", 10000, 10239)],
)
def test_range_requests(client, alice, song, header, start, end):
    file = archived(song)
    response = get(client, alice, f"/files/{file.code}/", Range=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(BODY)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert b"".join(response.streaming_content) == BODY[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=50000-60000", "bytes=-0", "bytes=9-3"])
def test_unsatisfiable_ranges_are_416(client, alice, song, header):
    file = archived(song)
    response = get(client, alice, f"/files/{file.code}/", Range=header)
    assert response.status_code == 416 and response["Content-Range"] == f"bytes */{len(BODY)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "items=0-5", "bytes=abc"])
def test_ranges_we_do_not_serve_in_part_get_the_whole_file(client, alice, song, header):
    file = archived(song)
    response = get(client, alice, f"/files/{file.code}/", Range=header)
    assert response.status_code == 200 and b"".join(response.streaming_content) == BODY


def test_if_range_with_another_version_gets_the_whole_file(client, alice, song):
    file = archived(song)
    stale = get(client, alice, f"/files/{file.code}/", Range="bytes=0-9", **{"If-Range": '"old"'})
    assert stale.status_code == 200
    fresh = get(client, alice, f"/files/{file.code}/", Range="bytes=0-9", **{"If-Range": f'"{file.sha256}"'})
    assert fresh.status_code == 206
    assert get(client, alice, f"/files/{file.code}/", **{"If-None-Match": f'"{file.sha256}"'}).status_code == 304


# --- the zip ------------------------------------------------------------------------------


def read_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    assert len(data) == int(response["Content-Length"])
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None  # every CRC checks out
    return archive


def test_zip_of_selected_jobs_named_by_title(client, alice, carol, key):
    one = make_job(key, [{"kind": "audio", "url": "https://cdn.example/1.mp3"}], title="Blue / Night")
    two = make_job(
        key,
        [
            {"kind": "audio", "url": "https://cdn.example/2a.mp3", "title": "Take A"},
            {"kind": "audio", "url": "https://cdn.example/2b.mp3", "title": "Take B"},
            {"kind": "image", "url": "https://cdn.example/2.png"},
        ],
        title="Blue / Night",
    )
    same = make_job(key, [{"kind": "audio", "url": "https://cdn.example/3.mp3"}], title="Blue / Night")
    archived(one, b"one")
    archived(two, b"2a", position=0)
    archived(two, b"2b", position=1)
    archived(two, b"cover", position=2, kind="image", content_type="image/png")
    archived(same, b"same")
    other = make_job(make_credential(carol, "apimall"), [{"kind": "audio", "url": "https://x.example/c.mp3"}])
    archived(other, b"carol's")
    client.force_login(alice)
    codes = [one.code, two.code, same.code, other.code]
    names = read_zip(client.get("/files/zip/", {"job": codes})).namelist()
    assert sorted(names) == sorted(
        [
            "Blue Night.mp3",
            "Blue Night (2).mp3",
            "Blue Night - Take A.mp3",
            "Blue Night - Take B.mp3",
            "Blue Night - cover 3.mp3",
        ]
    )


def test_zip_of_the_current_filters_with_a_limit_and_a_note(settings, client, alice, key):
    settings.ARCHIVE_ZIP_MAX_JOBS = 2
    now = timezone.now()
    for n in range(3):
        job = make_job(key, [{"kind": "audio", "url": f"https://cdn.example/{n}.mp3"}], title=f"Song {n}")
        Job.objects.filter(pk=job.pk).update(created=now - timedelta(minutes=n))
        archived(job, f"song {n}".encode())
    make_job(key, [{"kind": "audio", "url": "https://cdn.example/f.mp3"}], title="Failed", status="failed")
    client.force_login(alice)
    archive = read_zip(client.get("/files/zip/", {"q": "song"}))
    assert sorted(archive.namelist()) == ["Song 0.mp3", "Song 1.mp3", "about this download.txt"]
    assert archive.read("Song 1.mp3") == b"song 1"
    assert b"newest 2" in archive.read("about this download.txt")


def test_zip_rejects_bad_input_clearly(client, alice, key):
    client.force_login(alice)
    response = client.get("/files/zip/", {"job": "not-a-uuid"})
    assert response.status_code == 400 and b"Bad job id" in response.content
    response = client.get("/files/zip/", {"status": "sideways"})
    assert response.status_code == 400 and b"Bad filter" in response.content


def test_a_zip_of_1000_files_is_streamed_in_constant_memory(client, alice, key):
    body = bytes(range(256)) * 128  # 32 KB each: 32 MB in all
    jobs = Job.objects.bulk_create(
        Job(
            credential=key,
            provider=key.provider,
            kind="music",
            external_id=f"z-{n}",
            title=f"Track {n % 10}",
            status="succeeded",
            created=timezone.now(),
            outputs=[{"kind": "audio", "url": f"https://cdn.example/{n}.mp3", "position": 0}],
        )
        for n in range(1000)
    )
    storage = archive_storage()
    files = []
    for job in jobs:
        code = uuid.uuid4()
        path = storage.save(f"archive/{code.hex[:2]}/{code.hex}.mp3", ContentFile(body))
        files.append(
            ArchivedFile(
                code=code, job=job, position=0, kind="audio", url="https://cdn.example/x", host="cdn.example:443",
                state="done", size=len(body), sha256="", content_type="audio/mpeg", path=path, next_try=None,
            )
        )  # fmt: skip
    ArchivedFile.objects.bulk_create(files)
    client.force_login(alice)
    tracemalloc.start()
    try:
        response = client.get("/files/zip/")
        total = 0
        for chunk in response.streaming_content:
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    assert total == int(response["Content-Length"]) > 1000 * len(body)
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming a {total / 1e6:.0f} MB zip"


# --- pages and exports --------------------------------------------------------------------


def test_players_and_downloads_use_the_archived_copy(client, alice, song):
    file = archived(song)
    client.force_login(alice)
    for page in (client.get("/history/").text, client.get(f"/history/{song.code}/").text):
        assert f'src="/files/{file.code}/"' in page
        assert "https://cdn.example/song.mp3" not in page
        assert "Archived · 10.0\xa0KB" in page
    detail = client.get(f"/history/{song.code}/").text
    assert f'href="/files/{file.code}/?download=1"' in detail
    assert f"/files/zip/?job={song.code}" in detail


def test_each_state_is_shown(client, alice, key):
    fresh = make_job(key, [{"kind": "audio", "url": "https://cdn.example/a.mp3"}], title="Fresh")
    old = make_job(key, [{"kind": "audio", "url": "https://cdn.example/b.mp3"}], title="Old")
    Job.objects.filter(pk=old.pk).update(completed=timezone.now() - timedelta(days=20))
    Job.objects.filter(pk=fresh.pk).update(completed=timezone.now() - timedelta(days=4, hours=1))
    failed = make_job(key, [{"kind": "audio", "url": "https://cdn.example/c.mp3"}], title="Broken")
    ArchivedFile.objects.create(
        job=failed, position=0, kind="audio", url="https://cdn.example/c.mp3", host="cdn.example:443",
        state="failed", error="Not audio: the host sent text/html.", next_try=None,
    )  # fmt: skip
    client.force_login(alice)
    assert "Expiring in 10 days" in client.get(f"/history/{fresh.code}/").text
    assert "Expired at the provider" in client.get(f"/history/{old.code}/").text
    assert "Archive failed: Not audio: the host sent text/html." in client.get(f"/history/{failed.code}/").text
    listing = client.get("/history/").text
    assert "Expiring in 10 days" in listing and "Archive failed" in listing


def test_exports_give_the_archived_url(client, alice, song):
    file = archived(song)
    client.force_login(alice)
    rows = json.loads(b"".join(client.get("/history/export.json").streaming_content))
    assert rows[0]["outputs"][0]["url"] == f"http://testserver/files/{file.code}/"


# --- the key's switch ---------------------------------------------------------------------


def test_the_owner_turns_archiving_off_and_on(client, alice, carol, key, monkeypatch):
    from archive import views

    queued = []
    monkeypatch.setattr(views, "async_task", lambda *args, **kwargs: queued.append(args))
    client.force_login(carol)
    assert client.post(f"/keys/{key.code}/archive/", {"archive": "off"}).status_code == 404
    client.force_login(alice)
    page = client.get(f"/keys/{key.code}/").text
    assert "Turn archiving off" in page
    assert client.post(f"/keys/{key.code}/archive/", {"archive": "off"}).status_code == 302
    key.refresh_from_db()
    assert not key.archive and queued == []
    assert "Turn archiving on" in client.get(f"/keys/{key.code}/").text
    client.post(f"/keys/{key.code}/archive/", {"archive": "on"})
    key.refresh_from_db()
    assert key.archive and queued == [("archive.archiver.plan_credential", key.pk)]


def test_the_key_page_shows_usage_and_archive_full(settings, client, alice, key, song):
    settings.ARCHIVE_USER_QUOTA = 20_000
    archived(song)
    waiting = make_job(key, [{"kind": "audio", "url": "https://cdn.example/w.mp3"}])
    ArchivedFile.objects.create(
        job=waiting, position=0, kind="audio", url="https://cdn.example/w.mp3", host="cdn.example:443",
        state="full", error="Archive full", next_try=timezone.now(),
    )  # fmt: skip
    page = get(client, alice, f"/keys/{key.code}/").text
    assert "1 file (10.0\xa0KB)" in page
    assert "10.0\xa0KB of 19.5\xa0KB used" in page
    assert "Archive full: 1 file waits for room" in page
