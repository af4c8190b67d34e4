"""Selecting jobs and a bulk action in a real browser (static/js/selection.js and
history/bulk_actions.py): click, shift-click a range, the selection kept across loaded and
re-polled rows, "Select all N matching", then an export, a removal and a new tag with confirmation."""

import csv
import io
from pathlib import Path

import pytest

from annotations.models import Tag
from history import bulk_actions
from history.models import Job
from tests import test_browser

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

# The browser tests' fixtures: one browser, the live site, Alice's AudioPod key with 120 jobs.
browser, site, new_context, sign_in, pod = (
    test_browser.browser,
    test_browser.site,
    test_browser.new_context,
    test_browser.sign_in,
    test_browser.pod,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOXES = "#rows input.job-select"


def checked(page) -> list[bool]:
    return page.eval_on_selector_all(BOXES, "boxes => boxes.map(box => box.checked)")


def test_click_shift_click_select_all_then_export_and_remove(sign_in, pod, monkeypatch):
    watched = sign_in()
    page = watched.go("/history/")
    bar = page.locator("#bulk-form")
    assert bar.is_hidden()  # nothing selected yet

    boxes = page.locator(BOXES)
    boxes.nth(1).click()
    boxes.nth(5).click(modifiers=["Shift"])
    assert checked(page)[:8] == [False, True, True, True, True, True, False, False]
    assert bar.locator("[data-bulk-count]").inner_text() == "5 selected"
    boxes.nth(3).click()  # one out of the range
    assert bar.locator("[data-bulk-count]").inner_text() == "4 selected"

    # A selection the server refuses says why (here: more codes than one request takes).
    dialog = page.locator("#bulk-dialog")
    monkeypatch.setattr(bulk_actions, "BULK_MAX", 3)
    page.get_by_role("button", name="Export CSV").click()
    dialog.wait_for(state="visible")
    assert "At most 3 jobs at once" in dialog.inner_text()
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    monkeypatch.undo()

    # A row swapped by its poll comes back ticked; so does the selection after more rows load.
    code = boxes.nth(2).get_attribute("value")
    with page.expect_response(lambda r: f"/history/{code}/row/" in r.url):
        page.evaluate(
            "code => htmx.ajax('GET', '/history/' + code + '/row/', {target: '#job-' + code, swap: 'outerHTML'})", code
        )
    expect(page.locator(f"#job-{code} input.job-select")).to_be_checked()
    page.locator(".jobs-more a").click()
    expect(boxes).to_have_count(100)
    assert checked(page).count(True) == 4 and bar.locator("[data-bulk-count]").inner_text() == "4 selected"

    # Every matching job, loaded or not.
    page.get_by_role("button", name="Select all 120 matching").click()
    assert bar.locator("[data-bulk-count]").inner_text() == "All 120 matching jobs selected"
    assert all(checked(page))

    page.get_by_role("button", name="Export CSV").click()
    dialog.wait_for(state="visible")
    assert "Export 120 jobs as CSV" in dialog.inner_text()
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows) == 120
    dialog.wait_for(state="hidden")
    assert "The download starts in a moment." in page.locator("#results-status").inner_text()

    # Clear, pick two, remove them after the confirmation.
    bar.get_by_role("button", name="Clear").click()
    assert bar.is_hidden() and not any(checked(page))
    # Finished jobs: an unfinished row's poll could still ask for a removed job (404) while the
    # page goes back to the list.
    finished = page.locator("#rows li.job:not([hx-get]) input.job-select")
    picked = [finished.nth(0).get_attribute("value"), finished.nth(1).get_attribute("value")]
    finished.nth(0).click()
    finished.nth(1).click()
    page.get_by_role("button", name="Remove…").click()
    dialog.wait_for(state="visible")
    assert "Remove 2 jobs of yours." in dialog.inner_text()
    dialog.get_by_role("link", name="Cancel").click()
    dialog.wait_for(state="hidden")
    assert Job.objects.count() == 120 and bar.locator("[data-bulk-count]").inner_text() == "2 selected"
    page.get_by_role("button", name="Remove…").click()
    dialog.wait_for(state="visible")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Remove from Genboard").click()
    assert "Removed 2 jobs from Genboard" in page.get_by_role("status").inner_text()
    assert Job.objects.count() == 118 and not Job.objects.filter(code__in=picked).exists()

    # A new tag, from the keyboard: typed, Enter (Tag, not the bar's first button), Enter again.
    finished.nth(0).click()
    finished.nth(1).click()
    name = bar.get_by_label("Tag name, new or existing")
    name.fill("keeper")
    name.press("Enter")
    dialog.wait_for(state="visible")
    assert "Tag 2 jobs with the new tag “keeper”." in dialog.inner_text() and not Tag.objects.exists()
    expect(dialog.get_by_role("button", name="Add the tag")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Tagged 2 jobs with the new tag “keeper”." in page.get_by_role("status").inner_text()
    assert Tag.objects.get(name="keeper").links.count() == 2
    # Now suggested: the tag field asks for its suggestions when first focused.
    finished.nth(0).click()
    bar.get_by_label("Tag name, new or existing").focus()
    expect(bar.locator("#bulk-tag-names option")).to_have_count(1)
    assert bar.locator("#bulk-tag-names option").get_attribute("value") == "keeper"
    finished.nth(0).click()

    # The table layout: the same checkboxes, in its first column.
    page = watched.go("/history/?layout=table")
    boxes = page.locator("#rows td.col-select input.job-select")
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])
    assert checked(page)[:4] == [True, True, True, False]
    assert page.locator("#bulk-form [data-bulk-count]").inner_text() == "3 selected"
    watched.assert_clean()
