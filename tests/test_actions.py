"""Owner actions through the provider's API, against the provider simulator over loopback:
AudioPod's rename, delete and retry (with its 10 a minute limit), and "Refresh now"."""

import re
from datetime import timedelta
from html import unescape
from types import SimpleNamespace

import pytest
from django.utils import timezone

from history import actions
from history.models import Job, SyncRun
from history.sync import sync_credential
from teams.models import AuditEvent, Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

KEY = "sim-audiopod-actions-n400"
RETRY = "POST /api/v1/music/jobs/{id}/retry"
HX = {"HX-Request": "true"}


@pytest.fixture
def world(simulator):
    simulator.world.new_every = 0
    return simulator.world


@pytest.fixture
def pod(world, alice):
    """Alice's AudioPod key with its whole history imported from the simulator."""
    credential = make_credential(alice, "audiopod", label="Pod", secret=KEY)
    assert sync_credential(credential.pk).error == ""
    return credential


def finished(pod, status: str) -> Job:
    return Job.objects.filter(credential=pod, status=status).order_by("-created").first()


def page_messages(client) -> str:
    return unescape(client.get("/history/").text)


def test_rename_renames_at_audiopod_and_here(client, alice, world, pod):
    job = finished(pod, "succeeded")
    client.force_login(alice)
    response = client.post(f"/history/{job.code}/rename/", {"name": "  Final mix v2  "})
    assert response.status_code == 302 and response.headers["Location"] == f"/history/{job.code}/"
    assert world.job(KEY, int(job.external_id)).override("display_name") == "Final mix v2"
    job.refresh_from_db()
    assert job.title == "Final mix v2" and job.raw["display_name"] == "Final mix v2"
    event = AuditEvent.objects.get(verb="job.rename")
    assert event.actor == alice and "to “Final mix v2”" in event.subject
    page = unescape(client.get(f"/history/{job.code}/").text)
    assert "Renamed at AudioPod to “Final mix v2”." in page and "<title>Final mix v2 · History" in page


def test_rename_with_htmx_answers_the_job_panel_with_the_message(client, alice, world, pod):
    job = finished(pod, "succeeded")
    client.force_login(alice)
    response = client.post(f"/history/{job.code}/rename/", {"name": "Radio edit"}, headers=HX)
    assert response.status_code == 200
    text = unescape(response.text)
    assert "<title>Radio edit · History · Genboard</title>" in text and "<h1>Radio edit</h1>" in text
    assert '<div id="live-messages" hx-swap-oob="innerHTML"><p class="alert alert-success">Renamed' in text
    # An empty name is a form error, shown in place (htmx swaps only 2xx answers).
    response = client.post(f"/history/{job.code}/rename/", {"name": "  "}, headers=HX)
    assert response.status_code == 200 and "This field is required." in response.text
    assert '<details class="dropdown rename" open>' in response.text
    assert client.post(f"/history/{job.code}/rename/", {"name": ""}).status_code == 400
    assert AuditEvent.objects.filter(verb="job.rename").count() == 1


def test_a_provider_refusal_is_shown_and_changes_nothing(client, alice, world, pod):
    job = finished(pod, "succeeded")
    world.faults.set("audiopod", error_rate=1.0)
    client.force_login(alice)
    client.post(f"/history/{job.code}/rename/", {"name": "Nope"})
    world.faults.reset()
    job.refresh_from_db()
    assert job.title != "Nope"
    assert "Not renamed:" in unescape(client.get(f"/history/{job.code}/").text)
    assert "refused by AudioPod" in AuditEvent.objects.get(verb="job.rename").subject


def test_a_key_audiopod_refuses_during_an_action_is_marked_rejected(client, alice, world, pod):
    job = finished(pod, "succeeded")
    pod.set_secret("ap_revoked_meanwhile")
    pod.status = "ok"
    pod.save()
    client.force_login(alice)
    client.post(f"/history/{job.code}/rename/", {"name": "Nope"})
    pod.refresh_from_db()
    assert pod.status == "rejected" and "Invalid API key" in pod.last_error
    text = page_messages(client)
    assert "Not renamed:" in text and "AudioPod rejected your key “Pod”" in text


def test_delete_asks_first_then_deletes_there_and_here(client, alice, world, pod):
    job = finished(pod, "succeeded")
    client.force_login(alice)
    confirm = client.get(f"/history/{job.code}/delete/")
    assert confirm.status_code == 200 and "This cannot be undone" in confirm.text
    assert 'method="post"' in confirm.text and world.job(KEY, int(job.external_id)) is not None
    response = client.post(f"/history/{job.code}/delete/")
    assert response.status_code == 302 and response.headers["Location"] == "/history/"
    assert world.job(KEY, int(job.external_id)) is None
    assert not Job.objects.filter(pk=job.pk).exists()
    event = AuditEvent.objects.get(verb="job.delete")
    assert job.title in event.subject and "Job deleted successfully" in event.subject
    # One sentence, the provider's words quoted (not "Job deleted successfully “…” is removed").
    said = f"Deleted “{job.title}” at AudioPod (it answered “Job deleted successfully”); it is removed from Genboard"
    assert said in page_messages(client)
    assert client.get(f"/history/{job.code}/").status_code == 404


