"""The webhook receiver, /hooks/<token>/: signatures, replays, stale timestamps, unknown
addresses, the body cap, the rate limit, and the key page's webhook card."""

import json
import time

import pytest
from django.db import connection
from django.urls import reverse

from hooks.models import Event, Hook
from hooks.setup import hook_for
from providers.apikley import callback_signature
from providers.audiopod import webhook_signature

from .factories import make_credential
from .queue import queued_tasks

HMAC_KEY = "kie-hmac-key-7f3a9c1e"
POD_SECRET = "whsec_pod-secret-55d1"


@pytest.fixture
def suno(alice):
    credential = make_credential(alice, "apikley")
    return hook_for(credential)


@pytest.fixture
def pod(alice):
    hook = hook_for(make_credential(alice, "audiopod"))
    hook.set_secret(POD_SECRET)
    hook.save()
    return hook


def kie_body(task_id: str = "5c79be8e", stage: str = "complete") -> bytes:
    data = {"callbackType": stage, "task_id": task_id, "data": [{"id": "t1", "audio_url": "https://x.test/1.mp3"}]}
    return json.dumps({"code": 200, "msg": "All generated successfully.", "data": data}).encode()


def kie_post(client, hook, body: bytes, *, key: str | None = HMAC_KEY, stamp: int | None = None, task="5c79be8e"):
    stamp = int(time.time()) if stamp is None else stamp
    headers = {}
    if key is not None:
        headers = {"X-Webhook-Timestamp": str(stamp), "X-Webhook-Signature": callback_signature(key, task, stamp)}
    return client.post(hook.get_absolute_url(), body, content_type="application/json", headers=headers)


def pod_body(event_id: str = "evt_1", job_id: int = 123, event_type: str = "job.completed") -> bytes:
    payload = {
        "event_type": event_type,
        "event_id": event_id,
        "job_id": job_id,
        "job_type": "music_generation",
        "status": "completed",
    }
    return json.dumps(payload).encode()


def pod_post(client, hook, body: bytes, *, secret: str = POD_SECRET, stamp: int | None = None, event_id="evt_1"):
    stamp = int(time.time()) if stamp is None else stamp
    headers = {
        "X-AudioPod-Timestamp": str(stamp),
        "X-AudioPod-Signature": webhook_signature(secret, stamp, body),
        "X-AudioPod-Event-Id": event_id,
        "X-AudioPod-Event": "job.completed",
    }
    return client.post(hook.get_absolute_url(), body, content_type="application/json", headers=headers)


def rejected(hook) -> tuple[int, str]:
    hook.refresh_from_db()
    return hook.rejected, hook.last_rejection


# --- Apikley (kie) ----------------------------------------------------------------------------


def test_a_signed_apikley_callback_is_stored_and_queued(client, suno, django_capture_on_commit_callbacks):
    suno.set_secret(HMAC_KEY)
    suno.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = kie_post(client, suno, kie_body())
    assert response.status_code == 202, response.content
    event = Event.objects.get()
    assert (event.hook, event.kind, event.external_id, event.signed) == (suno, "complete", "5c79be8e", True)
    assert event.state == Event.State.QUEUED and event.body["data"]["task_id"] == "5c79be8e"
    tasks = queued_tasks()
    assert [(t["func"], t["args"]) for t in tasks] == [("hooks.process.process_event", (event.pk,))]


def test_no_login_and_no_csrf_token_needed(suno):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert kie_post(client, suno, kie_body(), key=None).status_code == 202


def test_only_post(client, suno):
    assert client.get(suno.get_absolute_url()).status_code == 405
    assert Event.objects.count() == 0


def test_a_bad_signature_changes_nothing_and_is_counted(client, suno):
    suno.set_secret(HMAC_KEY)
    suno.save()
    response = kie_post(client, suno, kie_body(), key="someone-elses-key")
    assert response.status_code == 401
    assert Event.objects.count() == 0
    count, reason = rejected(suno)
    assert count == 1 and reason.startswith("Bad signature")
    # The signature is over the task id: the same signature for another task is bad too.
    stamp = int(time.time())
    headers = {"X-Webhook-Timestamp": str(stamp), "X-Webhook-Signature": callback_signature(HMAC_KEY, "other1", stamp)}
    url = suno.get_absolute_url()
    response = client.post(url, kie_body("5c79be8e"), content_type="application/json", headers=headers)
    assert response.status_code == 401 and rejected(suno)[0] == 2 and Event.objects.count() == 0


def test_an_unsigned_call_is_refused_once_an_hmac_key_is_saved(client, suno):
    suno.set_secret(HMAC_KEY)
    suno.save()
    assert kie_post(client, suno, kie_body(), key=None).status_code == 401
    assert rejected(suno)[1].startswith("No X-Webhook-Timestamp") and Event.objects.count() == 0


