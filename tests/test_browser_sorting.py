"""Sorting the history in a real browser (Debian's Chromium through Playwright): pick an order
in the results bar's "Sort" menu, scroll two pages deep, and get every job once in that order;
a day of the dashboard chart opens that day's jobs from the keyboard."""

# ruff: noqa: F811 (the browser fixtures are imported from tests.test_browser and named as arguments)
import re

import pytest

from history import sorting
from history.models import Job
from tests.test_browser import browser, new_context, pod, sign_in, signed_in, site, wait_for_rows  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def listed(page) -> list[str]:
    return page.eval_on_selector_all("#rows > li.job", "items => items.map(li => li.dataset.job || li.id.slice(4))")


def test_sort_by_clicking_then_scroll_two_pages_deep(signed_in, pod):
    page = signed_in.go("/history/")
    expected = [
        str(code)
        for code in Job.objects.filter(credential=pod)
        .order_by(*sorting.SORTS["-duration"].ordering())
        .values_list("code", flat=True)
    ]
    assert len(expected) == 120

    page.click(".sort-menu summary")
    page.click(".sort-menu a:has-text('Longest')")
    page.wait_for_url(re.compile(r"/history/\?sort=-duration$"))
    assert " ".join(page.inner_text(".sort-menu summary").split()) == "Sort: Longest"
    assert listed(page) == expected[:50]

    for loaded in (100, 120):  # pages 2 and 3, by scrolling
        page.locator(".jobs-more").scroll_into_view_if_needed()
        wait_for_rows(page, loaded)
    assert listed(page) == expected  # every job once, longest first, the unknown lengths last
    assert page.locator(".jobs-end").is_visible()

    # The order stays when a filter changes.
    page.click("label.pill:has(input[name=status][value=succeeded])")
    page.wait_for_url(re.compile(r"/history/\?status=succeeded&sort=-duration$"))
    page.wait_for_selector("#history-results:not([aria-busy])")
    succeeded = Job.objects.filter(credential=pod, status="succeeded").order_by("-duration", "-id")
    assert listed(page) == [str(code) for code in succeeded.values_list("code", flat=True)[:50]]
    signed_in.assert_clean()


def test_a_chart_day_opens_that_days_jobs_from_the_keyboard(signed_in, pod):
    page = signed_in.go("/history/")
    bar = page.locator("svg.chart-svg a.chart-bar").last  # today, the simulator's newest jobs
    bar.focus()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Show ")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"created_after=\d{4}-\d\d-\d\d&created_before=\d{4}-\d\d-\d\d$"))
    day = re.search(r"created_after=([\d-]+)&created_before=([\d-]+)$", page.url)
    assert day.group(1) == day.group(2)  # one day
    assert page.locator("#rows > li.job").count() > 0
    assert page.locator(".chip", has_text="From:").count() == 1 and page.locator(".chip", has_text="To:").count() == 1
    signed_in.assert_clean()
