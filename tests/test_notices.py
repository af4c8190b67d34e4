"""The one summary line of key warnings and sync results above the history (history/notices.py,
templates/history/notices.html) and its dismissal (preferences.views.dismiss_notices)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history import notices
from history.models import SyncRun
from preferences.models import HistoryPreferences
from providers.models import Credential
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
DIGEST = re.compile(r'name="digest" value="([0-9a-f]{32})"')


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def finished_run(key, minutes_ago: float, new: int = 0, state=SyncRun.State.DONE, message: str = "") -> SyncRun:
    when = timezone.now() - timedelta(minutes=minutes_ago)
    return SyncRun.objects.create(
        credential=key,
        trigger=SyncRun.Trigger.SCHEDULE,
        state=state,
        created=when,
        finished=when,
        new=new,
        message=message,
    )


def summary_line(text: str) -> str:
    """The summary's words, as a person reads them (tags and spacing out)."""
    summary = re.search(r'<span class="notice-summary">(.*?)</span>\s*<span class="notice-more">', text, re.S).group(1)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", summary)).split())


def notices_section(text: str) -> str:
    return re.search(r'<section id="notices".*?</section>', text, re.S).group(0)


def dismiss(client, text: str, **extra):
    digest = DIGEST.search(text).group(1)
    return client.post("/preferences/history/notices/dismiss/", {"digest": digest, "next": "/history/"}, **extra)


@pytest.fixture
def keys(alice):
    mall = make_credential(alice, "apimall", label="Mall", status=Credential.Status.OK)
    pod = make_credential(
        alice, "audiopod", label="Pod", status=Credential.Status.REJECTED, last_error="Invalid API key"
    )
    suno = make_credential(alice, "apikley", label="Suno", status=Credential.Status.OUT_OF_CREDITS)
    return {"mall": mall, "pod": pod, "suno": suno}


def test_one_line_sums_up_the_keys_and_the_last_syncs(alice_client, keys):
    finished_run(keys["mall"], 30, new=20)
    finished_run(keys["mall"], 3, new=100)  # the key's latest: the one that counts
    finished_run(keys["suno"], 10, new=20)
    text = alice_client.get("/history/").text
    assert summary_line(text) == "2 keys need attention · last sync 3 minutes ago: 120 new"
    section = unescape(notices_section(text))
    assert "hidden" not in section.split(">", 1)[0]
    # The details under it: each key that needs attention, with the way to fix it, and each
    # key's latest sync.
    assert "AudioPod rejected your key “Pod”.</strong> Genboard stopped syncing it: Invalid API key" in section
    assert f'href="/keys/{keys["pod"].code}/">Fix the key' in section
    assert "Your key “Suno” is out of credits at Apikley (Suno)." in section
    assert f'href="/keys/{keys["suno"].code}/">Check the key' in section
    assert "<strong>Mall</strong>:\n          synced" in section and "100 new" in section
    # No banner per key any more: the line is the only one.
    assert text.count('class="alert alert-warning banner"') == 0 and text.count('<details class="notice-line"') == 1


def test_without_problems_the_line_says_how_the_syncs_went(alice_client, alice):
    key = make_credential(alice, "apimall", label="Mall", status=Credential.Status.OK)
    assert summary_line(alice_client.get("/history/").text) == "no sync yet"
    finished_run(key, 90, new=1)
    assert summary_line(alice_client.get("/history/").text) == "last sync an hour ago: 1 new"


def test_a_failed_sync_needs_attention_and_says_why(alice_client, alice):
    key = make_credential(alice, "apimall", label="Mall", status=Credential.Status.OK)
    finished_run(key, 2, state=SyncRun.State.FAILED, message="API Mall answered 500")
    text = alice_client.get("/history/").text
    assert summary_line(text).startswith("1 sync failed · last sync 2 minutes ago")
    assert "notices-attention" in text and "sync failed" in text and "API Mall answered 500" in text


def test_dismissed_it_stays_hidden_until_something_needs_action_anew(alice_client, alice, keys):
    text = alice_client.get("/history/").text
    response = dismiss(alice_client, text)
    assert response.status_code == 302 and response.headers["Location"] == "/history/"
    assert '<section id="notices" class="notices notices-attention" aria-label="Your keys and syncs" hidden>' in (
        alice_client.get("/history/").text
    )
    # A sync that only brought jobs is news, not a problem: still hidden.
    finished_run(keys["mall"], 1, new=5)
    assert notices_section(alice_client.get("/history/").text).split(">", 1)[0].endswith(" hidden")
    # A new problem shows the line again, with the new digest to dismiss.
    Credential.objects.filter(pk=keys["mall"].pk).update(status=Credential.Status.REJECTED, last_error="Forbidden")
    text = alice_client.get("/history/").text
    assert " hidden>" not in notices_section(text).split("\n", 1)[0]
    assert summary_line(text).startswith("3 keys need attention")
    dismiss(alice_client, text)
    # The same key's error changing is news too.
    Credential.objects.filter(pk=keys["mall"].pk).update(last_error="Forbidden: key revoked")
    assert " hidden>" not in notices_section(alice_client.get("/history/").text).split("\n", 1)[0]


def test_the_same_failure_again_stays_dismissed_another_shows(alice_client, alice):
    key = make_credential(alice, "apimall", label="Mall", status=Credential.Status.OK)
    finished_run(key, 5, state=SyncRun.State.FAILED, message="API Mall answered 500")
    dismiss(alice_client, alice_client.get("/history/").text)
    finished_run(key, 1, state=SyncRun.State.FAILED, message="API Mall answered 500")
    assert notices_section(alice_client.get("/history/").text).split(">", 1)[0].endswith(" hidden")
    finished_run(key, 0.5, state=SyncRun.State.FAILED, message="API Mall answered 429")
    assert not notices_section(alice_client.get("/history/").text).split(">", 1)[0].endswith(" hidden")