def test_a_stale_timestamp_is_refused(client, suno, settings):
    settings.WEBHOOK_TOLERANCE_SECONDS = 300
    suno.set_secret(HMAC_KEY)
    suno.save()
    old = int(time.time()) - 301
    assert kie_post(client, suno, kie_body(), stamp=old).status_code == 401
    assert rejected(suno)[1].startswith("Stale timestamp")
    future = int(time.time()) + 400
    assert kie_post(client, suno, kie_body(), stamp=future).status_code == 401
    assert Event.objects.count() == 0 and rejected(suno)[0] == 2


def test_a_replayed_callback_is_dropped(client, suno):
    suno.set_secret(HMAC_KEY)
    suno.save()
    stamp = int(time.time())
    assert kie_post(client, suno, kie_body(), stamp=stamp).status_code == 202
    replay = kie_post(client, suno, kie_body(), stamp=stamp)
    assert replay.status_code == 200 and replay.json()["message"].startswith("Duplicate")
    assert Event.objects.count() == 1 and rejected(suno)[0] == 0
    # A later stage of the same task is another event.
    assert kie_post(client, suno, kie_body(stage="first"), stamp=stamp).status_code == 202
    assert Event.objects.count() == 2


def test_without_an_hmac_key_a_callback_is_an_unsigned_cue(client, suno):
    assert kie_post(client, suno, kie_body(), key=None).status_code == 202
    assert Event.objects.get().signed is False
    # The same body again is the same event.
    assert kie_post(client, suno, kie_body(), key=None).status_code == 200
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", json.dumps({"code": 200, "data": {"callbackType": "complete"}}).encode()],
)
def test_unreadable_callbacks_are_refused(client, suno, body):
    assert kie_post(client, suno, body, key=None).status_code == 401
    assert Event.objects.count() == 0 and rejected(suno)[0] == 1


# --- AudioPod -----------------------------------------------------------------------------------


def test_a_signed_audiopod_event_is_stored(client, pod):
    response = pod_post(client, pod, pod_body())
    assert response.status_code == 202
    event = Event.objects.get()
    assert (event.event_id, event.kind, event.external_id, event.signed) == ("evt_1", "job.completed", "123", True)


def test_audiopod_duplicates_are_dropped_by_event_id(client, pod):
    assert pod_post(client, pod, pod_body()).status_code == 202
    # AudioPod's retry: same event id, a fresh timestamp and signature.
    retry = pod_post(client, pod, pod_body(), stamp=int(time.time()) + 2)
    assert retry.status_code == 200 and Event.objects.count() == 1


def test_audiopod_bad_signature_and_stale_timestamp(client, pod):
    assert pod_post(client, pod, pod_body(), secret="whsec_wrong-secret").status_code == 401
    assert rejected(pod)[1].startswith("Bad signature")
    # The signature covers the body: a changed body is refused.
    stamp = int(time.time())
    headers = {
        "X-AudioPod-Timestamp": str(stamp),
        "X-AudioPod-Signature": webhook_signature(POD_SECRET, stamp, pod_body(job_id=123)),
    }
    url = pod.get_absolute_url()
    tampered = client.post(url, pod_body(job_id=999), content_type="application/json", headers=headers)
    assert tampered.status_code == 401
    assert pod_post(client, pod, pod_body(), stamp=int(time.time()) - 3600).status_code == 401
    assert rejected(pod) == (3, rejected(pod)[1]) and rejected(pod)[1].startswith("Stale")
    assert Event.objects.count() == 0


def test_audiopod_calls_are_refused_until_a_secret_is_saved(client, alice):
    hook = hook_for(make_credential(alice, "audiopod", label="no secret"))
    assert pod_post(client, hook, pod_body()).status_code == 401
    assert rejected(hook)[1].startswith("No signing secret") and Event.objects.count() == 0


def test_audiopod_events_about_other_tools_touch_no_job(client, pod):
    body = json.dumps({"event_type": "job.completed", "event_id": "e9", "job_id": 5, "job_type": "transcription"})
    assert pod_post(client, pod, body.encode(), event_id="e9").status_code == 202
    assert Event.objects.get().external_id == ""


# --- addresses, caps and limits -----------------------------------------------------------------


def test_an_unknown_address_is_404(client, suno):
    response = client.post("/hooks/" + "x" * 43 + "/", kie_body(), content_type="application/json")
    assert response.status_code == 404 and Event.objects.count() == 0


def test_keys_of_providers_without_webhooks_have_no_address(alice):
    assert hook_for(make_credential(alice, "apimall")) is None
    assert Hook.objects.count() == 0


def test_a_new_address_stops_the_old_one(client, suno, alice_client):
    old = suno.get_absolute_url()
    response = alice_client.post(reverse("key_hooks:reissue", args=[suno.credential.code]))
    assert response.status_code == 302
    suno.refresh_from_db()
    assert suno.get_absolute_url() != old
    assert client.post(old, kie_body(), content_type="application/json").status_code == 404
    assert kie_post(client, suno, kie_body(), key=None).status_code == 202


