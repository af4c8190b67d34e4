"""The whole sync against the provider simulator, over real HTTP on loopback."""

import io
import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from history import sync
from history.models import Job, SyncRun
from history.sync import sync_credential
from providers.models import Credential
from providers.simulator import apikley as sim_apikley
from providers.simulator import apimall as sim_apimall
from providers.simulator import audiopod as sim_audiopod
from providers.simulator.world import external_id
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


def truth(world, key: str) -> dict[str, str]:
    """What the simulator says of every job of the key: external id -> succeeded, failed,
    canceled or unfinished (DESIGN.md's mapping, with statuses no one documents counted as
    unfinished)."""
    account = world.account(key)
    now = world.now()
    result = {}
    for stream in account.streams:
        for job in world.scan(account, stream):
            if account.provider == "apimall":
                said = sim_apimall.status(job, now)
                state = {"completed": "succeeded", "failed": "failed", "canceled": "canceled"}.get(said, "unfinished")
            elif account.provider == "audiopod":
                said = sim_audiopod.outcome(job, now)
                finals = {"COMPLETED": "succeeded", "FAILED": "failed", "ERROR": "failed", "CANCELLED": "canceled"}
                state = finals.get(said, "unfinished")
            elif account.provider == "apikley" and job.done(now):
                # CALLBACK_EXCEPTION comes with finished tracks: the music is there.
                said = sim_apikley.render(job, now, "http://sim")["status"]
                state = "succeeded" if said in ("SUCCESS", "CALLBACK_EXCEPTION") else "failed"
            else:
                state = ("failed" if job.failed else "succeeded") if job.done(now) else "unfinished"
            result[str(external_id(job))] = state
    return result


def stored(credential) -> dict[str, str]:
    return {
        ext: ("unfinished" if status in Job.UNFINISHED else status)
        for ext, status in Job.objects.filter(credential=credential).values_list("external_id", "status")
    }


def make_due(credential) -> None:
    """Pretend the poll gaps passed (our clock is real, the simulator's is fake)."""
    Job.objects.filter(credential=credential, next_poll__isnull=False).update(next_poll=timezone.now())


def make_only_these_due(credential, pks) -> None:
    """Of the key's jobs waiting for a poll, these are due; the others were polled a moment ago."""
    Job.objects.filter(credential=credential, next_poll__isnull=False).update(
        next_poll=timezone.now() + timedelta(minutes=5)
    )
    Job.objects.filter(pk__in=pks).update(next_poll=timezone.now())


@pytest.fixture
def quiet_world(simulator):
    simulator.world.new_every = 0
    return simulator.world


@pytest.mark.parametrize("provider", ["apimall", "audiopod", "munsit"])
def test_full_import_then_nothing_new(quiet_world, alice, provider):
    key = f"sim-{provider}-full-n230"
    credential = make_credential(alice, provider=provider, secret=key)
    outcome = sync_credential(credential.pk)
    assert outcome.error == ""
    assert stored(credential) == truth(quiet_world, key)
    assert Job.objects.filter(credential=credential).count() == 230
    credential.refresh_from_db()
    assert all(state == {"done": True} for state in credential.cursor.values())
    assert credential.status == Credential.Status.OK  # a key that syncs is a working key

    # Running it again imports nothing new and stops after the first pages.
    before = quiet_world.log.count(key=key)
    run = sync_credential(credential.pk).run
    run.refresh_from_db()
    assert (run.new, run.state) == (0, SyncRun.State.DONE)
    assert Job.objects.filter(credential=credential).count() == 230
    # Only the head is read again: pages up to one without anything new or unfinished.
    assert quiet_world.log.count(key=key) - before < before


def test_incremental_import_reads_only_the_head(quiet_world, alice):
    key = "sim-apimall-inc-n400"
    credential = make_credential(alice, provider="apimall", secret=key)
    sync_credential(credential.pk)
    quiet_world.clock.advance(600)  # everything finishes
    new_ids = quiet_world.add_jobs(key, 3)
    before = quiet_world.log.count(key=key)
    run = sync_credential(credential.pk).run
    run.refresh_from_db()
    assert run.new == 3
    assert set(map(str, new_ids)) <= set(stored(credential))
    assert quiet_world.log.count(key=key) - before < 8  # not the whole history (8 pages)


