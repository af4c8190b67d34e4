"""The 30-day strip folds away and stays folded per person (preferences.views.strip); a folded
strip is not computed."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from history import dashboard
from history.models import Job
from preferences.models import HistoryPreferences
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

FOLD = "/preferences/history/strip/"
STRIP = {"HX-Request": "true", "HX-Target": "dash"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def jobs(alice):
    key = make_credential(alice, "apimall", label="Mall")
    now = timezone.now()
    for n in range(3):
        when = now - timedelta(days=n)
        Job.objects.create(credential=key, provider="apimall", kind="audio", external_id=f"j{n}", created=when)
    return key


@pytest.fixture
def strips(monkeypatch):
    """How many times the strip was computed."""
    calls = []
    real = dashboard.dashboard

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard, "dashboard", counted)
    return calls


def test_folding_is_remembered_and_the_folded_strip_is_not_computed(alice_client, alice, jobs, strips):
    page = alice_client.get("/history/").text
    assert '<div class="dash-grid">' in page and "Fold away" in page and len(strips) == 1
    response = alice_client.post(FOLD, {"folded": "1", "next": "/history/?provider=apimall"})
    assert response.status_code == 302 and response.headers["Location"] == "/history/?provider=apimall"
    assert HistoryPreferences.objects.get(user=alice).strip_folded
    page = alice_client.get("/history/?provider=apimall").text
    assert '<section class="card dash dash-folded" id="dash"' in page and '<div class="dash-grid">' not in page
    assert 'aria-expanded="false"' in page and ">Show</span>\n<svg" in page
    assert len(strips) == 1  # not computed while folded
    # The rows are still there, and a filter change keeps the strip folded.
    assert page.count('class="job job-') == 3
    results = alice_client.get("/history/?kind=audio", headers={"HX-Request": "true", "HX-Target": "history-results"})
    assert "dash-folded" in results.text and len(strips) == 1
    alice_client.post(FOLD, {"folded": "0", "next": "/history/"})
    assert '<div class="dash-grid">' in alice_client.get("/history/").text and len(strips) == 2


def test_htmx_gets_the_strip_alone_after_the_redirect(alice_client, jobs, strips):
    # htmx follows the fold's redirect with its own headers: the history answers the strip only.
    alice_client.post(FOLD, {"folded": "1", "next": "/history/"}, headers=STRIP)
    folded = alice_client.get("/history/", headers=STRIP).text
    assert folded.count("<section") == 1
    assert "dash-folded" in folded and 'id="rows"' not in folded and not strips
    alice_client.post(FOLD, {"folded": "0", "next": "/history/?provider=apimall"}, headers=STRIP)
    shown = alice_client.get("/history/?provider=apimall", headers=STRIP).text
    assert '<div class="dash-grid">' in shown and ", with the filters above" in shown and 'id="rows"' not in shown
    assert len(strips) == 1


def test_each_person_folds_their_own(client, alice, bob, jobs):
    client.force_login(alice)
    client.post(FOLD, {"folded": "1"})
    make_credential(bob, "munsit", label="Bob's")
    Job.objects.create(
        credential=bob.credentials.get(),
        provider="munsit",
        kind="denoise",
        external_id="b",
        title="b",
        created=timezone.now(),
    )
    client.force_login(bob)
    assert '<div class="dash-grid">' in client.get("/history/").text


def test_bad_fold_requests(alice_client, client):
    assert alice_client.post(FOLD, {"folded": "maybe"}).status_code == 400
    assert alice_client.get(FOLD).status_code == 405
    away = alice_client.post(FOLD, {"folded": "1", "next": "//elsewhere.example/"})
    assert away.status_code == 302 and away.headers["Location"] == "/history/"
    client.logout()
    anonymous = client.post(FOLD, {"folded": "1"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["Location"]
