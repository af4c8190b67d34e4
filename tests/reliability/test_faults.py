"""Every simulator fault against `manage.py sync`: nothing crashes, nothing stored is lost,
no call after a 401 or before a Retry-After. Then a canary key, saved through the key form
and run through every fault, is looked for everywhere a secret could leak. The figures are
printed (run with -s to see them beside a passing test); timings are reported, never asserted.

One test, because the faults are what the canary is run through (and take a while).
"""

import io
import logging

import pytest
from django.core.management import call_command
from django.test import Client

from history.models import Job
from providers.http import Http
from providers.models import Credential
from teams import actions

from .canary import ROLES, admin_pages, in_database, in_pages, in_task_rows, pages
from .harness import faults, make_keys, play, report

pytestmark = pytest.mark.django_db

# A key the simulator accepts; it echoes it back below, as a careless provider might.
CANARY = "sim-audiopod-CANARYq7Zx9-n40"


@pytest.fixture
def short_timeouts(monkeypatch):
    """The real timeouts (5 s connect, 30 s read, 60 s a request) scaled down to seconds."""
    http = Http(connect_timeout=0.5, read_timeout=0.5, deadline=1.0)
    monkeypatch.setattr("providers.base.default_http", lambda: http)


def test_every_provider_fault_then_a_canary_key_everywhere(
    simulator, client, alice, django_user_model, admin_user, short_timeouts, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    world = simulator.world
    world.new_every = 0
    client.force_login(alice)
    saved = client.post("/keys/new/", {"provider": "audiopod", "label": "canary", "secret": CANARY})
    assert saved.status_code == 302
    canary = Credential.objects.get(label="canary")
    account = world.account(CANARY)
    world.update(next(world.scan(account, next(iter(account.streams)))), display_name=f"made with {CANARY}")

    keys = [canary, *make_keys(alice, world, per_provider=2, jobs=30)]
    call_command("sync", stdout=io.StringIO())  # the history as it stands before any fault
    assert Job.objects.filter(credential=canary, title="made with …-n40").exists()  # the echo came, masked
    results = [play(fault, simulator, keys) for fault in faults(hang=0.8, drip=0.05, slow=0.1)]

    team = actions.create_team(alice, "Studio")
    people = {"owner": alice, "outsider": django_user_model.objects.create_user("olga", "o@example.test", "x")}
    for role in ("admin", "member", "viewer"):
        people[role] = django_user_model.objects.create_user(role + "-user", f"{role}@example.test", "x")
        actions.add_member(alice, team, people[role], role)
    actions.share(alice, team, canary)
    leaks = {}
    for role in ROLES:
        browser = Client()
        browser.force_login(people[role])
        leaks[role] = in_pages(browser, pages(canary, team), CANARY)
    operator = Client()
    operator.force_login(admin_user)
    leaks["admin site"] = in_pages(operator, admin_pages(), CANARY)
    leaks["task rows"] = in_task_rows(CANARY)
    leaks["logs"] = caplog.text.count(CANARY)
    leaks["database dump"] = in_database(CANARY)

    with capsys.disabled():
        print("\n" + report(results))
        print("secret canary, occurrences outside ciphertext:")
        for where, found in leaks.items():
            print(f"  {where}: {sum(found.values()) if isinstance(found, dict) else found}")
    assert len(results) == 14
    for figures in results:
        assert (figures.crashes, figures.rows_lost) == (0, 0), figures
        assert (figures.calls_after_401, figures.calls_before_retry_after) == (0, 0), figures
    assert all(not found for found in leaks.values()), leaks