def test_unfinished_jobs_finish(quiet_world, alice):
    key = "sim-munsit-poll"
    credential = make_credential(alice, provider="munsit", secret=key)
    sync_credential(credential.pk)
    unfinished = Job.objects.filter(credential=credential, status__in=Job.UNFINISHED)
    assert unfinished.exists() and all(job.next_poll for job in unfinished)
    quiet_world.clock.advance(300)
    make_due(credential)
    sync_credential(credential.pk)
    assert not Job.objects.filter(credential=credential, status__in=Job.UNFINISHED).exists()
    assert stored(credential) == truth(quiet_world, key)
    done = Job.objects.filter(credential=credential, status="succeeded").first()
    assert done.outputs and done.outputs[0]["url"].startswith("http") and done.next_poll is None


@pytest.mark.parametrize(("provider", "page_size"), [("munsit", 100), ("audiopod", 100)])
def test_a_refresh_reads_on_while_due_jobs_lie_deeper_and_no_further(quiet_world, alice, provider, page_size):
    key = f"sim-{provider}-head-n450"
    credential = make_credential(alice, provider=provider, secret=key)
    sync_credential(credential.pk)
    newest_first = list(Job.objects.filter(credential=credential).order_by("-created", "-id"))
    head = [job.pk for job in newest_first[: 2 * page_size] if job.status in Job.UNFINISHED]
    assert any(pk in head for pk in [job.pk for job in newest_first[page_size : 2 * page_size]])
    make_only_these_due(credential, head)  # the unfinished jobs of the first two pages
    before = quiet_world.log.count(key=key)
    sync_credential(credential.pk)
    # Not a third page: no due job lies there. (AudioPod: plus one look at Score-first jobs.)
    score_first = provider == "audiopod"
    assert quiet_world.log.count(key=key) - before == 2 + score_first


def test_a_due_job_far_down_is_refreshed_without_the_pages_above_it(quiet_world, alice):
    key = "sim-munsit-deep-n450"
    credential = make_credential(alice, provider="munsit", secret=key)
    sync_credential(credential.pk)
    newest_first = list(Job.objects.filter(credential=credential).order_by("-created", "-id"))
    head = next(job for job in newest_first[:100] if job.status in Job.UNFINISHED)
    deep = newest_first[350]  # on page 3 of 100; finished long ago, but we think it runs
    assert deep.status == "succeeded"
    Job.objects.filter(pk=deep.pk).update(status="running", completed=None)
    make_only_these_due(credential, [head.pk, deep.pk])
    before = quiet_world.log.count(key=key)
    sync_credential(credential.pk)
    assert quiet_world.log.count(key=key) - before == 2  # the head, then straight to page 3
    deep.refresh_from_db()
    assert (deep.status, deep.next_poll) == ("succeeded", None)


def test_a_burst_made_in_one_instant_is_refreshed_page_after_page(quiet_world, alice):
    key = "sim-munsit-burst-n300"
    credential = make_credential(alice, provider="munsit", secret=key)
    sync_credential(credential.pk)
    quiet_world.clock.advance(86_400 * 30)  # the old jobs are long finished
    sync_credential(credential.pk)
    stuck = set(Job.objects.filter(credential=credential, status__in=Job.UNFINISHED).values_list("pk", flat=True))
    quiet_world.add_jobs(key, 250)  # one creation time for all of them
    sync_credential(credential.pk)
    burst = Job.objects.filter(credential=credential, status__in=Job.UNFINISHED).exclude(pk__in=stuck)
    assert burst.count() == 250 and len(set(burst.values_list("created", flat=True))) == 1
    quiet_world.clock.advance(3600)  # they finish
    burst.update(next_poll=timezone.now())  # due now; the few stuck old ones are not
    before = quiet_world.log.count(key=key)
    sync_credential(credential.pk)
    assert not burst.exists()
    assert quiet_world.log.count(key=key) - before == 3  # their three pages of 100, read once


