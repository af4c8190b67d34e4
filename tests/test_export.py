import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from history.export import FIELDS
from history.models import Job
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


def make_job(credential, external_id, created, **fields):
    defaults = {"kind": "audio", "status": "succeeded", "title": external_id}
    return Job.objects.create(
        credential=credential,
        provider=credential.provider,
        external_id=external_id,
        created=created,
        **{**defaults, **fields},
    )


def get_json(client, query=""):
    response = client.get("/history/export.json" + query)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.streaming and "attachment" in response["Content-Disposition"]
    return json.loads(b"".join(response.streaming_content))


def get_csv(client, query=""):
    response = client.get("/history/export.csv" + query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def jobs(alice):
    key = make_credential(alice, provider="apimall", label="Mall")
    return [
        make_job(
            key,
            "aud_1",
            datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC),
            credits_used=Decimal("12.0000"),
            credits_refunded=Decimal("0.5"),
            completed=datetime(2026, 3, 2, 0, 1, tzinfo=UTC),
            prompt="=HYPERLINK(x)",
            outputs=[
                {"kind": "audio", "url": "https://cdn/a.mp3", "title": "A", "duration": 61.5, "position": 0},
                {"kind": "image", "url": "https://cdn/a.webp", "position": 1},
            ],
        ),
        make_job(key, "img_2", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), kind="image", status="failed"),
        make_job(key, "aud_3", datetime(2026, 3, 3, 12, 0, tzinfo=UTC), status="running", model="V5"),
    ]


def test_json_fields_and_types(alice_client, jobs):
    rows = get_json(alice_client)
    assert [row["external_id"] for row in rows] == ["aud_3", "img_2", "aud_1"]  # newest first
    first = rows[-1]
    assert list(first) == FIELDS
    assert first["id"] == str(jobs[0].code) and first["credential"] == "Mall" and first["owner"] == "alice"
    assert first["credits_used"] == 12 and isinstance(first["credits_used"], int)
    assert first["credits_refunded"] == 0.5 and rows[0]["credits_used"] is None
    assert first["created_at"] == "2026-03-01T23:59:59+00:00" and first["completed_at"] == "2026-03-02T00:01:00+00:00"
    assert first["outputs"] == [
        {"kind": "audio", "url": "https://cdn/a.mp3", "title": "A", "duration": 61.5},
        {"kind": "image", "url": "https://cdn/a.webp", "title": "", "duration": None},
    ]


def test_csv_has_the_same_rows_and_defuses_formulas(alice_client, jobs):
    rows = get_csv(alice_client)
    assert list(rows[0]) == FIELDS and len(rows) == 3
    oldest = rows[-1]
    assert oldest["prompt"] == "'=HYPERLINK(x)"  # a spreadsheet shows it, does not run it
    assert json.loads(oldest["outputs"])[0]["url"] == "https://cdn/a.mp3"
    assert oldest["credits_used"] == "12"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=failed", ["img_2"]),
        ("?kind=audio", ["aud_3", "aud_1"]),
        ("?provider=audiopod", []),
        ("?q=AUD_", ["aud_3", "aud_1"]),
        ("?created_after=2026-03-02", ["aud_3", "img_2"]),
        ("?created_before=2026-03-01", ["aud_1"]),  # whole UTC days, both ends inclusive
        ("?created_after=2026-03-02&created_before=2026-03-02", ["img_2"]),
        ("?kind=audio&status=running&q=aud", ["aud_3"]),
    ],
)
def test_filters(alice_client, jobs, query, expected):
    assert [row["external_id"] for row in get_json(alice_client, query)] == expected
    assert [row["external_id"] for row in get_csv(alice_client, query)] == expected


@pytest.mark.parametrize(
    "query", ["?status=done", "?created_after=yesterday", "?provider=openai", "?credential=not-a-uuid", "?team=nope"]
)
def test_bad_filters_are_a_400_with_the_reason(alice_client, jobs, query):
    for url in ("/history/export.json", "/history/export.csv"):
        response = alice_client.get(url + query)
        assert response.status_code == 400 and "Bad filter" in response.text


def test_only_visible_jobs_are_exported(client, bob, jobs):
    mine = make_credential(bob, provider="munsit", label="Bob's")
    make_job(mine, "bob_1", datetime(2026, 1, 1, tzinfo=UTC), kind="denoise")
    client.force_login(bob)
    assert [row["external_id"] for row in get_json(client)] == ["bob_1"]


def test_someone_elses_key_is_not_a_valid_filter(client, bob, jobs):
    client.force_login(bob)
    response = client.get(f"/history/export.json?credential={jobs[0].credential.code}")
    assert response.status_code == 400


def test_export_streams_in_constant_queries(alice_client, alice, django_assert_max_num_queries):
    key = make_credential(alice, provider="munsit")
    Job.objects.bulk_create(
        Job(
            credential=key,
            provider="munsit",
            kind="denoise",
            external_id=f"d{i}",
            status="succeeded",
            created=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for i in range(4500)
    )
    # 12 for the stream itself, and a fixed few for the one-export-at-a-time rule (the
    # person's slot in the database cache, their unfinished background export) and the
    # bounded count that decides to stream (history/export_jobs.py), and two per 2,000 rows
    # for the person's stars, tags and notes (annotations.marks): none per row.
    with django_assert_max_num_queries(17 + 3 * 2):
        rows = get_json(alice_client)
    assert len(rows) == 4500 and len({row["id"] for row in rows}) == 4500
