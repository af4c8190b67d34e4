"""Workers that die mid-run: short renewed leases, runs closed as interrupted, the backfill
resumed from where it stopped, and a key queued twice synced once (history/lease.py,
history/recovery.py, history/tasks.py)."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from history import lease, recovery, tasks
from history.models import SyncRun
from history.sync import sync_credential
from providers.models import Credential
from tests.factories import make_credential
from tests.fixtures_simulator import separate_process_env
from tests.queue import queued_tasks

ROOT = Path(__file__).resolve().parent.parent


def running_run(credential) -> SyncRun:
    return SyncRun.objects.create(credential=credential, trigger="schedule", state="running", started=timezone.now())


@pytest.mark.django_db
def test_a_run_whose_lease_lapsed_is_closed_as_interrupted_and_its_key_freed(alice):
    now = timezone.now()
    dead = make_credential(alice, label="dead", lease_until=now - timedelta(seconds=1), lease_token=uuid.uuid4())
    alive = make_credential(alice, label="alive", lease_until=now + timedelta(seconds=20), lease_token=uuid.uuid4())
    dead_run, alive_run = running_run(dead), running_run(alive)
    assert recovery.recover() == [dead.pk]
    dead_run.refresh_from_db(), alive_run.refresh_from_db()
    assert dead_run.state == "interrupted" and dead_run.finished and "goes on from where" in dead_run.message
    assert alive_run.state == "running"
    dead.refresh_from_db(), alive.refresh_from_db()
    assert dead.lease_token is None and dead.lease_until is None
    assert alive.lease_token is not None
    assert recovery.recover() == []  # nothing left to do


@pytest.mark.django_db
def test_dispatch_queues_a_dead_workers_key_again(alice):
    dead = make_credential(alice, lease_until=timezone.now() - timedelta(seconds=1), lease_token=uuid.uuid4())
    run = running_run(dead)
    assert tasks.dispatch() == 1
    (queued,) = queued_tasks()
    assert queued["args"] == (dead.pk,) and queued["kwargs"]["only_if_due"] is True
    run.refresh_from_db()
    assert run.state == "interrupted"


@pytest.mark.django_db
def test_a_key_queued_twice_is_synced_once(alice, unreachable_providers):
    credential = make_credential(alice, next_sync=timezone.now() + timedelta(minutes=5), enqueued=timezone.now())
    # The copy that finds the key no longer due does nothing, not even a run.
    assert sync_credential(credential.pk, only_if_due=True) is None
    assert not SyncRun.objects.exists()
    credential.refresh_from_db()
    assert credential.enqueued is None
    # A key with work to do is synced.
    Credential.objects.filter(pk=credential.pk).update(next_sync=None)
    assert sync_credential(credential.pk, only_if_due=True).run.state == "failed"  # unreachable, but tried


@pytest.mark.django_db
def test_a_key_whose_task_was_lost_is_queued_again_within_the_minute(alice):
    now = timezone.now()
    just_queued = make_credential(alice, label="just queued", enqueued=now - timedelta(seconds=20))
    lost = make_credential(alice, label="lost", enqueued=now - timedelta(seconds=55))
    due = set(tasks.due_credentials().values_list("pk", flat=True))
    assert lost.pk in due and just_queued.pk not in due


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_the_run_lives_and_lost_when_taken(alice):
    credential = make_credential(alice)
    token = uuid.uuid4()
    assert lease.claim(credential.pk, token)
    first = Credential.objects.get(pk=credential.pk).lease_until
    with lease.LeaseKeeper(credential.pk, token, every=0.05) as keeper:
        time.sleep(0.3)
        assert Credential.objects.get(pk=credential.pk).lease_until > first
        assert not keeper.lost
        Credential.objects.filter(pk=credential.pk).update(lease_token=uuid.uuid4())  # taken over
        time.sleep(0.3)
        assert keeper.lost


def test_the_lease_is_short_and_renewed_three_times_within_it():
    assert lease.lease() == timedelta(seconds=30)
    assert lease.renew_every() == 10


# --- a real process killed mid-sync -----------------------------------------------------------

SETUP = """
from django.contrib.auth.models import User
from providers.models import Credential
c = Credential(owner=User.objects.create_user("alice"), provider="munsit", label="big")
c.set_secret("sim-munsit-killed-n3000")
c.save()
"""
# Runs what the schedule queued (dispatch after the dead worker's lease lapsed), as a worker would.
RESUME = """
import json
from django.utils.module_loading import import_string
from history.models import SyncRun
from history.tasks import dispatch
from tests.queue import queued_tasks
queued = dispatch()
interrupted = list(SyncRun.objects.filter(state="interrupted").values_list("pk", flat=True))
for task in queued_tasks():
    import_string(task["func"])(*task["args"], **task["kwargs"])