def test_due_jobs_deep_in_a_burst_are_found_on_the_pages_it_fills(quiet_world, alice):
    key = "sim-munsit-tail-n0"
    credential = make_credential(alice, provider="munsit", secret=key)
    sync_credential(credential.pk)
    quiet_world.add_jobs(key, 250)  # one creation time for all: positions only say "pages 0-2"
    sync_credential(credential.pk)
    quiet_world.clock.advance(3600)  # they finish
    newest_first = list(Job.objects.filter(credential=credential).order_by("-created", "id"))
    tail = [job.pk for job in newest_first[-3:]]  # on page 2 at the provider
    make_only_these_due(credential, tail)
    before = quiet_world.log.count(key=key)
    sync_credential(credential.pk)
    assert not Job.objects.filter(pk__in=tail, status__in=Job.UNFINISHED).exists()
    # The head (nothing due on it: the walk stops), then pages 1 and 2, where they may be.
    assert quiet_world.log.count(key=key) - before == 3


def test_a_status_never_moves_back(quiet_world, alice):
    credential = make_credential(alice, provider="munsit", secret="sim-munsit-late")
    sync_credential(credential.pk)
    job = Job.objects.filter(credential=credential, status="running").first()
    Job.objects.filter(pk=job.pk).update(status="succeeded", provider_status="success")
    make_due(credential)
    sync_credential(credential.pk)  # the provider still says "pending" for it
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_polls_back_off_and_give_up_after_a_day(quiet_world, alice):
    credential = make_credential(alice, provider="munsit", secret="sim-munsit-slow")
    sync_credential(credential.pk)
    job = Job.objects.filter(credential=credential, status="running").first()
    gaps = []
    for _ in range(4):
        make_due(credential)
        before = timezone.now()
        sync_credential(credential.pk)
        job.refresh_from_db()
        gaps.append(round((job.next_poll - before).total_seconds()))
    assert gaps == sorted(gaps) and gaps[0] >= 10 and gaps[-1] > gaps[0]
    Job.objects.filter(pk=job.pk).update(polling_since=timezone.now() - sync.GIVE_UP_AFTER * 2)
    make_due(credential)
    sync_credential(credential.pk)
    job.refresh_from_db()
    assert job.stale and job.next_poll is None and job.status == "running"  # not claimed done


def test_a_restart_is_the_one_way_back_and_polling_starts_afresh(quiet_world, alice):
    credential = make_credential(alice, provider="munsit", secret="sim-munsit-again")
    sync_credential(credential.pk)
    job = Job.objects.filter(credential=credential, status="failed").first()
    old = timezone.now() - sync.GIVE_UP_AFTER * 3
    Job.objects.filter(pk=job.pk).update(imported=old, polling_since=None)
    sync.restart(job, "pending")
    job.refresh_from_db()
    assert (job.status, job.error, job.completed, job.stale) == ("pending", "", None, False)
    assert job.imported == old and job.polling_since > old and job.next_poll  # its history is kept
    sync.schedule_poll(job, timezone.now(), progressed=False)
    assert not job.stale  # a day from the retry, not from the import


def test_poll_gap_doubles_from_10_s_to_10_min():
    assert [sync.poll_gap(n).total_seconds() for n in (0, 1, 2, 5, 6, 500)] == [10, 20, 40, 320, 600, 600]


def test_rate_limit_pauses_the_key_for_retry_after(quiet_world, alice):
    credential = make_credential(alice, provider="apimall", secret="sim-apimall-busy")
    quiet_world.faults.set("apimall", rate_limited=True, retry_after=42)
    outcome = sync_credential(credential.pk)
    credential.refresh_from_db()
    assert "Rate limited" in credential.sync_error and outcome.error
    wait = (credential.paused_until - timezone.now()).total_seconds()
    assert 35 < wait <= 42
    assert quiet_world.log.count(key="sim-apimall-busy") == 1  # stopped at the first 429
    out = io.StringIO()
    call_command("sync", stdout=out)
    assert "waiting until" in out.getvalue()
    assert quiet_world.log.count(key="sim-apimall-busy") == 1


def test_rejected_key_makes_no_more_calls_until_saved_again(quiet_world, alice):
    credential = make_credential(alice, provider="audiopod", secret="wrong-key-for-audiopod", status="ok")
    sync_credential(credential.pk)
    credential.refresh_from_db()
    assert credential.status == Credential.Status.REJECTED and "Invalid API key" in credential.last_error
    calls = quiet_world.log.count(provider="audiopod")
    sync_credential(credential.pk)
    call_command("sync", stdout=io.StringIO())
    assert quiet_world.log.count(provider="audiopod") == calls
    credential.set_secret("sim-audiopod-fixed")
    credential.save()
    sync_credential(credential.pk)
    credential.refresh_from_db()
    assert credential.status == Credential.Status.OK and Job.objects.filter(credential=credential).count() == 150


