"""The django-q2 side: which keys the schedule picks, and what gets queued."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from history import tasks
from history.models import Job, SyncRun
from history.sync import sync_credential
from providers.models import Credential
from tests.factories import make_credential
from tests.queue import queued_tasks

pytestmark = pytest.mark.django_db


def due_ids():
    return set(tasks.due_credentials().values_list("pk", flat=True))


def test_the_dispatch_schedule_exists_once():
    (schedule,) = Schedule.objects.filter(func="history.tasks.dispatch")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1 and schedule.repeats == -1


def test_which_keys_are_due(alice):
    now = timezone.now()
    later = now + timedelta(hours=1)
    never_synced = make_credential(alice, label="new")
    synced = make_credential(alice, label="synced", next_sync=later, status="ok")
    with_due_job = make_credential(alice, label="poll", next_sync=later, status="ok")
    Job.objects.create(
        credential=with_due_job,
        provider="apimall",
        kind="audio",
        external_id="x",
        status="running",
        created=now,
        next_poll=now - timedelta(seconds=1),
    )
    rejected = make_credential(alice, label="rejected", status="rejected")
    reenter = make_credential(alice, label="reenter", status="reenter")
    paused = make_credential(alice, label="paused", paused_until=later)
    leased = make_credential(alice, label="leased", lease_until=later)
    queued = make_credential(alice, label="queued", enqueued=now)
    stuck_in_queue = make_credential(alice, label="lost task", enqueued=now - timedelta(hours=1))
    assert due_ids() == {never_synced.pk, with_due_job.pk, stuck_in_queue.pk}
    assert not {synced.pk, rejected.pk, reenter.pk, paused.pk, leased.pk, queued.pk} & due_ids()


def test_dispatch_queues_one_task_per_due_key_with_ids_only(alice):
    secret = "sim-apimall-never-in-a-task-row"
    credential = make_credential(alice, secret=secret)
    assert tasks.dispatch() == 1
    assert tasks.dispatch() == 0  # already queued
    (queued,) = queued_tasks()
    assert queued["func"] == "history.tasks.sync_key" and queued["args"] == (credential.pk,)
    assert secret not in str(queued) and credential.last4 not in str(queued)
    credential.refresh_from_db()
    assert credential.enqueued is not None


def test_enqueue_sync_reuses_an_active_run(alice):
    credential = make_credential(alice)
    run = tasks.enqueue_sync(credential)
    assert run.state == SyncRun.State.QUEUED and run.trigger == SyncRun.Trigger.MANUAL
    assert tasks.enqueue_sync(credential) == run
    assert len(queued_tasks()) == 1
    SyncRun.objects.filter(pk=run.pk).update(created=timezone.now() - tasks.ACTIVE_RUN_WINDOW * 2)
    assert tasks.enqueue_sync(credential) != run  # a run whose task was lost does not block


def test_sync_now_and_its_progress(alice_client, alice, bob, client, simulator):
    credential = make_credential(alice, provider="munsit", secret="sim-munsit-now")
    response = alice_client.post(f"/history/sync/{credential.code}/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "waiting for a worker" in response.text
    run = SyncRun.objects.get(credential=credential)
    assert f'hx-get="/history/sync/runs/{run.code}/"' in response.text  # it polls itself
    sync_credential(credential.pk, run_id=run.pk)
    page = alice_client.get(f"/history/sync/runs/{run.code}/")
    assert "sync finished, 150 new" in page.text and "hx-get" not in page.text  # done: polling stops
    client.force_login(bob)
    assert client.get(f"/history/sync/runs/{run.code}/").status_code == 404
    assert client.post(f"/history/sync/{credential.code}/").status_code == 404
    assert alice_client.get(f"/history/sync/{credential.code}/").status_code == 405


def test_sync_now_refuses_a_rejected_key(alice_client, alice):
    credential = make_credential(alice, status=Credential.Status.REJECTED)
    response = alice_client.post(f"/history/sync/{credential.code}/", follow=True)
    assert "not used until you enter it again" in response.text
    assert not SyncRun.objects.exists()
