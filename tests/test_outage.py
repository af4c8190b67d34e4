"""A provider that does not answer costs one key's timeout per run, not one per key."""

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from history.models import SyncRun
from history.sync import sync_credential
from providers.http import Http
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def short_timeouts(monkeypatch):
    http = Http(connect_timeout=0.5, read_timeout=0.5, deadline=1.0)
    monkeypatch.setattr("providers.base.default_http", lambda: http)


@pytest.fixture
def keys(alice, simulator):
    simulator.world.new_every = 0
    munsit = [make_credential(alice, "munsit", f"m{n}", f"sim-munsit-k{n}-n10", status="ok") for n in range(3)]
    apimall = make_credential(alice, "apimall", "a0", "sim-apimall-k0-n10", status="ok")
    return munsit, apimall


def requests_by(world, provider: str) -> int:
    return len(world.log.entries(provider=provider))


def test_a_hanging_provider_is_asked_once_per_pass(simulator, short_timeouts, keys):
    munsit, _ = keys
    simulator.world.faults.set("munsit", latency=0.8)
    out = io.StringIO()
    call_command("sync", stdout=out)
    text = out.getvalue()
    assert text.count("did not answer just now") == 2, text  # the second and third key waited
    assert "a0 (apimall" in text and "10 new" in text  # other providers go on as usual
    for waited in munsit[1:]:
        waited.refresh_from_db()
        assert waited.failures == 0 and waited.next_sync is None  # still due, no failure of their own
    first = munsit[0]
    first.refresh_from_db()
    assert first.failures == 1 and "did not answer in time" in first.sync_error


def test_a_worker_skips_the_provider_until_the_next_run(simulator, short_timeouts, keys):
    munsit, _ = keys
    simulator.world.faults.set("munsit", latency=0.8)
    assert sync_credential(munsit[0].pk).provider_down
    simulator.world.faults.reset()
    simulator.world.log.clear()
    skipped = sync_credential(munsit[1].pk)
    assert skipped.run.state == SyncRun.State.SKIPPED and "next run" in skipped.run.message
    assert requests_by(simulator.world, "munsit") == 0
    cache.clear()  # the minute is over: the next dispatch
    assert sync_credential(munsit[1].pk).error == ""
    assert requests_by(simulator.world, "munsit") > 0


def test_a_provider_that_answers_with_errors_is_not_down(simulator, short_timeouts, keys):
    simulator.world.faults.set("munsit", error_rate=1.0)
    out = io.StringIO()
    call_command("sync", stdout=out)
    assert "did not answer just now" not in out.getvalue()
    assert {e.key for e in simulator.world.log.entries(provider="munsit")} == {f"sim-munsit-k{n}-n10" for n in range(3)}


def test_a_slow_provider_gets_its_share_of_the_pass(simulator, settings, alice):
    simulator.world.new_every = 0
    slow = [make_credential(alice, "munsit", f"s{n}", f"sim-munsit-s{n}-n1000", status="ok") for n in range(3)]
    fast = make_credential(alice, "audiopod", "f0", "sim-audiopod-f0-n10", status="ok")
    simulator.world.faults.set("munsit", latency=0.3)  # every page answers, slowly
    settings.GENBOARD_PROVIDER_PASS_BUDGET = 0.5
    out = io.StringIO()
    call_command("sync", stdout=out)
    text = out.getvalue()
    assert text.count("used this pass's 0.5 s: this key waits for the next run") == 2, text
    first = slow[0]
    first.refresh_from_db()
    # Stopped by the share, not failed: it resumes where it stopped on the next run.
    assert first.failures == 0 and first.cursor[""]["resume"] >= 1 and first.next_sync <= timezone.now()
    assert "f0 (audiopod" in text and "10 new" in text  # the other provider has its own share
    for waited in slow[1:]:
        waited.refresh_from_db()
        assert waited.next_sync is None and not SyncRun.objects.filter(credential=waited).exists()
    assert fast.sync_runs.get().state == SyncRun.State.DONE