def test_truncated_json_is_survived_and_nothing_is_lost(quiet_world, alice):
    key = "sim-audiopod-flaky-n250"
    credential = make_credential(alice, provider="audiopod", secret=key)
    quiet_world.faults.set("audiopod", truncate_rate=1.0)
    outcome = sync_credential(credential.pk)
    credential.refresh_from_db()
    assert "malformed" in outcome.error and credential.failures == 1 and credential.paused_until
    quiet_world.faults.reset()
    Credential.objects.filter(pk=credential.pk).update(paused_until=None)
    assert sync_credential(credential.pk).error == ""
    assert stored(credential) == truth(quiet_world, key)


def test_server_errors_back_off_with_growing_jittered_delays(quiet_world, alice):
    credential = make_credential(alice, provider="munsit", secret="sim-munsit-down")
    quiet_world.faults.set("munsit", error_rate=1.0, error_status=503)
    waits = []
    for _ in range(3):
        Credential.objects.filter(pk=credential.pk).update(paused_until=None)
        sync_credential(credential.pk)
        credential.refresh_from_db()
        waits.append((credential.paused_until - timezone.now()).total_seconds())
    assert credential.failures == 3
    assert 15 <= waits[0] <= 45 and 60 <= waits[2] <= 180


def test_a_backfill_stopped_midway_resumes(quiet_world, alice, settings):
    key = "sim-munsit-big-n400"
    credential = make_credential(alice, provider="munsit", secret=key)
    settings.GENBOARD_RUN_BUDGET = 0  # one page per run
    sync_credential(credential.pk)
    credential.refresh_from_db()
    assert credential.cursor[""] == {"resume": 1} and Job.objects.filter(credential=credential).count() == 100
    sync_credential(credential.pk)  # page 0 again (nothing new), then on from page 1
    assert Job.objects.filter(credential=credential).count() == 200
    settings.GENBOARD_RUN_BUDGET = 60
    sync_credential(credential.pk)
    assert stored(credential) == truth(quiet_world, key)


def test_a_leased_key_is_left_alone(quiet_world, alice):
    credential = make_credential(alice, provider="munsit", secret="sim-munsit-leased")
    assert sync.claim(credential.pk, uuid.uuid4())
    outcome = sync_credential(credential.pk)
    assert outcome.run.state == SyncRun.State.SKIPPED
    assert quiet_world.log.count(key="sim-munsit-leased") == 0
    # An expired lease (a worker that died) is taken over.
    Credential.objects.filter(pk=credential.pk).update(lease_until=timezone.now())
    assert sync_credential(credential.pk).run.state == SyncRun.State.DONE


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_two_concurrent_syncs_of_one_key_do_the_work_once(quiet_world, alice):
    credential = make_credential(alice, provider="apimall", secret="sim-apimall-race-n300")
    quiet_world.faults.set("apimall", latency=0.05)
    outcomes = []

    def worker():
        outcomes.append(sync_credential(credential.pk))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    states = sorted(o.run.state for o in outcomes)
    assert states == [SyncRun.State.DONE, SyncRun.State.SKIPPED]
    assert Job.objects.filter(credential=credential).count() == 300


def test_apikley_imported_tasks_are_refreshed_one_by_one(quiet_world, alice, alice_client):
    key = "sim-apikley-songs"
    credential = make_credential(alice, provider="apikley", secret=key)
    ids = quiet_world.task_ids(key)[:6]
    response = alice_client.post(
        "/history/import/", {"credential": credential.code, "task_ids": "\n".join([*ids, "nosuchtask999"])}
    )
    assert response.status_code == 302
    assert Job.objects.filter(credential=credential).count() == 7
    sync_credential(credential.pk)
    assert quiet_world.log.count(key=key, endpoint="GET /api/v1/generate/record-info") == 7
    unknown = Job.objects.get(credential=credential, external_id="nosuchtask999")
    # Not known yet (just created, as far as anyone can tell): still pending, asked again.
    assert unknown.status == "pending" and unknown.next_poll and not unknown.error
    Job.objects.filter(pk=unknown.pk).update(imported=timezone.now() - timedelta(minutes=61))
    make_due(credential)
    sync_credential(credential.pk)
    unknown.refresh_from_db()
    assert unknown.status == "failed" and "not found at apikley" in unknown.error.lower()
    assert unknown.next_poll is None
    done = Job.objects.filter(credential=credential, status="succeeded").first()
    tracks = [o for o in done.outputs if o["kind"] == "audio"]
    assert len(tracks) == 2 and all(t["title"] and t["duration"] for t in tracks)


