"""The history less in the way, in a real browser (Debian's headless Chromium, Playwright):
keyboard shortcuts (static/js/keyboard.js), Back after a deep scroll (static/js/restore.js),
the dismissible summary line (static/js/notices.js) and the folding strip.

The browser runs without its back-forward cache, so Back loads the list afresh as it does
whenever the cache cannot keep the page (memory, other tabs, an older browser): the case
restore.js is for.
"""

import os
from datetime import timedelta
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from annotations.models import Star
from history.models import Job, SyncRun
from preferences.models import HistoryPreferences
from providers.models import Credential
from tests import chromium
from tests.factories import make_credential

if chromium.PATH is None:
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOBS = 330  # seven pages of 50
WATCH = """
window.addEventListener("securitypolicyviolation", (e) =>
  window.genboardReport("csp " + e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture(scope="module")
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium.PATH, args=[*chromium.ARGS, "--disable-features=BackForwardCache"]
        )
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def history(alice):
    """Alice's key with JOBS finished jobs, a minute apart."""
    cache.clear()
    key = make_credential(alice, "apimall", label="Mall", status=Credential.Status.OK)
    now = timezone.now()
    Job.objects.bulk_create(
        Job(
            credential=key,
            provider="apimall",
            kind="audio",
            external_id=f"j-{n}",
            title=f"Song {n:03d}",
            status=Job.Status.SUCCEEDED,
            created=now - timedelta(minutes=n),
        )
        for n in range(JOBS)
    )
    return key


