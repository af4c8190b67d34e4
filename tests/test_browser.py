"""The history in a real browser: Debian's headless Chromium driven by Playwright, against
the live server and the provider simulator (so players get real WAV audio and PNG images).

One browser for the module, a fresh context per test. Every page is checked for console
errors and Content-Security-Policy violations.
"""

import os
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

from history.models import Job, SyncRun
from history.sync import sync_credential
from hooks.setup import hook_for
from teams.models import Member, Team
from tests import chromium
from tests.factories import make_credential

if chromium.PATH is None:
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "sim-audiopod-browser-n120"  # three pages of 50: two more after the first
# Violations and errors of every page the context opens, across navigations.
WATCH = """
window.addEventListener("securitypolicyviolation", (e) =>
  window.genboardReport("csp " + e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as p:
        browser = chromium.launch(p)
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def site(live_server, simulator, settings):
    """Alice's AudioPod key, imported from the simulator; media from the simulator allowed
    by the CSP the way production allows a provider's origin."""
    cache.clear()
    simulator.world.new_every = 0
    origin = simulator.base_url
    settings.SECURE_CSP = {**settings.SECURE_CSP}
    for directive in ("img-src", "media-src"):
        settings.SECURE_CSP[directive] = [*settings.SECURE_CSP[directive], origin]
    return live_server


@pytest.fixture
def pod(site, alice):
    credential = make_credential(alice, "audiopod", label="Studio pod", secret=KEY)
    assert sync_credential(credential.pk).error == ""
    return credential


class Watched:
    """A page whose console errors, page errors and CSP violations are collected."""

    def __init__(self, context, base_url: str):
        self.problems: list[str] = []
        self.base_url = base_url
        context.expose_function("genboardReport", self.report)
        context.add_init_script(WATCH)
        self.page = context.new_page()
        self.page.set_default_timeout(8000)
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror {e}"))

    def report(self, problem: str) -> None:
        self.problems.append(problem)

    def go(self, path: str):
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def assert_clean(self):
        assert self.problems == []


@pytest.fixture
def new_context(browser):
    contexts = []

    def make(**options):
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(new_context, site, alice):
    """A browser signed in as Alice through her session cookie (the form has its own test)."""

    def make(**options) -> Watched:
        client = Client()
        client.force_login(alice)
        context = new_context(**options)
        cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"}
        context.add_cookies([{**cookie, "domain": urlsplit(site.url).hostname}])
        return Watched(context, site.url)

    return make


@pytest.fixture
def signed_in(sign_in):
    return sign_in(timezone_id="Asia/Tokyo")


def rows(page) -> int:
    return page.locator("#rows > li.job").count()


def wait_for_rows(page, count: int) -> None:
    page.wait_for_function("n => document.querySelectorAll('#rows > li.job').length === n", arg=count)