last = SyncRun.objects.order_by("-pk").first()
print(json.dumps({"queued": queued, "interrupted": interrupted, "pages": last.pages, "state": last.state}))
"""


def count(database: Path, sql: str):
    with sqlite3.connect(database, timeout=10) as db:
        return db.execute(sql).fetchall()


@pytest.mark.django_db
def test_a_worker_killed_mid_sync_leaves_no_half_page_no_running_run_and_its_key_is_resumed(make_simulator, tmp_path):
    simulator = make_simulator()
    simulator.world.new_every = 0
    # Every job finished (they finish within 240 s of the clock): no unfinished job falls due for
    # a poll that re-reads its page, however slowly a loaded machine gets to the resumed run.
    simulator.world.clock.advance(240)
    simulator.world.faults.set("munsit", latency=0.05)
    database = tmp_path / "genboard.sqlite3"
    # REDIS_URL empty: the embedded ORM broker in its own file, whatever this pass uses.
    env = separate_process_env(simulator, tmp_path, GENBOARD_LEASE_SECONDS="2", REDIS_URL="")

    def manage(*args: str) -> str:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True
        )
        return done.stdout.decode()

    manage("migrate", "--noinput", "-v0")
    manage("shell", "-c", SETUP)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "sync"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(300):
            if count(database, "SELECT count(*) FROM history_job")[0][0] >= 1500:
                break
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    stored = count(database, "SELECT count(*) FROM history_job")[0][0]
    assert 0 < stored < 3000, "the worker was not killed mid-backfill"
    assert stored % 100 == 0  # whole pages only: each page is stored in one transaction
    # Killed: its run says "running" and its key is leased, until the lease lapses.
    assert count(database, "SELECT state FROM history_syncrun") == [("running",)]
    (cursor,) = count(database, "SELECT cursor FROM providers_credential")[0]
    resume = json.loads(cursor)[""]["resume"]
    assert resume >= 1  # its place in the history was saved as it went

    time.sleep(2.2)  # the lease (2 s here, 30 s in production) lapses without renewals
    report = json.loads(manage("shell", "-c", RESUME).strip().splitlines()[-1])
    assert report["queued"] == 1 and len(report["interrupted"]) == 1
    assert report["state"] == "done"
    assert count(database, "SELECT count(*) FROM history_job")[0][0] == 3000
    # It went on from the saved place: page 0 (nothing new), then from `resume` to the end
    # (pages 0-29 hold the jobs, page 30 comes back empty), not the whole history again.
    assert report["pages"] == 1 + (31 - resume)
    assert count(database, "SELECT state FROM history_syncrun ORDER BY id") == [("interrupted",), ("done",)]


@pytest.mark.django_db
def test_after_each_sync_the_keys_of_a_dead_worker_are_queued_at_once(alice, unreachable_providers):
    now = timezone.now()
    mine = make_credential(alice, label="mine")
    dead = make_credential(alice, label="dead", lease_until=now - timedelta(seconds=1), lease_token=uuid.uuid4())
    lost = make_credential(
        alice, label="taken off the queue", enqueued=now - tasks.REQUEUE_AFTER - timedelta(seconds=1)
    )
    waiting = make_credential(alice, label="waiting its turn", enqueued=now - timedelta(seconds=5))
    summary = tasks.sync_key(mine.pk)
    assert summary["credential"] == mine.pk and summary["state"] == "failed"  # a plain summary
    assert sorted(task["args"][0] for task in queued_tasks()) == sorted([dead.pk, lost.pk])
    assert waiting.pk


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis broker (the ORM broker keeps arrival order)")
@pytest.mark.django_db
def test_a_dead_workers_keys_go_ahead_of_the_queue(alice):
    waiting = make_credential(alice, label="waiting")
    tasks.queue_syncs([waiting.pk])
    dead = make_credential(
        alice, label="dead", lease_until=timezone.now() - timedelta(seconds=1), lease_token=uuid.uuid4()
    )
    assert tasks.requeue_lost() == [dead.pk]
    assert [task["args"][0] for task in queued_tasks()] == [dead.pk, waiting.pk]
