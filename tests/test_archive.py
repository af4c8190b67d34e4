"""archive.archiver: planning, fetching into storage, caps, quota, retries, concurrency, removal,
the sync hook and the `archive` command."""

import hashlib
import io
import time
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from archive import archiver
from archive.models import ArchivedFile
from archive.storage import archive_storage
from history import sync
from history.models import Job
from history.sync import sync_credential
from providers.records import JobRecord, Output
from providers.simulator import media as sim_media
from tests.factories import make_credential
from tests.media_host import WAV, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(alice):
    return make_credential(alice, "apikley", label="Suno")


@pytest.fixture
def allow_simulator(settings, simulator):
    settings.ARCHIVE_ALLOWED_HOSTS = [f"127.0.0.1:{simulator.port}"]
    return simulator


def archive_all(host_url: str) -> None:
    archiver.run_slot(archiver.fetch.host_key(host_url))


def row(job, position=0) -> ArchivedFile:
    return ArchivedFile.objects.get(job=job, role="output", position=position)


def test_a_finished_jobs_outputs_and_inputs_are_planned_once(key):
    job = make_job(
        key,
        [{"kind": "audio", "url": "https://cdn.example/a.mp3"}, {"kind": "image", "url": "https://cdn.example/a.png"}],
        inputs=[{"kind": "audio", "url": "https://cdn.example/in.wav"}],
    )
    make_job(key, [{"kind": "audio", "url": "https://cdn.example/b.mp3"}], status=Job.Status.RUNNING)
    make_job(key, [{"kind": "audio", "url": ""}])
    assert archiver.plan(Job.objects.all()) == 3
    assert archiver.plan(Job.objects.all()) == 0
    planned = ArchivedFile.objects.order_by("role", "position")
    assert [(f.role, f.position, f.kind, f.host) for f in planned] == [
        ("input", 0, "audio", "cdn.example:443"),
        ("output", 0, "audio", "cdn.example:443"),
        ("output", 1, "image", "cdn.example:443"),
    ]
    assert all(f.job_id == job.pk and f.state == "pending" for f in planned)


def test_the_sync_plans_finished_jobs_unless_the_key_archives_nothing(alice, simulator):
    on = make_credential(alice, "audiopod", label="On", secret="sim-audiopod-on-n20")
    off = make_credential(alice, "audiopod", label="Off", secret="sim-audiopod-off-n20", archive=False)
    sync_credential(on.pk)
    sync_credential(off.pk)
    finished = Job.objects.filter(credential=on, status=Job.Status.SUCCEEDED).exclude(outputs=[])
    assert finished.exists()
    assert ArchivedFile.objects.filter(job__credential=on).values("job").distinct().count() == finished.count()
    assert not ArchivedFile.objects.filter(job__credential=off).exists()


# When the provider says the jobs were made: the same in every record of a job, as a
# provider's is (a changed date is rewritten to the job's stars and tags too).
MADE = timezone.now()


def finished(external_id: str, url: str = "https://cdn.example/a.mp3", status: str = "succeeded") -> JobRecord:
    return JobRecord(external_id, "music", status, status.upper(), MADE, outputs=[Output("audio", url)])


def test_a_page_with_nothing_finished_reads_nothing_back(key, django_assert_num_queries):
    # Tombstones, known jobs, the savepoint, the INSERT and its release: no archive query.
    with django_assert_num_queries(5) as queries:
        sync.store(key, [finished("a", status="running"), finished("b", status="failed")])
    assert not any("archive" in query["sql"] for query in queries.captured_queries)


def test_a_stored_job_is_planned_again_only_when_its_status_or_media_change(key, django_assert_num_queries):
    sync.store(key, [finished("a", "https://cdn.example/a.mp3?sig=1")])
    assert ArchivedFile.objects.get().url.endswith("sig=1")
    renamed = finished("a", "https://cdn.example/a.mp3?sig=1")
    renamed.title = "Renamed"
    # Tombstones, the job, the savepoint, its UPDATE and the release: it was planned already.
    with django_assert_num_queries(5):
        sync.store(key, [renamed])
    sync.store(key, [finished("a", "https://cdn.example/a.mp3?sig=2")])
    assert ArchivedFile.objects.get().url.endswith("sig=2")