def test_a_sync_under_way_shows_its_live_progress_even_when_dismissed(alice_client, alice):
    key = make_credential(alice, "apimall", label="Mall", status=Credential.Status.OK)
    dismiss(alice_client, alice_client.get("/history/").text)
    run = SyncRun.objects.create(credential=key, trigger=SyncRun.Trigger.SCHEDULE, state=SyncRun.State.RUNNING, pages=3)
    text = alice_client.get("/history/").text
    section = notices_section(text)
    assert " hidden>" not in section.split("\n", 1)[0] and '<details class="notice-line" open>' in section
    assert summary_line(text) == "syncing 1 key…"
    assert f'hx-get="/history/sync/runs/{run.code}/" hx-trigger="every 1s"' in section and "3 pages read" in section
    SyncRun.objects.filter(pk=run.pk).update(state=SyncRun.State.DONE, finished=timezone.now(), new=7)
    assert notices_section(alice_client.get("/history/").text).split(">", 1)[0].endswith(" hidden")


def test_sync_now_answers_into_the_line(alice_client, alice):
    make_credential(alice, "apimall", label="Mall", status=Credential.Status.OK)
    text = alice_client.get("/history/").text
    # The buttons' answers land in #sync-area, inside the line's details.
    assert 'hx-target="#sync-area"' in text and '<div id="sync-area" class="sync-area">' in notices_section(text)
    response = alice_client.post("/history/sync/", headers=HX)
    assert response.status_code == 200 and "waiting for a worker" in response.text


def test_dismissing_answers_htmx_with_nothing_and_refuses_bad_input(alice_client, alice, client, keys):
    text = alice_client.get("/history/").text
    response = dismiss(alice_client, text, headers=HX)
    assert response.status_code == 204
    assert HistoryPreferences.objects.get(user=alice).dismissed_notices == DIGEST.search(text).group(1)
    bad = alice_client.post("/preferences/history/notices/dismiss/", {"digest": "<script>"})
    assert bad.status_code == 400
    assert alice_client.get("/preferences/history/notices/dismiss/").status_code == 405
    # Back to our own pages only.
    away = alice_client.post(
        "/preferences/history/notices/dismiss/", {"digest": "0" * 32, "next": "https://elsewhere.example/"}
    )
    assert away.status_code == 302 and away.headers["Location"] == "/history/"
    client.logout()
    anonymous = client.post("/preferences/history/notices/dismiss/", {"digest": "0" * 32})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["Location"]


def test_each_person_has_their_own_line(client, alice, bob, keys):
    client.force_login(alice)
    dismiss(client, client.get("/history/").text)
    client.force_login(bob)
    make_credential(bob, "apimall", label="Bob's", status=Credential.Status.REJECTED)
    text = client.get("/history/").text
    assert summary_line(text).startswith("1 key needs attention") and "Pod" not in notices_section(text)
    assert not notices_section(text).split(">", 1)[0].endswith(" hidden")


def test_someone_without_keys_of_their_own_has_no_line(client, bob):
    client.force_login(bob)
    assert 'id="notices"' not in client.get("/history/").text


def test_the_line_costs_the_same_queries_for_one_key_or_many(alice_client, alice):
    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get("/history/").status_code == 200
        return len(captured)

    first = make_credential(alice, "apimall", label="K0", status=Credential.Status.REJECTED)
    finished_run(first, 1, new=1)
    one = queries()
    for n in range(1, 6):
        key = make_credential(alice, "apimall", label=f"K{n}", status=Credential.Status.REJECTED)
        finished_run(key, n, new=n)
        finished_run(key, n + 1, state=SyncRun.State.FAILED, message="x")
        SyncRun.objects.create(credential=key, trigger=SyncRun.Trigger.MANUAL, state=SyncRun.State.QUEUED)
    many = queries()
    page = alice_client.get("/history/").text
    assert summary_line(page).startswith("6 keys need attention · syncing 5 keys…")
    assert many == one


def test_runs_are_those_under_way_and_each_keys_newest_finished_one(alice):
    a = make_credential(alice, "apimall", label="A")
    b = make_credential(alice, "munsit", label="B")
    finished_run(a, 10, new=1)
    newest_a = finished_run(a, 5, new=2)
    running = SyncRun.objects.create(credential=a, trigger=SyncRun.Trigger.MANUAL, state=SyncRun.State.RUNNING)
    queued = SyncRun.objects.create(credential=b, trigger=SyncRun.Trigger.MANUAL, state=SyncRun.State.QUEUED)
    # Queued longer than the window: its task was lost, it no longer counts as under way.
    lost = SyncRun.objects.create(credential=b, trigger=SyncRun.Trigger.MANUAL, state=SyncRun.State.QUEUED)
    SyncRun.objects.filter(pk=lost.pk).update(created=timezone.now() - timedelta(hours=1))
    only_b = finished_run(b, 20, state=SyncRun.State.FAILED, message="down")
    active, latest = notices.runs([a, b])
    assert active == [running, queued] and latest == [newest_a, only_b]
    assert [run.credential for run in active + latest] == [a, b, a, b]
    assert notices.runs([a]) == ([running], [newest_a])
    assert notices.runs([]) == ([], [])
