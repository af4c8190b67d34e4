"""What the exports carry: a BOM for spreadsheets, the error, and the status as stored."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from history.models import Job
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(alice):
    key = make_credential(alice, provider="munsit", label="Ауди 声音")
    values = {"credential": key, "provider": "munsit", "kind": "denoise", "created": datetime(2026, 3, 1, tzinfo=UTC)}
    Job.objects.create(external_id="d1", status="failed", error="File too large", title="Песня.wav", **values)
    # Munsit sets `error` on jobs that did not fail: noise, left out.
    Job.objects.create(external_id="d2", status="succeeded", error="warning: resampled", title="ok.wav", **values)
    Job.objects.create(external_id="d3", status="canceled", error="Canceled by the user", title="x.wav", **values)


def test_csv_starts_with_a_bom_and_reads_back_in_utf8(alice_client, jobs):
    body = b"".join(alice_client.get("/history/export.csv").streaming_content)
    assert body.startswith(b"\xef\xbb\xbfid,provider,kind,external_id,status,provider_status,error,model,")
    rows = {row["external_id"]: row for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}
    assert rows["d1"]["title"] == "Песня.wav" and rows["d1"]["credential"] == "Ауди 声音"
    assert rows["d1"]["error"] == "File too large" and rows["d2"]["error"] == ""
    assert rows["d3"]["status"] == "canceled" and rows["d3"]["error"] == "Canceled by the user"


def test_json_carries_the_error_and_the_status_as_stored(alice_client, jobs):
    body = b"".join(alice_client.get("/history/export.json").streaming_content)
    assert not body.startswith(b"\xef\xbb\xbf")  # JSON has no BOM
    rows = {row["external_id"]: row for row in json.loads(body)}
    assert list(rows["d1"])[:7] == ["id", "provider", "kind", "external_id", "status", "provider_status", "error"]
    assert rows["d1"]["error"] == "File too large" and rows["d2"]["error"] == ""
    assert rows["d3"]["status"] == "canceled"