def test_log_in_through_the_form_then_filter_search_and_go_back(new_context, site, pod):
    browser = Watched(new_context(timezone_id="Asia/Tokyo"), site.url)
    page = browser.go("/history/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "alice-pass-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/history/")
    assert page.title() == "History · Genboard" and rows(page) == 50
    # Times are in the browser's zone once genboard.js has told the server (a cookie).
    page.reload()
    assert page.locator("#rows time").first.get_attribute("title").endswith("(JST)")

    failed = Job.objects.filter(credential=pod, status="failed").count()
    page.click("label.pill:has(input[name=status][value=failed])")
    page.wait_for_url(re.compile(r"/history/\?status=failed$"))
    page.wait_for_selector("#history-results:not([aria-busy])")
    assert rows(page) == failed
    assert page.locator("#rows .badge").all_inner_texts() == ["Failed"] * failed
    assert page.locator("#count-status-failed").inner_text() == str(failed)

    title = Job.objects.filter(credential=pod, status="succeeded").order_by("-created")[3].title
    page.click("label.pill:has(input[name=status][value=''])")
    page.wait_for_url(re.compile(r"/history/$"))
    page.fill("#id_q", title)
    page.wait_for_url(re.compile(r"\?q="))
    page.wait_for_selector("#history-results:not([aria-busy])")
    assert title in page.locator("#rows .job-title").all_inner_texts()
    assert page.locator("#count-status-all").inner_text() == str(rows(page))

    # Back: htmx asks the server for the whole page of the earlier address.
    page.go_back()
    page.wait_for_url(re.compile(r"/history/$"))
    wait_for_rows(page, 50)
    assert page.input_value("#id_q") == ""
    page.go_back()
    page.wait_for_url(re.compile(r"status=failed"))
    wait_for_rows(page, failed)
    assert page.is_checked("input[name=status][value=failed]")

    # The filters behind "More filters" apply as they change too.
    page.click("summary:has-text('More filters')")
    page.select_option("#id_kind", "image")
    page.wait_for_url(re.compile(r"/history/\?kind=image&status=failed$"))
    page.wait_for_selector("text=No jobs match these filters")
    chips = [" ".join(text.split()) for text in page.locator(".chip").all_text_contents()]
    assert chips == ["Kind: Image", "Status: Failed", "Clear all"]
    browser.assert_clean()


def test_scrolling_brings_the_next_pages(signed_in, pod):
    page = signed_in.go("/history/")
    assert rows(page) == 50
    page.locator(".jobs-more").scroll_into_view_if_needed()
    wait_for_rows(page, 100)
    page.locator(".jobs-more").scroll_into_view_if_needed()
    wait_for_rows(page, 120)
    assert page.locator(".jobs-more").count() == 0 and page.locator(".jobs-end").is_visible()
    ids = page.eval_on_selector_all("#rows > li.job", "items => items.map(li => li.id)")
    assert len(set(ids)) == 120
    assert page.url.endswith("/history/")  # scrolling does not change the address
    signed_in.assert_clean()


def test_the_load_more_link_works_without_javascript(sign_in, pod):
    browser = sign_in(java_script_enabled=False)
    page = browser.go("/history/?provider=audiopod")
    first = page.eval_on_selector_all("#rows > li.job", "items => items.map(li => li.id)")
    page.click("text=Load more")
    page.wait_for_url(re.compile(r"provider=audiopod&cursor="))
    second = page.eval_on_selector_all("#rows > li.job", "items => items.map(li => li.id)")
    assert len(first) == len(second) == 50 and not set(first) & set(second)
    page.click("text=Back to the newest jobs")
    page.wait_for_url(re.compile(r"/history/\?provider=audiopod$"))
    assert page.eval_on_selector_all("#rows > li.job", "items => items.map(li => li.id)") == first
    browser.assert_clean()


def test_players_load_real_audio_and_images_show(signed_in, pod):
    page = signed_in.go("/history/?status=succeeded")
    audio = page.locator("#rows audio").first
    assert audio.get_attribute("preload") == "none"
    state = audio.evaluate(
        """el => new Promise((done) => {
            const report = () => done({ready: el.readyState, error: el.error && el.error.code, length: el.duration});
            el.addEventListener("loadedmetadata", report);
            el.addEventListener("error", report);
            el.preload = "metadata";
            el.load();
        })"""
    )
    assert state["error"] is None and state["ready"] >= 1 and state["length"] > 0
    image = page.locator("#rows .job-thumb img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    signed_in.assert_clean()


def test_a_job_page_and_renaming_at_audiopod(signed_in, pod, simulator):
    job = Job.objects.filter(credential=pod, status="succeeded").order_by("-created").first()
    page = signed_in.go("/history/?status=succeeded")
    page.click(f"#job-{job.code} .job-title a")
    page.wait_for_url(f"**/history/{job.code}/")
    assert page.title() == f"{job.title} · History · Genboard"
    assert page.locator(".outputs audio").count() == 1 and page.locator(".downloads a").count() >= 2
    page.click("summary:has-text('Raw provider record')")
    assert '"status": "completed"' in page.locator(".raw pre").inner_text().lower()

    page.click("summary:has-text('Rename')")
    page.fill("#id_name", "Midnight take")
    page.click("text=Save the name")
    page.wait_for_selector("h1:has-text('Midnight take')")
    assert "Renamed at AudioPod to “Midnight take”." in page.locator("#live-messages").inner_text()
    assert page.title() == "Midnight take · History · Genboard"
    assert simulator.world.job(KEY, int(job.external_id)).override("display_name") == "Midnight take"
    signed_in.assert_clean()


def test_refresh_now_on_an_unfinished_row(signed_in, pod):
    job = Job.objects.filter(credential=pod, status__in=Job.UNFINISHED).order_by("-created").first()
    page = signed_in.go("/history/")
    row = page.locator(f"#job-{job.code}")
    assert row.get_attribute("hx-trigger") == "every 5s"
    row.locator("button:has-text('Refresh now')").click()
    page.wait_for_selector("#live-messages .alert-success")
    assert "Asked AudioPod for the latest" in page.locator("#live-messages").inner_text()
    assert page.locator(f"#job-{job.code}").count() == 1
    assert SyncRun.objects.filter(credential=pod, state="queued").count() == 1
    signed_in.assert_clean()


# --- long names and pasted ids stay inside their boxes, on a phone as on a desktop -----------

LONG_NAME = "Ö" * 100  # one unbroken 100-character word
LONG_ID = "x" * 300

# Whatever runs out of its box: the page scrolls sideways, or an element is wider than itself.
OVERFLOWS = """() => {
  const out = [];
  const page = document.documentElement.scrollWidth;
  if (page > window.innerWidth) out.push("page " + page);
  for (const el of document.querySelectorAll("h1, .alert, .breadcrumb, .field-error, td.breakable, select")) {
    if (el.scrollWidth > el.clientWidth + 1) out.push(el.tagName + "." + el.className + " " + el.scrollWidth);
  }
  return out;
}"""


@pytest.mark.parametrize("width", [360])  # the narrowest width is where things run out
def test_a_long_team_name_and_a_long_pasted_id_wrap(sign_in, alice, bob, width):
    team = Team.objects.create(name=LONG_NAME, slug="long")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.MEMBER)  # a "Remove…" in the table
    suno = make_credential(alice, provider="apikley", label="Suno")
    Job.objects.create(
        credential=suno, provider="apikley", kind="music", external_id="task-00000001", status="pending",
        created="2026-03-01T00:00:00Z",
    )  # fmt: skip
    watched = sign_in(viewport={"width": width, "height": 900})
    for path in (
        "/teams/",
        "/teams/long/",
        "/teams/long/members/",
        "/teams/long/members/bob/remove/",
        "/teams/long/shares/",
        "/history/",
    ):
        page = watched.go(path)
        assert page.evaluate(OVERFLOWS) == [], path
    page = watched.go("/history/import/")
    page.select_option("select[name=credential]", str(suno.code))
    page.fill("textarea[name=task_ids]", f"task-00000002 {LONG_ID}")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "Not imported" in page.text_content("div.messages[role=status]")
    assert page.evaluate(OVERFLOWS) == []
    watched.assert_clean()
    # Only words: the form comes back with its error (a 400, which the console reports).
    page = watched.go("/history/import/")
    page.select_option("select[name=credential]", str(suno.code))
    page.fill("textarea[name=task_ids]", LONG_ID)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "None of these look like task ids" in page.text_content("body")
    assert page.evaluate(OVERFLOWS) == []


def test_the_search_box_waits_for_the_third_character(signed_in, pod):
    page = signed_in.go("/history/")
    asked = []
    page.on("request", lambda request: "q=" in request.url and asked.append(request.url))
    page.fill("#id_q", "pi")
    page.wait_for_timeout(1000)  # past the box's 400 ms pause
    assert asked == [] and page.url.endswith("/history/")
    assert "is-waiting" in page.locator("#search-hint").get_attribute("class")
    assert page.locator("#search-hint").inner_text() == "Searching starts at 3 characters."
    page.fill("#id_q", "pia")
    page.wait_for_url(re.compile(r"\?q=pia$"))
    assert "is-waiting" not in page.locator("#search-hint").get_attribute("class")
    signed_in.assert_clean()


def test_row_times_read_relative_and_keep_the_exact_time(signed_in, pod):
    page = signed_in.go("/history/")
    first = page.locator("#rows time").first
    assert re.fullmatch(
        r"(just now|\d+ (minute|hour|day|week|month|year)s? ago|yesterday|last \w+)", first.inner_text()
    )
    assert re.search(r"\d{4}, \d\d:\d\d:\d\d \(UTC\)$", first.get_attribute("title"))
    page.click("text=Load more")  # rows brought by htmx read relative too
    wait_for_rows(page, 100)
    page.wait_for_function("() => !document.querySelector('#rows time[data-relative]')")
    assert "ago" in page.locator("#rows time").nth(99).inner_text()
    signed_in.assert_clean()


@pytest.mark.parametrize("width", [360, 1440])
def test_the_webhook_card_copies_its_address_and_fits(sign_in, alice, width):
    credential = make_credential(alice, "audiopod", label="Pod", balance_amount=Decimal("3.5"), balance_unit="USD")
    credential.low_balance_below = Decimal(5)
    credential.save()
    hook = hook_for(credential)
    watched = sign_in(viewport={"width": width, "height": 900}, permissions=["clipboard-read", "clipboard-write"])
    page = watched.go(f"/keys/{credential.code}/")
    assert page.evaluate(OVERFLOWS) == []
    assert "$3.50" in page.text_content("#balance") and "Low" in page.text_content("#balance")
    page.click("button[data-copy=hook-address]")
    page.wait_for_function("document.getElementById('hook-address-copied').textContent !== ''")
    assert page.evaluate("navigator.clipboard.readText()").endswith(hook.get_absolute_url())
    page.click("button[data-copy=hook-paste]")
    assert '"url": "' in page.evaluate("navigator.clipboard.readText()")
    page = watched.go("/keys/")
    assert page.evaluate(OVERFLOWS) == []
    watched.assert_clean()
