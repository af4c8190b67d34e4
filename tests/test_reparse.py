"""`manage.py reparse`: stored raw records read again by today's adapters, no provider asked."""

import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from history.models import Job
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

CAPTURE = json.loads((Path(__file__).parent / "captures" / "kie_record_info_callback_exception.json").read_text())
TASK = CAPTURE["data"]


def old_row(credential, **fields) -> Job:
    """A job as an adapter that knew nothing of tracks' tags or the task's own time stored it."""
    values = {
        "credential": credential,
        "provider": credential.provider,
        "kind": "music",
        "external_id": TASK["taskId"],
        "status": "succeeded",
        "provider_status": "CALLBACK_EXCEPTION",
        "created": datetime(2020, 1, 1, tzinfo=UTC),
        "raw": TASK,
        **fields,
    }
    return Job.objects.create(**values)


def reparse(**options) -> str:
    out = StringIO()
    call_command("reparse", stdout=out, **options)
    return out.getvalue()


def test_fills_what_todays_adapter_reads(alice):
    job = old_row(make_credential(alice, "apikley"))
    assert "1 updated" in reparse()
    job.refresh_from_db()
    assert [o["ref"] for o in job.outputs if o["kind"] == "audio"] == [t["id"] for t in TASK["response"]["sunoData"]]
    assert "dark synthwave" in job.search_text
    assert job.model == "V5" and job.details["engine"] == "chirp-crow"
    assert job.created == datetime.fromtimestamp(TASK["createTime"] / 1000, UTC)  # the task's time, not a guess
    assert Job.objects.count() == 1


def test_status_never_moves_back(alice):
    raw = {**TASK, "status": "PENDING", "response": None}
    job = old_row(make_credential(alice, "apikley"), raw=raw, title="Kept")
    reparse()
    job.refresh_from_db()
    assert (job.status, job.title) == ("succeeded", "Kept")


def test_unreadable_and_empty_records_are_left_alone(alice):
    credential = make_credential(alice, "audiopod")
    broken = old_row(credential, external_id="1", raw={"id": 1, "status": "COMPLETED"}, title="No time")
    imported = old_row(credential, external_id="2", raw={}, status="pending", title="Never described")
    assert "1 unreadable records left as they were" in reparse(provider="audiopod")
    assert Job.objects.get(pk=broken.pk).title == "No time"
    assert Job.objects.get(pk=imported.pk).title == "Never described"


def test_only_the_chosen_user(alice, bob):
    old_row(make_credential(alice, "apikley"))
    theirs = old_row(make_credential(bob, "apikley"))
    assert "bob" not in reparse(user="alice")
    assert Job.objects.get(pk=theirs.pk).search_text == ""
    with pytest.raises(CommandError, match="No user named"):
        reparse(user="nobody")