def test_a_job_a_concurrent_import_inserted_is_not_planned_from_this_page(key, monkeypatch):
    # The other import (an Apikley id import, say) stored the job pending between this one's
    # look at known jobs and its INSERT, which skips the row; the next sync updates and plans it.
    new_row = sync.new_row

    def racing(credential, record, now, relaxed=False):
        if record.external_id == "taken":
            make_job(credential, [], external_id="taken", status=Job.Status.PENDING)
        return new_row(credential, record, now, relaxed)

    monkeypatch.setattr(sync, "new_row", racing)
    sync.store(key, [finished("taken"), finished("mine")])
    assert Job.objects.get(external_id="taken").status == Job.Status.PENDING
    assert list(ArchivedFile.objects.values_list("job__external_id", flat=True)) == ["mine"]
    monkeypatch.undo()
    sync.store(key, [finished("taken")])
    assert ArchivedFile.objects.filter(job__external_id="taken").count() == 1


def test_a_file_is_copied_into_storage_with_its_checksum(key, allow_simulator):
    url = sim_media.audio_url(allow_simulator.base_url, "track-1", "mp3")
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    archive_all(url)
    archived = row(job)
    served = requests.get(url, timeout=5).content
    assert archived.state == "done" and archived.error == ""
    assert archived.size == len(served)
    assert archived.sha256 == hashlib.sha256(served).hexdigest()
    assert archived.content_type == "audio/wav" and archived.path.endswith(".wav")
    with archive_storage().open(archived.path, "rb") as handle:
        assert handle.read() == served


def test_the_file_survives_the_provider_deleting_it(key, allow_simulator):
    url = sim_media.audio_url(allow_simulator.base_url, "track-2", "mp3")
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    archive_all(url)
    requests.delete(f"{allow_simulator.base_url}/_sim/media", timeout=5)
    assert requests.get(url, timeout=5).status_code == 404
    assert archive_storage().exists(row(job).path)


def test_a_file_already_gone_at_the_provider_is_marked_so(key, allow_simulator):
    url = sim_media.audio_url(allow_simulator.base_url, "track-3", "mp3")
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    requests.delete(f"{allow_simulator.base_url}/_sim/media", timeout=5)
    archive_all(url)
    archived = row(job)
    assert archived.state == "gone" and archived.next_try is None and "404" in archived.error


def test_an_oversized_file_is_refused_by_its_length(settings, key, allow_simulator):
    settings.ARCHIVE_MAX_FILE_SIZE = 10_000
    url = sim_media.audio_url(allow_simulator.base_url, "big", "mp3") + "?bytes=50000"
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    archive_all(url)
    archived = row(job)
    assert archived.state == "failed" and "Too big" in archived.error and archived.next_try is None
    assert archived.path == ""


def test_an_oversized_file_without_a_length_is_cut_off_and_removed(settings, key, media_host):
    settings.ARCHIVE_MAX_FILE_SIZE = 10_000
    url = media_host.serve("/big.wav", WAV + bytes(50_000), length=False)
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    archive_all(url)
    archived = row(job)
    assert archived.state == "failed" and "Too big" in archived.error
    assert not list((settings.MEDIA_ROOT / "archive").rglob("*.*"))


