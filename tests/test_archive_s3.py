"""The media archive in an S3-compatible bucket (django-storages), against moto's in-process S3:
no server, no network. Archiving into the bucket, signed-URL downloads, removal, the zip and
background exports."""

import hashlib
import io
import json
import runpy
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.response import StreamingBody
from django.test import Client
from moto import mock_aws

import config
from archive import archiver
from archive.models import ArchivedFile
from archive.storage import archive_storage, is_remote
from history import export_jobs
from history.models import Export, Job
from tests.factories import make_credential
from tests.media_host import WAV, make_job

pytestmark = pytest.mark.django_db

BUCKET = "genboard-archive-test"


@pytest.fixture
def bucket(settings, monkeypatch):
    """The archive storage as config/settings.py makes it when AWS_STORAGE_BUCKET_NAME is set
    (the module is run again with that environment), in moto's bucket; yields an S3 client."""
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", BUCKET)
    monkeypatch.setenv("AWS_S3_REGION_NAME", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    made = runpy.run_path(str(Path(config.__file__).with_name("settings.py")))
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for name, value in made.items():
            if name.startswith("AWS_"):
                setattr(settings, name, value)
        # Set last: changing STORAGES empties Django's cache of storage objects (its
        # setting_changed handler), so the next storages["archive"] is a fresh S3Storage.
        settings.STORAGES = {**settings.STORAGES, "archive": made["_ARCHIVE_STORAGE"]}
        # Export.file resolved its storage callable once, when the model class was made (the
        # local storage then): point it at the bucket as a process started with the setting has.
        monkeypatch.setattr(Export._meta.get_field("file"), "storage", archive_storage())
        yield s3


@pytest.fixture
def key(alice):
    return make_credential(alice, "apikley", label="Suno")


def stored(s3, name: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=name)["Body"].read()


def keys(s3) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def archive(job, url: str) -> ArchivedFile:
    archiver.plan([job])
    archiver.run_slot(archiver.fetch.host_key(url))
    return ArchivedFile.objects.get(job=job, role="output", position=0)


def test_the_archive_storage_is_the_bucket(bucket, settings, tmp_path):
    assert is_remote() and archive_storage().bucket_name == BUCKET
    assert not (settings.MEDIA_ROOT / "archive").exists()


def test_a_finished_jobs_file_lands_in_the_bucket_with_its_checksum(bucket, key, media_host):
    body = WAV + bytes(range(256)) * 100
    url = media_host.serve("/song.wav", body)
    archived = archive(make_job(key, [{"kind": "audio", "url": url}]), url)
    assert archived.state == "done" and archived.error == ""
    assert archived.size == len(body) and archived.sha256 == hashlib.sha256(body).hexdigest()
    assert keys(bucket) == [archived.path] and archived.path.endswith(".wav")
    assert stored(bucket, archived.path) == body
    head = bucket.head_object(Bucket=BUCKET, Key=archived.path)
    assert head["ContentLength"] == len(body) and head["ContentType"] == "audio/x-wav"


def test_an_oversized_file_without_a_length_leaves_nothing_in_the_bucket(bucket, settings, key, media_host):
    settings.ARCHIVE_MAX_FILE_SIZE = 10_000
    url = media_host.serve("/big.wav", WAV + bytes(50_000), length=False)
    archived = archive(make_job(key, [{"kind": "audio", "url": url}]), url)
    assert archived.state == "failed" and "Too big" in archived.error and archived.path == ""
    assert keys(bucket) == []


def test_a_file_is_handed_out_by_a_short_lived_signed_url_to_those_who_see_the_job(
    bucket, client, alice, carol, key, media_host
):
    url = media_host.serve("/song.wav", WAV)
    job = make_job(key, [{"kind": "audio", "url": url}], title="Café del Mar")
    archived = archive(job, url)
    client.force_login(alice)
    response = client.get(f"/files/{archived.code}/?download=1")
    assert response.status_code == 302
    signed = urlsplit(response["Location"])
    query = parse_qs(signed.query)
    assert signed.path.endswith(archived.path) and BUCKET in f"{signed.netloc}{signed.path}"
    assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
    assert query["response-content-type"] == ["audio/wav"]
    assert query["response-content-disposition"][0].startswith("attachment;")
    # The signed URL works (moto answers it in process) and names the file by its title.
    fetched = requests.get(response["Location"], timeout=5)
    assert fetched.status_code == 200 and fetched.content == WAV
    assert "Caf" in fetched.headers["Content-Disposition"]
    client.force_login(carol)
    assert client.get(f"/files/{archived.code}/").status_code == 404
    client.logout()
    assert client.get(f"/files/{archived.code}/").status_code == 302  # to the login page
    assert BUCKET not in client.get(f"/files/{archived.code}/")["Location"]


def test_removing_the_job_removes_the_object(
    bucket, client, alice, key, media_host, django_capture_on_commit_callbacks
):
    url = media_host.serve("/song.wav", WAV)
    kept = archive(make_job(key, [{"kind": "audio", "url": url}]), url)
    job = make_job(key, [{"kind": "audio", "url": url}])
    gone = archive(job, url)
    assert keys(bucket) == sorted([kept.path, gone.path])
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/history/{job.code}/remove/").status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()
    assert keys(bucket) == [kept.path]


def test_the_zip_streams_files_read_from_the_bucket(bucket, client, alice, key, media_host):
    one = WAV + b"one" * 1000
    two = WAV + b"two" * 1000
    urls = [media_host.serve("/1.wav", one), media_host.serve("/2.wav", two)]
    jobs = [make_job(key, [{"kind": "audio", "url": u}], title=t) for u, t in zip(urls, ["One", "Two"], strict=True)]
    for job, url in zip(jobs, urls, strict=True):
        archive(job, url)
    client.force_login(alice)
    response = client.get("/files/zip/", {"job": [j.code for j in jobs]})
    assert response.status_code == 200 and response.streaming
    data = b"".join(response.streaming_content)
    assert len(data) == int(response["Content-Length"])
    files = zipfile.ZipFile(io.BytesIO(data))
    assert files.testzip() is None
    assert {n: files.read(n) for n in files.namelist()} == {"One.wav": one, "Two.wav": two}


def test_the_zip_reads_the_bucket_as_it_streams_not_each_file_whole_first(
    bucket, client, alice, key, media_host, monkeypatch
):
    """A file of hundreds of MB must not be held by a web worker before its first byte goes
    out: the zip reads each object from the bucket as it writes it."""
    body = WAV + bytes(2_000_000)
    url = media_host.serve("/long.wav", body)
    job = make_job(key, [{"kind": "audio", "url": url}], title="Long")
    archive(job, url)
    fetched = []
    real_read = StreamingBody.read

    def counting_read(self, amt=None):
        data = real_read(self, amt)
        fetched.append(len(data))
        return data

    monkeypatch.setattr(StreamingBody, "read", counting_read)
    client.force_login(alice)
    stream = iter(client.get("/files/zip/", {"job": [job.code]}).streaming_content)
    got = b""
    while len(got) < 100_000:
        got += next(stream)
    assert 0 < sum(fetched) < len(body) // 2
    got += b"".join(stream)
    assert zipfile.ZipFile(io.BytesIO(got)).read("Long.wav") == body


def test_a_background_export_is_written_to_and_downloaded_from_the_bucket(bucket, alice_client, bob, key, monkeypatch):
    monkeypatch.setattr(export_jobs, "STREAM_LIMIT", 2)
    for n in range(4):
        make_job(key, [], title=f"Song {n}", external_id=f"song-{n}")
    assert alice_client.get("/history/export.json").status_code == 302
    export = Export.objects.get()
    assert export_jobs.run(export.pk) == "done"
    export.refresh_from_db()
    assert export.state == "done" and export.file.name.startswith("exports/")
    assert keys(bucket) == [export.file.name]
    written = stored(bucket, export.file.name)
    assert len(written) == export.size and len(json.loads(written)) == 4
    download = alice_client.get(f"/history/exports/{export.code}/download/")
    assert download.status_code == 302 and "no-store" in download["Cache-Control"]
    query = parse_qs(urlsplit(download["Location"]).query)
    assert query["X-Amz-Expires"] == ["300"]
    fetched = requests.get(download["Location"], timeout=5)
    assert fetched.status_code == 200 and fetched.content == written
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    assert fetched.headers["Content-Type"] == "application/json"
    assert fetched.headers["Cache-Control"] == "no-store"
    assert Client().get(f"/history/exports/{export.code}/download/").status_code == 302  # to log in
    someone_else = Client()
    someone_else.force_login(bob)
    assert someone_else.get(f"/history/exports/{export.code}/download/").status_code == 404


def test_old_exports_are_pruned_from_the_bucket(bucket, alice_client, alice, key, monkeypatch):
    monkeypatch.setattr(export_jobs, "STREAM_LIMIT", 0)
    make_job(key, [], title="Song")
    for _ in range(Export.KEEP_PER_OWNER + 2):
        alice_client.get("/history/export.json")
        export_jobs.run(Export.objects.filter(state="queued").get().pk)
    names = sorted(Export.objects.filter(owner=alice).values_list("file", flat=True))
    assert len(names) == Export.KEEP_PER_OWNER and keys(bucket) == names
