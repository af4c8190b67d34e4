"""Every simulator fault against `manage.py sync`: nothing crashes, nothing stored is lost,
no call after a 401 or before a Retry-After. The figures are printed (run with -s to see
them with a passing test); timings are reported, never asserted."""

import io

import pytest
from django.core.management import call_command

from providers.http import Http

from .harness import faults, make_keys, play, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def short_timeouts(monkeypatch):
    """The real timeouts (5 s connect, 30 s read, 60 s a request) scaled down to seconds."""
    http = Http(connect_timeout=1.0, read_timeout=1.0, deadline=2.0)
    monkeypatch.setattr("providers.base.default_http", lambda: http)


def test_every_provider_fault(simulator, alice, short_timeouts, capsys):
    simulator.world.new_every = 0
    keys = make_keys(alice, simulator.world, per_provider=3, jobs=60)
    call_command("sync", stdout=io.StringIO())  # the history as it stands before any fault
    results = [play(fault, simulator, keys) for fault in faults(hang=1.5, drip=0.05)]
    with capsys.disabled():
        print("\n" + report(results))
    assert len(results) == 14
    for figures in results:
        assert (figures.crashes, figures.rows_lost) == (0, 0), figures
        assert (figures.calls_after_401, figures.calls_before_retry_after) == (0, 0), figures
