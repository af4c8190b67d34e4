"""A provider that echoes the key: nothing it sends keeps the key past Provider.call()."""

import importlib
import json

import pytest
import responses
from django.apps import apps as django_apps
from django.core import serializers
from django.utils import timezone
from django_q.models import Task

from history.models import Job, SyncRun
from history.sync import sync_credential
from providers.apikley import Apikley
from providers.apimall import ApiMall
from providers.http import ProviderError
from providers.models import Credential
from tests.factories import make_credential

CANARY = "sk-CANARY-7Hq2mZ9xLp4vR8tW"
BASE = "https://p.test"

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers_at_p_test(settings):
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        setattr(settings, f"{name}_BASE_URL", BASE)


def everything_stored() -> str:
    """Every row the sync may have written, as text, the key's ciphertext left out."""
    rows = [*Job.objects.all(), *SyncRun.objects.all(), *Task.objects.all()]
    dumped = serializers.serialize("json", rows)
    keys = json.loads(serializers.serialize("json", Credential.objects.all()))
    for key in keys:
        key["fields"].pop("secret")
    return dumped + json.dumps(keys)


@responses.activate
def test_an_apikley_error_in_a_200_body_does_not_carry_the_key(providers_at_p_test):
    body = {"code": 404, "msg": f"No task for key {CANARY}"}
    responses.get(f"{BASE}/api/v1/generate/record-info", json=body)
    with pytest.raises(ProviderError) as e:
        Apikley(CANARY).job("task-0001")
    assert CANARY not in str(e.value) and "…R8tW" in str(e.value)


@responses.activate
def test_an_apimall_error_in_a_200_body_does_not_carry_the_key(providers_at_p_test):
    body = {"success": False, "error": {"message": f"key {CANARY.lower()} is not approved"}}
    responses.get(f"{BASE}/api/v1/audio/history", json=body)
    with pytest.raises(ProviderError) as e:
        ApiMall(CANARY).history_page("audio", 0)
    assert CANARY.lower() not in str(e.value).lower()


@responses.activate
def test_records_keep_no_key_even_json_escaped(providers_at_p_test):
    escaped = "".join(f"\\u{ord(c):04x}" for c in CANARY)  # the same string, every character escaped
    item = (
        '{"task_id": "t-1", "status": "failed", "created_at": "2026-01-01T00:00:00Z", '
        f'"title": "made with {escaped}", "error_message": "{CANARY} refused", "{CANARY}": 1}}'
    )
    responses.get(f"{BASE}/api/v1/audio/history", body=f'{{"success": true, "data": {{"items": [{item}]}}}}'.encode())
    (record,) = ApiMall(CANARY).history_page("audio", 0).records
    assert CANARY not in json.dumps(record.raw) + record.title + record.error
    assert "…R8tW" in record.title


@responses.activate
def test_a_sync_stores_the_key_nowhere(providers_at_p_test, alice):
    credential = make_credential(alice, provider="apimall", secret=CANARY, status="ok")
    page = {
        "success": True,
        "data": {
            "items": [
                {
                    "task_id": "t-1",
                    "status": "failed",
                    "created_at": "2026-01-01T00:00:00Z",
                    "title": f"echo {CANARY}",
                    "error_message": f"bad key {CANARY}",
                }
            ]
        },
    }
    responses.get(f"{BASE}/api/v1/audio/history", json=page)
    responses.get(
        f"{BASE}/api/v1/images/history", json={"success": False, "error": {"message": f"{CANARY} not allowed"}}
    )
    outcome = sync_credential(credential.pk)
    assert "…R8tW" in outcome.error
    assert Job.objects.count() == 1
    assert CANARY not in everything_stored()


def test_old_task_results_holding_keys_are_forgotten(alice):
    # Today's sync task returns counts; the old one's rows pickled a Credential.
    now = timezone.now()
    Task.objects.create(id="a" * 32, name="old", func="history.sync.sync_credential", started=now, stopped=now)
    Task.objects.create(id="b" * 32, name="new", func="history.tasks.sync_key", started=now, stopped=now)
    migration = importlib.import_module("history.migrations.0009_forget_pickled_sync_results")
    migration.forget(django_apps, None)
    assert list(Task.objects.values_list("func", flat=True)) == ["history.tasks.sync_key"]