def test_the_body_is_capped(client, suno, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    big = json.dumps({"data": {"task_id": "5c79be8e", "callbackType": "complete", "pad": "x" * 2000}}).encode()
    response = client.post(suno.get_absolute_url(), big, content_type="application/json")
    assert response.status_code == 413 and Event.objects.count() == 0


def test_a_lying_content_length_is_capped_while_reading(suno, settings):
    from io import BytesIO

    from hooks import receiver

    settings.WEBHOOK_MAX_BODY_BYTES = 10
    with pytest.raises(receiver.TooLarge):
        receiver.read_body(BytesIO(b"x" * 100), "5")
    assert receiver.read_body(BytesIO(b"x" * 10), "10") == b"x" * 10


def test_calls_per_key_are_rate_limited(client, suno, alice, settings):
    settings.WEBHOOK_RATE_LIMIT = 3
    statuses = [kie_post(client, suno, kie_body(stage=f"s{i}"), key=None).status_code for i in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    response = kie_post(client, suno, kie_body(stage="s9"), key=None)
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another key has its own allowance.
    other = hook_for(make_credential(alice, "apikley", label="second"))
    assert kie_post(client, other, kie_body(), key=None).status_code == 202


# --- the key's page -------------------------------------------------------------------------------


def test_the_key_page_shows_the_address_and_what_to_paste(alice_client, suno):
    response = alice_client.get(suno.credential.get_absolute_url())
    text = response.content.decode()
    address = "http://testserver" + suno.get_absolute_url()
    assert address in text and f"&quot;callBackUrl&quot;: &quot;{address}&quot;" in text
    assert text.count("data-copy=") == 2 and "None yet" in text


def test_the_key_page_counts_rejected_calls(client, alice_client, suno):
    suno.set_secret(HMAC_KEY)
    suno.save()
    kie_post(client, suno, kie_body(), key=None)
    kie_post(client, suno, kie_body(), key="wrong-key-123")
    kie_post(client, suno, kie_body(), key="wrong-key-123")
    kie_post(client, suno, kie_body())
    text = alice_client.get(suno.credential.get_absolute_url()).content.decode()
    assert "3 rejected" in text and "Bad signature" in text and "<code>complete</code> for 5c79be8e" in text


def test_the_secret_is_stored_encrypted_and_shown_by_its_last_four(alice_client, suno):
    url = reverse("key_hooks:secret", args=[suno.credential.code])
    assert alice_client.post(url, {"secret": HMAC_KEY}).status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM hooks_hook WHERE id = %s", [suno.pk])
        (stored,) = cursor.fetchone()
    assert HMAC_KEY not in stored
    suno.refresh_from_db()
    assert suno.secret.reveal() == HMAC_KEY and suno.secret_last4 == HMAC_KEY[-4:]
    text = alice_client.get(suno.credential.get_absolute_url()).content.decode()
    assert HMAC_KEY not in text and f"…{HMAC_KEY[-4:]}" in text
    assert alice_client.post(url, {"remove": "1"}).status_code == 302
    suno.refresh_from_db()
    assert suno.secret is None and suno.secret_last4 == ""


def test_a_blank_or_spaced_secret_is_refused_with_a_message(alice_client, suno):
    url = reverse("key_hooks:secret", args=[suno.credential.code])
    response = alice_client.post(url, {"secret": "has a space"}, follow=True)
    assert "does not look like a webhook secret" in response.content.decode()
    suno.refresh_from_db()
    assert suno.secret is None


def test_only_the_owner_changes_webhook_settings(client, suno, bob):
    code = suno.credential.code
    client.force_login(bob)
    assert client.post(reverse("key_hooks:reissue", args=[code])).status_code == 404
    assert client.post(reverse("key_hooks:secret", args=[code]), {"secret": HMAC_KEY}).status_code == 404
    client.logout()
    assert client.post(reverse("key_hooks:reissue", args=[code])).status_code == 302  # to log in
    old = suno.token
    suno.refresh_from_db()
    assert suno.token == old and suno.secret is None


def test_the_admin_lists_webhooks_without_token_or_secret(client, suno, admin_user):
    suno.set_secret(HMAC_KEY)
    suno.save()
    kie_post(client, suno, kie_body())
    client.force_login(admin_user)
    for url in ("/admin/hooks/hook/", f"/admin/hooks/hook/{suno.pk}/change/", "/admin/hooks/event/"):
        text = client.get(url).content.decode()
        assert suno.token not in text and HMAC_KEY not in text, url
    event = Event.objects.get()
    assert "5c79be8e" in client.get(f"/admin/hooks/event/{event.pk}/change/").content.decode()
