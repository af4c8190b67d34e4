"""Large exports in a worker, written to storage (history/export_jobs.py); one export at a
time per person, streamed or not."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string

from history import export_jobs
from history.models import Export, Job
from tests.factories import make_credential
from tests.queue import queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limit(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(export_jobs, "STREAM_LIMIT", 3)


@pytest.fixture
def key(alice):
    return make_credential(alice, provider="apimall", label="Mall")


def add_jobs(key, n, status="succeeded"):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(n):
        Job.objects.create(
            credential=key,
            provider="apimall",
            kind="audio",
            status=status,
            external_id=f"{status}-{i}",
            title=f"Song {i}",
            created=start + timedelta(minutes=i),
        )


def run_queued() -> None:
    for task in queued_tasks():
        import_string(task["func"])(*task["args"], **task["kwargs"])


def streamed(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    return b"".join(response.streaming_content)


def test_a_small_export_still_streams(alice_client, key):
    add_jobs(key, 3)
    assert len(json.loads(streamed(alice_client, "/history/export.json"))) == 3
    assert not Export.objects.exists()


def test_a_large_export_runs_in_a_worker_and_is_offered_when_ready(alice_client, alice, key, monkeypatch):
    add_jobs(key, 5)
    add_jobs(key, 2, status="failed")
    response = alice_client.get("/history/export.json?status=succeeded")
    job = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/history/exports/{job.code}/"
    assert job.owner == alice and job.state == "queued" and job.query == "status=succeeded"
    (task,) = queued_tasks()
    assert task["func"] == "history.export_jobs.run" and task["args"] == (job.pk,)  # an id, nothing else
    page = alice_client.get(job.get_absolute_url()).content.decode()
    assert "Waiting for a worker" in page and 'hx-trigger="every 2s"' in page

    export_jobs.run(job.pk)
    job.refresh_from_db()
    assert (job.state, job.total, job.written) == ("done", 5, 5) and job.size > 0
    fragment = alice_client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "Ready: 5 jobs" in fragment and "<html" not in fragment and "hx-trigger" not in fragment
    download = alice_client.get(f"/history/exports/{job.code}/download/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert "no-store" in download["Cache-Control"]
    rows = json.loads(b"".join(download.streaming_content))
    assert [row["status"] for row in rows] == ["succeeded"] * 5
    # The same rows as a stream of the same filters gives.
    monkeypatch.setattr(export_jobs, "STREAM_LIMIT", 100)
    assert rows == json.loads(streamed(alice_client, "/history/export.json?status=succeeded"))


def test_a_large_csv_export_matches_the_streamed_one(alice_client, key, monkeypatch):
    add_jobs(key, 4)
    alice_client.get("/history/export.csv")
    run_queued()
    job = Export.objects.get()
    written = b"".join(alice_client.get(f"/history/exports/{job.code}/download/").streaming_content)
    monkeypatch.setattr(export_jobs, "STREAM_LIMIT", 100)
    assert written == streamed(alice_client, "/history/export.csv")
    assert len(list(csv.DictReader(io.StringIO(written.decode("utf-8-sig"))))) == 4


def test_progress_is_shown_while_it_runs(alice_client, key):
    add_jobs(key, 5)
    alice_client.get("/history/export.json")
    Export.objects.update(state="running", total=5000, written=1000)
    page = alice_client.get(Export.objects.get().get_absolute_url()).content.decode()
    assert "1,000 of 5,000 jobs written (20 %)" in page and 'value="1000"' in page


def test_the_export_page_says_when_it_was_asked_for_in_the_persons_time_zone(alice_client, key):
    add_jobs(key, 5)
    alice_client.get("/history/export.json")
    Export.objects.update(created=datetime(2026, 7, 1, 22, 15, 30, tzinfo=UTC))
    alice_client.cookies["tz"] = "America/New_York"
    page = alice_client.get(Export.objects.get().get_absolute_url()).content.decode()
    assert '<time datetime="2026-07-01T18:15:30-04:00"' in page
    assert 'Jul 1, 2026, 18:15:30 <span class="muted">EDT</span></time>' in page


def test_only_its_owner_sees_or_downloads_an_export(alice_client, key, bob):
    add_jobs(key, 5)
    alice_client.get("/history/export.json")
    run_queued()
    job = Export.objects.get()
    client = Client()
    client.force_login(bob)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.get(f"/history/exports/{job.code}/download/").status_code == 404
    client.logout()
    assert client.get(f"/history/exports/{job.code}/download/").status_code == 302  # to log in


def test_one_export_at_a_time_while_a_background_one_runs(alice_client, key):
    add_jobs(key, 5)
    alice_client.get("/history/export.json")
    for url in ("/history/export.json", "/history/export.csv?status=failed"):  # large, then small
        response = alice_client.get(url)
        assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert Export.objects.count() == 1
    run_queued()
    assert alice_client.get("/history/export.csv?status=failed").status_code == 200


def test_an_export_whose_worker_went_away_does_not_block_forever(alice_client, key):
    add_jobs(key, 5)
    alice_client.get("/history/export.json")
    Export.objects.update(state="running", touched=timezone.now() - export_jobs.STALLED_AFTER - timedelta(seconds=1))
    page = alice_client.get(Export.objects.get().get_absolute_url()).content.decode()
    assert "stopped without finishing" in page
    assert alice_client.get("/history/export.json").status_code == 302  # a new one


def test_one_export_at_a_time_while_a_stream_runs(alice_client, key, bob):
    add_jobs(key, 2)
    first = alice_client.get("/history/export.json")
    assert first.status_code == 200
    second = alice_client.get("/history/export.csv")
    assert second.status_code == 429 and second["Retry-After"] == str(export_jobs.RETRY_STREAM)
    other = Client()
    other.force_login(bob)  # someone else is not held up
    assert other.get("/history/export.json").status_code == 200
    b"".join(first.streaming_content)  # the first stream ends: its slot is free
    assert alice_client.get("/history/export.csv").status_code == 200


def test_a_stream_the_client_abandons_frees_the_slot(alice):
    holder = export_jobs.take_slot(alice.pk)
    with pytest.raises(export_jobs.Busy):
        export_jobs.take_slot(alice.pk)
    stream = export_jobs.held_stream(iter(["[", "{}", "]"]), alice.pk, holder)
    assert next(stream) == "["
    stream.close()  # what the server's response.close() does when the client goes away
    export_jobs.free_slot(alice.pk, export_jobs.take_slot(alice.pk))  # free again


def test_only_the_latest_exports_are_kept(alice_client, alice, key, settings):
    add_jobs(key, 5)
    for _ in range(Export.KEEP_PER_OWNER + 2):
        alice_client.get("/history/export.json")
        run_queued()
    assert Export.objects.filter(owner=alice).count() == Export.KEEP_PER_OWNER
    files = list((settings.MEDIA_ROOT / "exports").iterdir())
    assert len(files) == Export.KEEP_PER_OWNER


def test_an_export_rests_as_long_as_it_works_at_half_pace(monkeypatch):
    rests = []
    clock = iter([100.0, 100.4, 101.0, 101.2, 102.0, 103.0])  # start, worked 0.4 s, rested; worked 0.2 s
    fake_time = SimpleNamespace(monotonic=lambda: next(clock), sleep=rests.append)
    monkeypatch.setattr(export_jobs, "time", fake_time)
    pacer = export_jobs.Pacer(0.5)
    pacer.rest()
    pacer.rest()
    assert rests == [pytest.approx(0.4), pytest.approx(0.2)]
    assert export_jobs.Pacer(1).factor == 0  # flat out