def test_apikley_per_task_rate_limit_only_delays_that_task(quiet_world, alice):
    key = "sim-apikley-busy"
    credential = make_credential(alice, provider="apikley", secret=key, status="ok")
    ids = quiet_world.task_ids(key)[:3]
    now = timezone.now()
    for ext in ids:
        Job.objects.create(
            credential=credential,
            provider="apikley",
            kind="music",
            external_id=ext,
            status="pending",
            created=now,
            next_poll=now,
        )
    quiet_world.faults.set("apikley", rate_limited=True)
    outcome = sync_credential(credential.pk)
    credential.refresh_from_db()
    assert outcome.error == "" and credential.paused_until is None
    assert all(job.next_poll > now for job in Job.objects.filter(credential=credential))


def test_sync_command_reports_each_key_and_exits_zero_when_providers_fail(quiet_world, alice, bob):
    make_credential(alice, provider="munsit", secret="sim-munsit-cmd")
    make_credential(alice, provider="apimall", secret="sim-apimall-cmd", label="Broken")
    make_credential(bob, provider="munsit", secret="sim-munsit-bob")
    quiet_world.faults.set("apimall", error_rate=1.0)
    out = io.StringIO()
    call_command("sync", "--user", "alice", stdout=out)
    text = out.getvalue()
    assert "alice / munsit key" in text and "150 new" in text
    assert "alice / Broken" in text and "error:" in text
    assert "bob" not in text and "2 key(s) synced." in text
    out = io.StringIO()
    call_command("sync", "--provider", "munsit", stdout=out)
    assert "bob / munsit key" in out.getvalue()
    with pytest.raises(Exception, match="No user named"):
        call_command("sync", "--user", "nobody")


def test_every_job_exactly_once_in_the_export(quiet_world, alice, alice_client, settings):
    keys = {p: f"sim-{p}-final" for p in ("apimall", "audiopod", "munsit")}
    credentials = [make_credential(alice, provider=p, secret=k) for p, k in keys.items()]
    apikley = make_credential(alice, provider="apikley", secret="sim-apikley-final")
    task_ids = quiet_world.task_ids("sim-apikley-final")
    alice_client.post("/history/import/", {"credential": apikley.code, "task_ids": " ".join(task_ids)})
    for _ in range(3):
        call_command("sync", stdout=io.StringIO())
        quiet_world.clock.advance(300)
        for credential in [*credentials, apikley]:
            make_due(credential)
    exported = alice_client.get("/history/export.json")
    rows = json.loads(b"".join(exported.streaming_content))
    expected = {}
    for provider, key in keys.items():
        expected.update({(provider, ext): status for ext, status in truth(quiet_world, key).items()})
    expected.update({("apikley", ext): status for ext, status in truth(quiet_world, "sim-apikley-final").items()})
    finished = ("succeeded", "failed", "canceled")
    got = {(r["provider"], r["external_id"]): r["status"] if r["status"] in finished else "unfinished" for r in rows}
    assert len(rows) == len(got) == len(expected)  # exactly once
    assert got == expected
    kinds = {(row["provider"], row["kind"]) for row in rows}
    assert kinds == {
        ("apimall", "audio"),
        ("apimall", "image"),
        ("audiopod", "music"),
        ("munsit", "denoise"),
        ("apikley", "music"),
    }
    suno = [row for row in rows if row["provider"] == "apikley" and row["status"] == "succeeded"]
    assert all(len([o for o in row["outputs"] if o["kind"] == "audio"]) == 2 for row in suno)
    mall = [row for row in rows if row["provider"] == "apimall"]
    assert all(isinstance(row["credits_used"], int | float) for row in mall if row["credits_used"] is not None)
    assert any(row["credits_used"] for row in mall)
