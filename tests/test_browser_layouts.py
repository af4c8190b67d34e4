"""The history's two layouts and every page on a phone, in Debian's headless Chromium: the
dense table shows 20 jobs above the fold at 1440×900, the layout and the columns are chosen
with the mouse or the keyboard and remembered, the play button plays inline, and no page
scrolls sideways at 360 px (tap targets 44 px there)."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from history.models import Export, Job
from preferences.history import DEFAULT_COLUMNS
from preferences.models import HistoryPreferences
from providers import balances
from providers.models import Credential
from teams.models import Member, Share, Team
from tests import test_browser
from tests.factories import make_credential
from tests.test_browser import Watched

# The browser tests' fixtures: one Chromium for the module, the live site, Alice's AudioPod key.
browser, new_context, site, sign_in, pod = (
    test_browser.browser,
    test_browser.new_context,
    test_browser.site,
    test_browser.sign_in,
    test_browser.pod,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 360, "height": 740}

# The rows whose whole box is on the first screen.
ROWS_ABOVE_THE_FOLD = """() => [...document.querySelectorAll("#rows > .job")].filter((row) => {
  const box = row.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0;
}).length"""
# Controls a finger taps that are shorter or narrower than 44 px (inline links in text are exempt).
SMALL_TARGETS = """() => [...document.querySelectorAll(
  "button, .btn, .pill, .chip, summary, .mainnav a, .tabs a, .play-button"
)].filter((el) => {
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const hidden = el.closest(".visually-hidden, [hidden], details:not([open]) > :not(summary)");
  if (!box.width || style.visibility === "hidden" || hidden) return false;
  return box.height < 43.5;
}).map((el) => el.tagName + "." + el.className + " " + (el.textContent || "").trim().slice(0, 30))"""

SIDEWAYS_TABLES = """() => [...document.querySelectorAll(".table-wrap, .jobs-table-wrap")]
  .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.className)"""


def header_ids(page) -> list[str]:
    return page.eval_on_selector_all(
        ".jobs-table thead th", "cells => cells.map(c => c.className.split(' ')[0].replace('col-', ''))"
    )


@pytest.fixture
def teamwork(alice, bob, pod):
    """A team with Bob's key shared, a job with a long unbroken title, a failed one with a long
    error, and a finished export: every page has its longest content."""
    team = Team.objects.create(name="Studio North", slug="studio")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.MEMBER)
    bobs = make_credential(bob, "apimall", label="Bob’s API Mall key with a long label")
    Share.objects.create(team=team, credential=bobs, shared_by=bob)
    Job.objects.create(
        credential=bobs, provider="apimall", kind="music", external_id="b-1", status="failed", title="W" * 120,
        error="Upstream said: " + "no " * 80, model="chirp-v4-5-plus-extended", created="2026-11-25T10:00:00Z",
    )  # fmt: skip
    export = Export.objects.create(owner=alice, format=Export.Format.CSV, query="status=failed")
    job = Job.objects.filter(credential=pod, status="succeeded").order_by("-created").first()
    return {"team": team, "export": export, "job": job}


SIGNED_IN_PAGES = [
    "/history/",
    "/history/?layout=table",
    "/history/?layout=table&status=failed",
    "{job}",
    "{job}remove/",
    "/keys/",
    "/keys/new/",
    "{key}",
    "/teams/",
    "/teams/new/",
    "/teams/studio/",
    "/teams/studio/members/",
    "/teams/studio/shares/",
    "/history/import/",
    "/history/exports/{export}/",
    "/accounts/email/",
    "/accounts/password/change/",
]
SIGNED_OUT_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES + SIGNED_OUT_PAGES)
def test_no_page_scrolls_sideways_on_a_phone(sign_in, new_context, site, pod, teamwork, path):
    if path in SIGNED_OUT_PAGES:
        watched = Watched(new_context(viewport=PHONE, has_touch=True), site.url)
    else:
        watched = sign_in(viewport=PHONE, has_touch=True)
    url = path.format(
        job=teamwork["job"].get_absolute_url(), key=pod.get_absolute_url(), export=teamwork["export"].code
    )
    page = watched.go(url)
    assert page.title() and "Not Found" not in page.title()
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{url} is {widths[0]} px wide at {widths[1]} px"
    # Tables stack into rows rather than scroll sideways inside their box.
    assert page.evaluate(SIDEWAYS_TABLES) == [], url
    assert page.evaluate(SMALL_TARGETS) == [], url
    watched.assert_clean()


@pytest.fixture
def busy_chrome(alice, pod):
    """What the demo shows above the table: balances on three keys (as long as the demo's),
    beside the pod's failures by reason and the notice line of the sync that imported it."""
    checked = timezone.now()
    for provider, label, amount, unit in [
        ("apikley", "Suno via Apikley", 10640, balances.CREDITS),
        ("apimall", "API Mall", 956, balances.CREDITS),
    ]:
        make_credential(alice, provider, label=label, balance_amount=amount, balance_unit=unit, balance_checked=checked)
    Credential.objects.filter(pk=pod.pk).update(
        label="AudioPod studio", balance_amount=Decimal("94.58"), balance_unit=balances.USD, balance_checked=checked
    )


def test_the_table_shows_twenty_jobs_above_the_fold_and_is_remembered(sign_in, pod, alice, busy_chrome):
    watched = sign_in(viewport=DESKTOP)
    page = watched.go("/history/")
    # Everything the demo shows above the list is there (the summaries are computed after the
    # fixture's changes: the test's cache starts empty).
    assert page.locator(".balances .balance-chip").count() == 3
    assert page.locator(".error-breakdown .chip").count() >= 2
    assert page.locator(".page-header .notices").count() == 1
    assert page.locator("#rows > li.job").count() == 50
    page.click("button[name=layout][value=table]")
    page.wait_for_selector("#rows > tr.job")
    assert page.get_attribute("button[name=layout][value=table]", "aria-pressed") == "true"
    assert page.evaluate(ROWS_ABOVE_THE_FOLD) >= 20
    assert page.locator("#rows > tr.job").count() == 50
    assert HistoryPreferences.objects.get(user=alice).layout == "table"
    # Remembered: in another browser too, unless the address asks for the cards.
    other = sign_in(viewport=DESKTOP).go("/history/")
    assert other.locator("#rows > tr.job").count() == 50
    other.goto(other.url + "?layout=cards")
    assert other.locator("#rows > li.job").count() == 50
    # Scrolling brings the next page as table rows.
    page.locator(".jobs-more").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelectorAll('#rows > tr.job').length === 100")
    watched.assert_clean()


def test_columns_are_chosen_and_moved_with_the_keyboard(sign_in, pod, alice):
    HistoryPreferences.objects.create(user=alice, layout="table")
    watched = sign_in(viewport=DESKTOP)
    page = watched.go("/history/")
    assert header_ids(page) == ["select", *DEFAULT_COLUMNS]
    page.focus("#columns-menu summary")
    page.keyboard.press("Enter")
    page.focus("#column-model")
    page.keyboard.press("Space")  # hide the model
    page.wait_for_function("() => !document.querySelector('.jobs-table thead .col-model')")
    page.wait_for_function("() => document.activeElement.id === 'column-model'")  # after the swap settles
    assert page.is_visible("#columns-menu .column-list")
    page.focus("#column-up-credits")
    page.keyboard.press("Enter")  # credits before duration
    page.wait_for_function("() => document.querySelector('.jobs-table thead .col-credits + .col-duration') !== null")
    page.wait_for_function("() => document.activeElement.id === 'column-up-credits'")
    page.keyboard.press("Enter")  # and before created
    page.wait_for_function("() => document.querySelector('.jobs-table thead .col-credits + .col-created') !== null")
    expected = ["star", "status", "title", "provider", "kind", "key", "credits", "created", "duration", "play"]
    assert HistoryPreferences.objects.get(user=alice).columns == expected
    page.reload()
    assert header_ids(page) == ["select", *expected]
    first = page.locator("#rows > tr.job").first
    assert re.findall(r"col-(\w+)", first.inner_html())[:4] == ["select", "star", "status", "title"]
    watched.assert_clean()


def test_the_play_button_plays_the_first_track_inline(sign_in, pod, alice):
    HistoryPreferences.objects.create(user=alice, layout="table")
    watched = sign_in(viewport=DESKTOP)
    page = watched.go("/history/?status=succeeded")
    button = page.locator("#rows .play-button").first
    src = button.get_attribute("data-play")
    button.click()
    page.wait_for_function("() => { const a = document.querySelector('.dock-player audio'); return a && !a.paused; }")
    assert page.evaluate("document.querySelector('.dock-player audio').src").endswith(src.split("/", 3)[-1])
    assert button.get_attribute("aria-pressed") == "true"
    assert page.locator("audio").count() == 1  # one shared player, no player per row
    button.click()
    page.wait_for_function("() => document.querySelector('.dock-player audio').paused")
    assert button.get_attribute("aria-pressed") == "false"
    watched.assert_clean()


@pytest.mark.parametrize("width", [1024, 1280])
def test_the_title_keeps_its_column_on_a_narrower_screen(sign_in, pod, alice, width):
    # Every column shown: the others' widths once left the title none below about 1100 px.
    HistoryPreferences.objects.create(user=alice, layout="table")
    page = sign_in(viewport={"width": width, "height": 800}).go("/history/")
    title = page.locator(".jobs-table thead .col-title").bounding_box()
    assert title["width"] >= 180, title
    assert page.locator("#rows > tr.job .col-title a").first.is_visible()