@pytest.fixture
def open_page(browser, live_server, alice):
    """A page signed in as Alice; console errors, page errors and CSP violations collected."""
    contexts, problems = [], []

    def make(path: str = "/history/", **options):
        client = Client()
        client.force_login(alice)
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"}
        context.add_cookies([{**cookie, "domain": urlsplit(live_server.url).hostname}])
        context.expose_function("genboardReport", lambda problem: problems.append(problem))
        context.add_init_script(WATCH)
        page = context.new_page()
        page.set_default_timeout(8000)
        page.on("console", lambda m: m.type == "error" and problems.append(f"console {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"pageerror {e}"))
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        return page

    yield make
    assert problems == []
    for context in contexts:
        context.close()


def row_ids(page) -> list[str]:
    return page.eval_on_selector_all("#rows [data-job]", "rows => rows.map(row => row.id)")


def wait_for_rows(page, count: int) -> None:
    page.wait_for_function("n => document.querySelectorAll('#rows [data-job]').length === n", arg=count)


def in_view(page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        """el => { const r = el.getBoundingClientRect();
                   const bar = document.querySelector('.topbar').getBoundingClientRect().bottom;
                   return r.top >= bar - 1 && r.bottom <= window.innerHeight + 1; }""",
    )


def focused_row(page) -> str | None:
    return page.evaluate("() => { const row = document.activeElement.closest('[data-job]'); return row && row.id; }")


# --- Back after a deep scroll -------------------------------------------------------------------


def test_back_after_a_deep_scroll_returns_to_the_same_row(open_page, history):
    page = open_page()
    for loaded in (100, 150, 200, 250, 300):  # five more pages, by scrolling as a person does
        page.locator(".jobs-more").scroll_into_view_if_needed()
        wait_for_rows(page, loaded)
    ids = row_ids(page)
    target = ids[262]  # on the sixth page
    page.locator(f"#{target}").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -200)")  # not at the very top of the view
    before = page.eval_on_selector(f"#{target}", "el => Math.round(el.getBoundingClientRect().top)")
    page.evaluate("window.leftBehind = true")
    code = target.removeprefix("job-")
    page.click(f"#{target} a.job-link")
    page.wait_for_url(f"**/history/{code}/")

    page.go_back()
    page.wait_for_url("**/history/")
    assert page.evaluate("window.leftBehind") is None  # a fresh load, not the page kept in memory
    page.wait_for_function("id => document.activeElement.closest('#' + id) !== null", arg=target)
    assert in_view(page, f"#{target}")
    after = page.eval_on_selector(f"#{target}", "el => Math.round(el.getBoundingClientRect().top)")
    assert abs(after - before) <= 2  # where it was on screen
    assert row_ids(page)[:300] == ids  # the same rows above it, none twice
    assert page.locator("#rows").get_attribute("aria-busy") is None


def test_a_plain_visit_starts_at_the_top(open_page, history):
    page = open_page()
    page.locator(".jobs-more").scroll_into_view_if_needed()
    wait_for_rows(page, 100)
    page.locator("#rows [data-job]").nth(80).scroll_into_view_if_needed()
    page.goto(page.url)  # typed again, not Back: a fresh start
    page.wait_for_load_state("networkidle")
    assert len(row_ids(page)) == 50 and page.evaluate("window.scrollY") == 0


# --- keyboard -----------------------------------------------------------------------------------


def test_slash_j_k_enter(open_page, history):
    page = open_page()
    ids = row_ids(page)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "id_q"
    page.keyboard.type("jk")  # typing in a field is typing, not shortcuts
    assert page.input_value("#id_q") == "jk" and page.locator("#rows .is-current").count() == 0
    page.fill("#id_q", "")
    page.evaluate("document.activeElement.blur()")

    page.keyboard.press("j")
    assert focused_row(page) == ids[0] and page.locator("#rows .is-current").get_attribute("id") == ids[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert focused_row(page) == ids[2]
    page.keyboard.press("k")
    assert focused_row(page) == ids[1] and page.locator("#rows .is-current").count() == 1
    for key in ("Control+j", "Alt+j", "Shift+J"):  # with a modifier: not ours
        page.keyboard.press(key)
        assert focused_row(page) == ids[1]
    # Far down the list, the current row is kept in view.
    for _ in range(20):
        page.keyboard.press("j")
    assert focused_row(page) == ids[21] and in_view(page, f"#{ids[21]}")
    # Past the last loaded row, the next page loads and j steps onto it.
    page.focus(f"#{ids[49]} a.job-link")
    page.keyboard.press("j")
    wait_for_rows(page, 100)
    page.wait_for_function("id => document.activeElement.closest('#' + id) !== null", arg=row_ids(page)[50])

    page.keyboard.press("k")
    code = row_ids(page)[49].removeprefix("job-")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/history/{code}/")


def test_x_selects_and_s_stars_the_current_row(open_page, history):
    page = open_page()
    ids = row_ids(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.is_checked(f"#{ids[1]} input.job-select") and not page.is_checked(f"#{ids[0]} input.job-select")
    page.keyboard.press("x")
    assert not page.is_checked(f"#{ids[1]} input.job-select")
    page.keyboard.press("s")
    page.wait_for_selector(f"#{ids[1]} button[data-action=star][aria-pressed=true]")
    assert page.get_attribute(f"#{ids[0]} button[data-action=star]", "aria-pressed") == "false"
    assert list(Star.objects.values_list("job__code", flat=True)) == [UUID(ids[1].removeprefix("job-"))]
    # From the selection box itself (a click on it focuses it), the keys still work.
    page.click(f"#{ids[2]} input.job-select")
    page.keyboard.press("x")
    assert not page.is_checked(f"#{ids[2]} input.job-select")
    page.keyboard.press("j")
    assert focused_row(page) == ids[3]


def test_question_mark_lists_the_shortcuts_in_a_dialog(open_page, history):
    page = open_page()
    page.keyboard.press("j")
    first = focused_row(page)
    page.keyboard.press("?")
    dialog = page.locator("dialog#shortcuts")
    assert dialog.is_visible() and page.evaluate("document.activeElement.closest('dialog') !== null")
    assert "Next and previous job" in dialog.inner_text()
    for _ in range(3):  # focus stays in the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement === document.body || !!document.activeElement.closest('dialog')")
    page.keyboard.press("j")  # no shortcuts behind it
    page.keyboard.press("Escape")
    assert not dialog.is_visible() and focused_row(page) == first  # focus back where it was
    # The button beside the header opens it too.
    page.click("button[data-shortcuts]")
    assert dialog.is_visible()
    page.click("dialog#shortcuts button:has-text('Close')")
    assert not dialog.is_visible() and page.evaluate("document.activeElement.matches('button[data-shortcuts]')")


# --- the summary line and the strip -------------------------------------------------------------


def test_the_summary_line_opens_and_stays_dismissed(open_page, history, alice):
    make_credential(alice, "audiopod", label="Pod", status=Credential.Status.REJECTED, last_error="Invalid API key")
    page = open_page()
    line = page.locator("#notices")
    assert " ".join(line.locator("summary").inner_text().split()) == "1 key needs attention · no sync yet Details"
    assert not page.locator("text=Invalid API key").is_visible()
    line.locator("summary").click()
    assert page.locator("text=Invalid API key").is_visible()
    page.click("#notices button:has-text('Dismiss')")
    page.wait_for_selector("#notices", state="hidden")
    assert page.evaluate("document.activeElement.id") == "id_q"
    page.reload()
    assert not line.is_visible()
    # Sync now shows its progress in the line, dismissed or not.
    page.click("summary:has-text('Sync now')")
    page.click("button:has-text('Sync your key')")
    page.wait_for_selector("#sync-area .sync-progress")
    assert line.is_visible() and page.locator("#sync-area").is_visible()
    assert line.locator(".notice-sync").inner_text() == "syncing 1 key…"
    # The run's progress polls itself, and the summary's words follow it.
    SyncRun.objects.filter(credential=history).update(state=SyncRun.State.DONE, new=7, finished=timezone.now())
    page.wait_for_selector("#sync-area .sync-progress[data-state=done]")
    assert line.locator(".notice-sync").inner_text() == "last sync just now: 7 new"
    assert "sync finished, 7 new" in page.locator("#sync-area").inner_text()


def test_the_strip_folds_and_stays_folded(open_page, history, alice):
    page = open_page()
    assert page.locator("#dash .dash-grid").is_visible()
    page.click("#dash button:has-text('Fold away')")
    page.wait_for_selector("#dash.dash-folded")
    assert page.locator("#dash .dash-grid").count() == 0 and HistoryPreferences.objects.get(user=alice).strip_folded
    assert page.evaluate("window.scrollY") == 0 and len(row_ids(page)) == 50  # the list did not move
    page.reload()
    assert page.locator("#dash.dash-folded").is_visible()
    page.click("#dash button:has-text('Show')")
    page.wait_for_selector("#dash .dash-grid")
    assert not HistoryPreferences.objects.get(user=alice).strip_folded