def test_deleting_a_job_audiopod_no_longer_has_removes_it_here_too(client, alice, world, pod):
    job = finished(pod, "succeeded")
    world.delete(world.job(KEY, int(job.external_id)))
    client.force_login(alice)
    client.post(f"/history/{job.code}/delete/")
    assert not Job.objects.filter(pk=job.pk).exists()
    assert f"AudioPod no longer had “{job.title}”; it is removed from Genboard too." in page_messages(client)


def test_delete_on_a_shared_key_is_recorded_on_the_teams_page(client, alice, bob, world, pod):
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.VIEWER)
    Share.objects.create(team=team, credential=pod, shared_by=alice)
    job = finished(pod, "succeeded")
    client.force_login(bob)
    assert client.post(f"/history/{job.code}/delete/").status_code == 403
    client.force_login(alice)
    client.post(f"/history/{job.code}/delete/")
    assert AuditEvent.objects.get(verb="job.delete").team == team
    client.force_login(bob)
    assert job.title in unescape(client.get("/teams/studio/").text)


def test_retry_runs_a_failed_job_again(client, alice, world, pod):
    job = finished(pod, "failed")
    assert job.error
    client.force_login(alice)
    page = client.get(f"/history/{job.code}/").text
    assert f'hx-post="/history/{job.code}/retry/"' in page
    client.post(f"/history/{job.code}/retry/")
    assert world.log.count(key=KEY, endpoint=RETRY) == 1
    job.refresh_from_db()
    assert job.status in Job.UNFINISHED and job.error == "" and job.completed is None
    assert job.next_poll is not None and not job.stale
    assert AuditEvent.objects.get(verb="job.retry").actor == alice
    assert "AudioPod queued the job again" in page_messages(client)
    # The retried run finishes at AudioPod; the next sync brings it home (forward only).
    world.clock.advance(600)
    Job.objects.filter(pk=job.pk).update(next_poll=timezone.now())
    sync_credential(pod.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.outputs


def test_retry_of_a_job_that_did_not_fail_is_refused_without_asking(client, alice, world, pod):
    job = finished(pod, "succeeded")
    client.force_login(alice)
    page = client.get(f"/history/{job.code}/").text
    assert "/retry/" not in page
    client.post(f"/history/{job.code}/retry/")
    assert world.log.count(key=KEY, endpoint=RETRY) == 0
    assert "Only failed jobs can be retried; this one is succeeded." in page_messages(client)
    assert not AuditEvent.objects.filter(verb="job.retry").exists()


def test_retries_keep_to_audiopods_ten_a_minute_per_key(client, alice, world, pod, monkeypatch):
    failed = list(Job.objects.filter(credential=pod, status="failed")[:11])
    assert len(failed) == 11
    clock = SimpleNamespace(now=1_800_000_000.0)
    monkeypatch.setattr(actions, "time", SimpleNamespace(time=lambda: clock.now))
    client.force_login(alice)
    for job in failed[:10]:
        client.post(f"/history/{job.code}/retry/")
    client.post(f"/history/{failed[10].code}/retry/")
    assert world.log.count(key=KEY, endpoint=RETRY) == 10
    text = page_messages(client)
    assert "AudioPod allows 10 retries a minute per key: try again in 60 seconds." in text
    assert Job.objects.filter(pk=failed[10].pk, status="failed").exists()
    # The next minute, retries go through again (AudioPod's own window has moved on too).
    clock.now += 60
    world.clock.advance(61)
    client.post(f"/history/{failed[10].code}/retry/")
    assert world.log.count(key=KEY, endpoint=RETRY) == 11
    assert AuditEvent.objects.filter(verb="job.retry").count() == 11


def test_the_retry_count_is_per_key(alice, pod, monkeypatch):
    monkeypatch.setattr(actions, "time", SimpleNamespace(time=lambda: 1_800_000_010.0))
    other = make_credential(alice, "audiopod", label="Other", secret="sim-audiopod-other")
    assert [actions.retry_slot_wait(pod) for _ in range(11)][-2:] == [0, 50]
    assert actions.retry_slot_wait(other) == 0


def test_refresh_now_asks_the_provider_on_the_next_sync(client, alice, world, pod):
    # A job still running deep in the history: the next sync reads only the newest page,
    # so only a due poll asks about this one.
    job = Job.objects.filter(credential=pod, status__in=Job.UNFINISHED).order_by("created").first()
    assert Job.objects.filter(credential=pod, created__gt=job.created).count() >= 100
    Job.objects.filter(pk=job.pk).update(next_poll=timezone.now() + timedelta(minutes=9))
    world.clock.advance(600)  # everything running has finished at AudioPod by now

    def asked() -> int:
        return world.log.count(key=KEY, endpoint="GET /api/v1/music/jobs/{id}/status", target=job.external_id)

    sync_credential(pod.pk)
    assert asked() == 0  # not due yet
    client.force_login(alice)
    response = client.post(f"/history/{job.code}/refresh/", headers={**HX, "HX-Target": "job-panel"})
    assert response.status_code == 200 and "Asked AudioPod for the latest" in response.text
    assert SyncRun.objects.filter(credential=pod, state="queued").exists()
    sync_credential(pod.pk)
    assert asked() == 1
    job.refresh_from_db()
    assert job.finished
    row = client.get(f"/history/{job.code}/row/").text
    assert "hx-trigger" not in row and re.search(r'class="job job-(succeeded|failed)"', row)
