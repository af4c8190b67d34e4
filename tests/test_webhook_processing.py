"""Stored webhook events become job updates (hooks.process): through the adapters, forward
only; an Apikley callback for an unknown task creates the job; lost tasks are queued again;
polling backs off for keys whose webhooks arrive."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from history.models import Job
from history.removal import forget
from history.sync import RELAXED_FIRST_POLL, poll_gap, store, sync_credential, webhooks_arrive
from hooks.models import Event, Hook
from hooks.process import process_event, sweep
from hooks.setup import hook_for
from providers.apikley import parse_task

from .factories import make_credential
from .queue import queued_tasks

BASE = "https://p.test"
RECORD = "/api/v1/generate/record-info"


@pytest.fixture(autouse=True)
def _base_urls(settings):
    settings.APIKLEY_BASE_URL = BASE
    settings.AUDIOPOD_BASE_URL = BASE


def task(status: str = "SUCCESS", task_id: str = "5c79be8e") -> dict:
    tracks = [
        {
            "id": "t1",
            "audioUrl": "https://cdn.test/1.mp3",
            "streamAudioUrl": "https://cdn.test/s/1",
            "imageUrl": "https://cdn.test/1.jpeg",
            "title": "Night Drive",
            "createTime": 1767225600000,
            "duration": 120.5,
        }
    ]
    return {
        "taskId": task_id,
        "status": status,
        "param": '{"prompt": "synthwave", "model": "V5"}',
        "response": {"taskId": task_id, "sunoData": tracks if status != "PENDING" else []},
        "errorCode": None,
        "errorMessage": None,
    }


def event(hook, external_id="5c79be8e", kind="complete", signed=True, event_id=None) -> Event:
    return Event.objects.create(
        hook=hook, event_id=event_id or f"{external_id}:{kind}", kind=kind, external_id=external_id, signed=signed
    )


@pytest.fixture
def suno(alice):
    return hook_for(make_credential(alice, "apikley"))


@pytest.fixture
def pod(alice):
    return hook_for(make_credential(alice, "audiopod"))


@responses.activate
def test_a_callback_for_an_unknown_task_creates_the_job(suno):
    responses.get(BASE + RECORD, json={"code": 200, "msg": "success", "data": task()})
    stored = event(suno)
    assert process_event(stored.pk).startswith("done")
    job = Job.objects.get()
    assert (job.credential, job.external_id, job.status, job.title) == (
        suno.credential,
        "5c79be8e",
        "succeeded",
        "Night Drive",
    )
    stored.refresh_from_db()
    assert stored.state == Event.State.DONE and stored.job == job and stored.processed
    assert "taskId=5c79be8e" in responses.calls[0].request.url
    suno.refresh_from_db()
    assert suno.last_event is not None


@responses.activate
def test_a_webhook_moves_a_job_forward_only(suno):
    credential = suno.credential
    store(credential, [parse_task(task("SUCCESS"), "5c79be8e")])
    # A lagging answer after a late callback: the stored job stays succeeded.
    responses.get(BASE + RECORD, json={"code": 200, "msg": "success", "data": task("FIRST_SUCCESS")})
    process_event(event(suno, kind="first").pk)
    assert Job.objects.get().status == "succeeded"


@responses.activate
def test_a_running_job_finishes_at_once(suno):
    store(suno.credential, [parse_task(task("FIRST_SUCCESS"), "5c79be8e")])
    assert Job.objects.get().status == "running"
    responses.get(BASE + RECORD, json={"code": 200, "msg": "success", "data": task("SUCCESS")})
    process_event(event(suno).pk)
    job = Job.objects.get()
    assert job.status == "succeeded" and job.next_poll is None


@responses.activate
def test_a_signed_callback_before_record_info_knows_the_task_stores_it_pending(suno):
    responses.get(BASE + RECORD, json={"code": 422, "msg": "recordInfo is null"})
    process_event(event(suno, kind="text").pk)
    job = Job.objects.get()
    assert job.status == "pending" and job.next_poll is not None and job.external_id == "5c79be8e"


@responses.activate
def test_an_unsigned_callback_never_creates_a_job_the_provider_does_not_confirm(suno):
    responses.get(BASE + RECORD, json={"code": 422, "msg": "recordInfo is null"})
    stored = event(suno, signed=False)
    assert process_event(stored.pk).startswith("failed")
    assert Job.objects.count() == 0
    stored.refresh_from_db()
    assert stored.state == Event.State.FAILED and "recordInfo is null" in stored.note


@responses.activate
def test_an_audiopod_event_updates_its_job(pod):
    body = {
        "id": 123,
        "status": "COMPLETED",
        "created_at": "2026-05-01T08:00:00Z",
        "output_url": "https://cdn.test/123.mp3",
        "display_name": "Pod Song",
    }
    responses.get(f"{BASE}/api/v1/music/jobs/123/status", json=body)
    process_event(event(pod, external_id="123", kind="job.completed", event_id="evt_1").pk)
    job = Job.objects.get()
    assert (job.external_id, job.status, job.title) == ("123", "succeeded", "Pod Song")
    assert responses.calls[0].request.headers["X-API-Key"] == "sim-audiopod-test"


def test_an_event_about_no_job_is_recorded_and_ignored(pod):
    stored = event(pod, external_id="", kind="webhook.test", event_id="evt_test")
    assert process_event(stored.pk).startswith("ignored")
    assert Job.objects.count() == 0


@responses.activate
def test_an_event_is_processed_once(suno):
    responses.get(BASE + RECORD, json={"code": 200, "msg": "success", "data": task()})
    stored = event(suno)
    process_event(stored.pk)
    assert process_event(stored.pk).startswith("not queued")
    assert len(responses.calls) == 1


@responses.activate
def test_a_provider_failure_leaves_polling_as_the_fallback(suno):
    store(suno.credential, [parse_task(task("FIRST_SUCCESS"), "5c79be8e")])
    Job.objects.update(next_poll=timezone.now() + timedelta(minutes=9))
    responses.get(BASE + RECORD, status=502)
    stored = event(suno)
    assert process_event(stored.pk).startswith("failed")
    job = Job.objects.get()
    assert job.status == "running" and job.next_poll <= timezone.now() + timedelta(seconds=11)


def test_the_sweep_queues_lost_events_again_and_prunes_old_ones(suno):
    now = timezone.now()
    lost = event(suno, event_id="lost")
    Event.objects.filter(pk=lost.pk).update(received=now - timedelta(minutes=2))
    fresh = event(suno, event_id="fresh")
    stuck = event(suno, event_id="stuck")
    Event.objects.filter(pk=stuck.pk).update(state=Event.State.WORKING, claimed=now - timedelta(minutes=11))
    old = event(suno, event_id="old")
    Event.objects.filter(pk=old.pk).update(received=now - timedelta(days=8), state=Event.State.DONE)
    assert sweep() == 2
    assert sorted(t["args"][0] for t in queued_tasks()) == sorted([lost.pk, stuck.pk])
    assert not Event.objects.filter(pk=old.pk).exists() and Event.objects.filter(pk=fresh.pk).exists()


@responses.activate
def test_polling_backs_off_for_keys_whose_webhooks_arrive(suno, alice):
    credential = suno.credential
    assert not webhooks_arrive(credential.pk)
    responses.get(BASE + RECORD, json={"code": 200, "msg": "success", "data": task("FIRST_SUCCESS")})
    process_event(event(suno, kind="first").pk)
    assert webhooks_arrive(credential.pk)
    job = Job.objects.get()
    assert job.next_poll >= timezone.now() + RELAXED_FIRST_POLL - timedelta(seconds=5)
    assert poll_gap(3, relaxed=True) > poll_gap(3)
    # A key without webhooks keeps the quick polls.
    other = make_credential(alice, "apikley", label="plain")
    store(other, [parse_task(task("FIRST_SUCCESS", "othertask"), "othertask")])
    assert Job.objects.get(credential=other).next_poll <= timezone.now() + timedelta(seconds=11)


@responses.activate
def test_the_sync_polls_slowly_while_webhooks_arrive(alice):
    credential = make_credential(alice, "apikley", status="ok", balance_checked=timezone.now())
    store(credential, [parse_task(task("FIRST_SUCCESS"), "5c79be8e")])
    Job.objects.update(next_poll=timezone.now() - timedelta(seconds=1))
    Hook.objects.create(credential=credential, last_event=timezone.now())
    responses.get(BASE + RECORD, json={"code": 200, "msg": "success", "data": task("FIRST_SUCCESS")})
    sync_credential(credential.pk)
    assert len(responses.calls) == 1
    # Unchanged: the second gap of the slow curve (4 min), not of the quick one (20 s).
    assert Job.objects.get().next_poll >= timezone.now() + timedelta(minutes=3)


@responses.activate
def test_a_final_callback_ahead_of_record_info_brings_the_next_poll_near(suno):
    responses.get(BASE + RECORD, json={"code": 200, "msg": "success", "data": task("FIRST_SUCCESS")})
    process_event(event(suno, kind="first").pk)
    assert Job.objects.get().next_poll >= timezone.now() + RELAXED_FIRST_POLL - timedelta(seconds=5)
    process_event(event(suno, kind="complete").pk)  # record-info still says FIRST_SUCCESS
    job = Job.objects.get()
    assert job.status == "running" and job.next_poll <= timezone.now() + timedelta(seconds=11)


def test_an_unexpected_error_marks_the_event_failed_not_stuck(suno, monkeypatch):
    import hooks.process

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(hooks.process, "store", broken)
    stored = event(suno)
    with responses.RequestsMock() as mocked:
        mocked.get(BASE + RECORD, json={"code": 200, "msg": "success", "data": task()})
        with pytest.raises(RuntimeError):
            process_event(stored.pk)
    stored.refresh_from_db()
    assert stored.state == Event.State.FAILED and "Internal error" in stored.note
    assert sweep() == 0


@responses.activate
def test_a_job_its_owner_removed_does_not_come_back_by_webhook(suno):
    store(suno.credential, [parse_task(task("FIRST_SUCCESS"), "5c79be8e")])
    forget(Job.objects.get())
    for kind, signed in (("complete", True), ("error", False)):
        stored = event(suno, kind=kind, signed=signed)
        assert process_event(stored.pk).startswith("ignored: Removed from Genboard")
    assert Job.objects.count() == 0 and len(responses.calls) == 0
