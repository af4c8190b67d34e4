"""Saved views and public links in a real browser (Debian's headless Chromium, Playwright):
a view saved for a team after filtering with htmx, opened by a member from its tab; the edit
menu by keyboard; the view updated with filters changed by htmx; a private view shared with
the team from the keyboard; a job's public link opened
without an account; no sideways scrolling at 360 px. Console errors and CSP violations fail
the test (tests/test_browser.py's Watched)."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

from public_links.models import PublicLink
from saved_views.models import SavedView
from teams.models import Member, Share, Team
from tests import chromium
from tests.factories import make_credential
from tests.test_team_access import make_job

if chromium.PATH is None:
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

from tests.test_browser import OVERFLOWS, Watched, browser  # noqa: E402, F401 (after the skips; the fixture is named as an argument)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def studio(live_server, alice, bob, django_user_model):
    """Alice shares her key with Studio, where erin is a member: 3 failed and 4 good songs."""
    cache.clear()
    erin = django_user_model.objects.create_user("erin", "erin@example.test", "erin-pass-2026")
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=alice, role="owner")
    Member.objects.create(team=team, user=erin, role="member")
    key = make_credential(alice, "apimall", label="Alice API Mall")
    Share.objects.create(team=team, credential=key, shared_by=alice)
    jobs = [make_job(key, f"f-{n}", title=f"Failed song {n}", status="failed", days_ago=n) for n in range(3)]
    jobs += [make_job(key, f"s-{n}", title=f"Good song {n}", days_ago=n) for n in range(4)]
    return {"team": team, "erin": erin, "key": key, "jobs": jobs}


@pytest.fixture
def open_as(browser, live_server):  # noqa: F811 (tests.test_browser's fixture)
    contexts = []

    def make(user, **options) -> Watched:
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"}
            context.add_cookies([{**cookie, "domain": urlsplit(live_server.url).hostname}])
        return Watched(context, live_server.url)

    yield make
    for context in contexts:
        context.close()


def rows(page) -> list[str]:
    return page.locator("#rows > li.job .job-title").all_inner_texts()


def test_a_view_saved_for_the_team_is_opened_by_a_member(open_as, studio, alice):
    owner = open_as(alice)
    page = owner.go("/history/")
    page.click("label.pill:has(input[name=status][value=failed])")
    page.wait_for_url(re.compile(r"/history/\?status=failed$"))
    page.wait_for_selector("#history-results:not([aria-busy])")
    # The save form takes the address bar's filters (changed by htmx since the page loaded).
    page.click("summary:has-text('Save view')")
    page.fill("input[name=name]", "Failed songs")
    page.select_option("select[name=shared]", "studio")
    page.click("form[data-save-view] button[type=submit]")
    page.wait_for_url(re.compile(r"view="))
    view = SavedView.objects.get()
    assert (view.team, view.query) == (studio["team"], "status=failed")
    owner.assert_clean()

    member = open_as(studio["erin"])
    page = member.go("/history/")
    tabs = page.locator("nav.view-tabs a.view-tab")
    assert tabs.all_inner_texts() == ["All jobs", "Failed songs"]
    assert page.locator("nav.view-tabs .view-tabs-label").text_content().strip() == "Studio"
    assert page.locator("a.view-tab[aria-current=page]").inner_text() == "All jobs"
    assert len(rows(page)) == 7
    page.click("a.view-tab:has-text('Failed songs')")
    page.wait_for_url(re.compile(rf"/history/\?status=failed&view={view.code}$"))
    assert sorted(rows(page)) == ["Failed song 0", "Failed song 1", "Failed song 2"]
    assert page.locator("a.view-tab[aria-current=page]").inner_text() == "Failed songs"
    assert page.is_checked("input[name=status][value=failed]")

    # Members edit the team's views: renamed from the keyboard alone.
    page.locator("details.view-manage > summary").focus()
    page.keyboard.press("Enter")
    page.locator("details.view-manage input[name=name]").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("Failed ones")
    with page.expect_navigation():  # the form posts, and the page comes back renamed
        page.keyboard.press("Enter")
    assert page.locator("a.view-tab[aria-current=page]").inner_text() == "Failed ones"

    # Filtering further with htmx: the tab no longer matches, "All jobs" does once cleared.
    page.click("label.pill:has(input[name=status][value=''])")
    page.wait_for_url(re.compile(r"/history/$"))
    page.wait_for_selector("#history-results:not([aria-busy])")
    assert page.locator("a.view-tab[aria-current=page]").inner_text() == "All jobs"
    assert page.locator("details.view-manage").is_hidden()

    # Back on the view's filters and one more: its menu offers to keep that, for the team.
    page.click("label.pill:has(input[name=status][value=failed])")
    page.wait_for_url(re.compile(r"/history/\?status=failed$"))
    assert page.locator("form[data-update-view]").is_hidden()
    page.click("label.pill:has(input[name=provider][value=apimall])")
    page.wait_for_url(re.compile(r"/history/\?provider=apimall&status=failed$"))
    assert page.locator("a.view-tab[aria-current=page]").count() == 0
    page.click("details.view-manage > summary")
    page.click("form[data-update-view] button")
    page.wait_for_url(re.compile(rf"/history/\?provider=apimall&status=failed&view={view.code}$"))
    assert page.locator("a.view-tab[aria-current=page]").get_attribute("data-query") == "provider=apimall&status=failed"
    assert "Updated the view “Failed ones”." in page.locator(".messages").first.inner_text()
    member.assert_clean()


def test_a_private_view_is_shared_with_the_team_from_the_keyboard(open_as, studio, alice):
    view = SavedView.objects.create(user=alice, name="Failed this week", query="status=failed")
    owner = open_as(alice)
    page = owner.go(view.get_absolute_url())
    page.locator("details.view-manage > summary").focus()
    page.keyboard.press("Enter")
    select = page.locator("details.view-manage").get_by_label("Who sees it")
    assert select.input_value() == "_me"
    select.focus()
    page.keyboard.press("ArrowDown")
    assert select.input_value() == "studio"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Change"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/history/\?status=failed&view={view.code}$"))
    assert page.locator(".messages .alert").inner_text() == "“Failed this week” is now shared with Studio."
    assert page.locator("nav.view-tabs .view-tabs-label").all_inner_texts() == ["STUDIO"]
    assert page.locator("a.view-tab[aria-current=page]").inner_text() == "Failed this week"
    owner.assert_clean()

    member = open_as(studio["erin"])
    page = member.go("/history/")
    assert page.locator("nav.view-tabs a.view-tab").all_inner_texts() == ["All jobs", "Failed this week"]
    member.assert_clean()


def test_a_public_link_opens_without_an_account(open_as, studio, alice):
    song = studio["jobs"][3]
    owner = open_as(alice)
    page = owner.go(song.get_absolute_url())
    page.click("text=Create a public link")
    page.wait_for_selector("#public-link-url")
    link = PublicLink.objects.get(job=song)
    assert page.input_value("#public-link-url").endswith(link.path)
    owner.assert_clean()

    stranger = open_as(None, viewport={"width": 360, "height": 800})
    page = stranger.go(link.path)
    assert page.title() == "Good song 0 · shared from Genboard"
    assert page.locator("h1").inner_text() == "Good song 0"
    assert page.evaluate(OVERFLOWS) == []
    stranger.assert_clean()


@pytest.mark.parametrize("width", [360])
def test_the_tabs_fit_a_phone(open_as, studio, alice, width):
    for n in range(8):
        SavedView.objects.create(user=alice, name=f"A rather long view name {n}", query="status=failed", position=n)
    watched = open_as(alice, viewport={"width": width, "height": 800})
    page = watched.go("/history/")
    assert page.evaluate(OVERFLOWS) == []
    page.click("summary:has-text('Save view')")
    assert page.evaluate(OVERFLOWS) == []
    last = SavedView.objects.order_by("-position").first()
    page = watched.go(last.get_absolute_url())
    # The strip scrolls sideways: the opened view's tab is brought into it, not left off screen.
    tab = page.locator(f'a.view-tab[data-view="{last.code}"]').bounding_box()
    strip = page.locator(".view-tabs > .view-tabs-list").bounding_box()
    assert strip["x"] <= tab["x"] and tab["x"] + tab["width"] <= strip["x"] + strip["width"]
    # The two menus keep to the right together ("Edit view" was left in the middle).
    edit = page.locator("details.view-manage > summary").bounding_box()
    save = page.locator("details.view-save > summary").bounding_box()
    assert 0 < save["x"] - (edit["x"] + edit["width"]) < 16
    page = watched.go(SavedView.objects.first().get_absolute_url())
    page.click("summary:has-text('Edit view')")
    assert page.locator("details.view-manage").get_by_label("Who sees it").is_visible()
    assert page.evaluate(OVERFLOWS) == []
    page = watched.go(f"/history/views/{SavedView.objects.first().code}/delete/")
    assert page.evaluate(OVERFLOWS) == []
    watched.assert_clean()