@pytest.mark.parametrize(
    ("kind", "content_type", "body"),
    [
        ("audio", "text/html", b"<html>login</html>"),
        ("image", "audio/mpeg", b"ID3..."),
        ("image", "image/svg+xml", b"<svg onload=alert(1)>"),
        ("audio", "application/octet-stream", b"<html>not audio</html>"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused(key, media_host, kind, content_type, body):
    url = media_host.serve("/thing", body, content_type)
    job = make_job(key, [{"kind": kind, "url": url}])
    archiver.plan([job])
    archive_all(url)
    archived = row(job)
    assert archived.state == "failed" and f"Not {kind}" in archived.error and archived.path == ""


def test_a_vague_type_is_judged_by_the_files_first_bytes(key, media_host):
    url = media_host.serve("/file", WAV, "application/octet-stream")
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    archive_all(url)
    assert row(job).state == "done" and row(job).content_type == "audio/wav"


def test_a_dripping_host_is_retried_later_with_backoff(settings, key, media_host):
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Type", "audio/wav")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        for _ in range(200):
            h.wfile.write(b"R")
            h.wfile.flush()
            time.sleep(0.02)

    media_host.routes["/drip.wav"] = drip
    settings.ARCHIVE_FETCH_DEADLINE = 0.4
    url = media_host.url("/drip.wav")
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    archive_all(url)
    archived = row(job)
    assert archived.state == "pending" and archived.attempts == 1 and "too slow" in archived.error
    assert archived.next_try > timezone.now() + timedelta(seconds=30)
    assert not list((settings.MEDIA_ROOT / "archive").rglob("*.*"))


def test_a_hanging_host_is_retried_and_finally_given_up(settings, key, media_host):
    media_host.routes["/hang.wav"] = lambda h: time.sleep(1)
    settings.ARCHIVE_READ_TIMEOUT = 0.2
    url = media_host.url("/hang.wav")
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    delays = []
    for attempt in range(1, archiver.MAX_ATTEMPTS + 1):
        ArchivedFile.objects.filter(job=job).update(next_try=timezone.now())
        before = timezone.now()
        archive_all(url)
        archived = row(job)
        assert archived.attempts == attempt
        if archived.next_try:
            delays.append((archived.next_try - before).total_seconds())
    assert archived.state == "failed" and archived.next_try is None
    assert delays == sorted(delays) and delays[-1] > delays[0] * 8


def test_quota_full_is_a_clear_state_and_is_tried_again_later(settings, key, media_host):
    settings.ARCHIVE_USER_QUOTA = 1000
    first = media_host.serve("/one.wav", WAV + bytes(500))
    second = media_host.serve("/two.wav", WAV + bytes(500))
    job = make_job(key, [{"kind": "audio", "url": first}, {"kind": "audio", "url": second}])
    archiver.plan([job])
    archive_all(first)
    assert row(job, 0).state == "done"
    full = row(job, 1)
    assert full.state == "full" and full.error.startswith("Archive full:")
    assert full.next_try > timezone.now() + timedelta(minutes=30)


def test_one_worker_per_file_and_a_lost_worker_is_taken_over(key):
    job = make_job(key, [{"kind": "audio", "url": "https://cdn.example/a.mp3"}])
    archiver.plan([job])
    first = archiver.claim_next("cdn.example:443")
    assert first is not None and archiver.claim_next("cdn.example:443") is None
    ArchivedFile.objects.filter(pk=first.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert archiver.claim_next("cdn.example:443").pk == first.pk


def test_dispatch_bounds_concurrency_per_host(settings, key, monkeypatch):
    settings.ARCHIVE_HOST_CONCURRENCY = 3
    queued = []
    monkeypatch.setattr(archiver, "async_task", lambda *args, **kwargs: queued.append(args))
    outputs = [{"kind": "audio", "url": f"https://a.example/{n}.mp3"} for n in range(10)]
    outputs += [{"kind": "audio", "url": f"https://b.example/{n}.mp3"} for n in range(10)]
    archiver.plan([make_job(key, outputs)])
    archiver.claim_next("a.example:443")
    archiver.claim_next("a.example:443")  # two busy at a.example
    assert archiver.dispatch() == 4
    assert sorted(args[1] for args in queued) == ["a.example:443", "b.example:443", "b.example:443", "b.example:443"]
    # Each queued slot holds its first file already: a second dispatch starts none.
    assert ArchivedFile.objects.filter(state="fetching").count() == 6
    assert archiver.dispatch() == 0


def test_a_slot_archives_its_first_file_then_the_hosts_others(key, media_host, monkeypatch):
    queued = []
    monkeypatch.setattr(archiver, "async_task", lambda *args, **kwargs: queued.append((args, kwargs)))
    urls = [media_host.serve(f"/{n}.wav", WAV) for n in range(3)]
    job = make_job(key, [{"kind": "audio", "url": url} for url in urls])
    archiver.plan([job])
    assert archiver.dispatch() == 3
    (_, host), kwargs = queued[0]
    assert archiver.run_slot(host, first=kwargs["first"]) == 1  # the others are held by their own slots
    ArchivedFile.objects.filter(state="fetching").update(state="pending", lease_until=None)
    assert archiver.run_slot(host) == 2
    assert ArchivedFile.objects.filter(job=job, state="done").count() == 3


def test_dispatch_skips_keys_that_stopped_archiving(key, monkeypatch):
    monkeypatch.setattr(archiver, "async_task", lambda *args, **kwargs: None)
    archiver.plan([make_job(key, [{"kind": "audio", "url": "https://cdn.example/a.mp3"}])])
    key.archive = False
    key.save()
    assert archiver.dispatch() == 0


def test_removing_a_job_or_a_key_removes_its_files(key, media_host, django_capture_on_commit_callbacks):
    url = media_host.serve("/a.wav", WAV)
    jobs = [make_job(key, [{"kind": "audio", "url": url}]) for _ in range(2)]
    archiver.plan(jobs)
    archive_all(url)
    paths = [row(job).path for job in jobs]
    assert all(archive_storage().exists(path) for path in paths)
    with django_capture_on_commit_callbacks(execute=True):
        jobs[0].delete()
    assert not archive_storage().exists(paths[0]) and archive_storage().exists(paths[1])
    with django_capture_on_commit_callbacks(execute=True):
        key.delete()
    assert not archive_storage().exists(paths[1])


def test_a_rolled_back_removal_keeps_the_files(key, media_host, django_capture_on_commit_callbacks):
    url = media_host.serve("/a.wav", WAV)
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    archive_all(url)
    path = row(job).path
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job.delete()
    assert len(callbacks) == 1 and archive_storage().exists(path)


@pytest.mark.django_db(transaction=True)
def test_the_archive_command_backfills_with_progress(settings, alice, allow_simulator):
    # One slot: SQLite's in-memory test database (shared cache) refuses concurrent writers
    # at once instead of waiting, as the WAL file of a real deployment does.
    settings.ARCHIVE_HOST_CONCURRENCY = 1
    on = make_credential(alice, "audiopod", label="On", secret="sim-audiopod-on-n12")
    off = make_credential(alice, "munsit", label="Off", secret="sim-munsit-off-n5", archive=False)
    sync_credential(on.pk)
    ArchivedFile.objects.all().delete()  # as if the jobs were imported before the archive existed
    make_job(off, [{"kind": "audio", "url": sim_media.audio_url(allow_simulator.base_url, "x")}])
    out = io.StringIO()
    call_command("archive", user="alice", stdout=out)
    text = out.getvalue()
    done = ArchivedFile.objects.filter(state="done")
    assert done.exists() and not ArchivedFile.objects.exclude(state="done").exists()
    assert not ArchivedFile.objects.filter(job__credential=off).exists()
    assert "Off" in text and "archiving is off" in text
    assert f"{done.count()}/{done.count()} files: {done.count()} archived" in text


def test_a_video_output_may_be_sound_only_but_not_an_image(key, media_host):
    sound = media_host.serve("/clip.wav", WAV, "audio/wav")
    picture = media_host.serve("/clip.png", b"\x89PNG\r\n\x1a\n", "image/png")
    job = make_job(key, [{"kind": "video", "url": sound}, {"kind": "video", "url": picture}])
    archiver.plan([job])
    archive_all(sound)
    assert row(job, 0).state == "done" and row(job, 1).state == "failed"


def test_a_re_signed_url_replaces_the_old_one_until_the_file_is_archived(key):
    job = make_job(key, [{"kind": "audio", "url": "https://cdn.example/a.mp3?sig=1"}])
    archiver.plan([job])
    job.outputs[0]["url"] = "https://cdn2.example/a.mp3?sig=2"
    assert archiver.plan([job]) == 0
    assert (row(job).url, row(job).host) == ("https://cdn2.example/a.mp3?sig=2", "cdn2.example:443")
    ArchivedFile.objects.filter(job=job).update(state="done")
    job.outputs[0]["url"] = "https://cdn.example/a.mp3?sig=3"
    archiver.plan([job])
    assert row(job).url.endswith("sig=2")


def test_remove_from_genboard_removes_the_jobs_files(
    client, alice, key, media_host, django_capture_on_commit_callbacks
):
    url = media_host.serve("/a.wav", WAV)
    job = make_job(key, [{"kind": "audio", "url": url}])
    archiver.plan([job])
    archive_all(url)
    path = row(job).path
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/history/{job.code}/remove/").status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not archive_storage().exists(path)
