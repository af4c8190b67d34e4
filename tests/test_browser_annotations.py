"""Stars, tags and notes in a real browser (Debian's Chromium through Playwright): star a row,
tag the job on its page and write a note, then filter the history by the tag."""

import os

import pytest

from annotations.models import JobTag, Note, Star, Tag
from history.models import Job
from teams.models import Member, Share, Team
from tests import test_browser

# test_browser's fixtures, shared by name (the module is skipped when Chromium or Playwright is missing).
browser, new_context, pod = test_browser.browser, test_browser.new_context, test_browser.pod
sign_in, signed_in, site = test_browser.sign_in, test_browser.signed_in, test_browser.site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Where to leave screenshots of the pages (to look at them), when set.
SHOTS = os.environ.get("GENBOARD_SHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=False)


def test_star_a_row_tag_it_on_its_page_and_filter_by_the_tag(signed_in, pod, alice):
    job = Job.objects.filter(credential=pod).order_by("-created", "-id").first()
    page = signed_in.go("/history/")
    star = page.locator(f"#job-{job.code} button[data-action='star']")
    assert star.get_attribute("aria-pressed") == "false"
    star.focus()
    page.keyboard.press("Enter")  # by keyboard; the focus stays on the swapped-in button
    page.wait_for_selector(f"#job-{job.code} button[data-action='star'][aria-pressed='true']")
    assert page.evaluate("document.activeElement.dataset.action") == "star"
    assert Star.objects.filter(user=alice, job=job).exists()
    shot(page, "annotations-list")

    page.click(f"#job-{job.code} .job-title a")
    page.wait_for_url(f"**/history/{job.code}/")
    assert page.locator("#marks button[data-action='star']").get_attribute("aria-pressed") == "true"
    page.fill("#tag-name", "  Keeper ")
    page.click("#marks button:has-text('Add')")
    page.wait_for_selector("#marks .tag-chip:has-text('Keeper')")
    page.fill("#note-text", "Use the second verse <live>")
    page.click("#marks button:has-text('Save the note')")
    page.wait_for_selector("#marks button:has-text('Clear the note')")
    assert Note.objects.get(user=alice, job=job).text == "Use the second verse <live>"
    assert page.locator("#tag-names option[value='Keeper']").count() == 1
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "annotations-job-360")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "annotations-job")

    page.click("#marks .tag-chip a:has-text('Keeper')")
    page.wait_for_selector(".chip:has-text('Keeper')")
    assert page.locator("#rows > li.job").count() == 1
    assert page.locator(f"#job-{job.code} .tag-chip").inner_text() == "Keeper"
    assert JobTag.objects.filter(job=job, tag__name="Keeper").count() == 1
    if SHOTS:
        page.locator(f"#job-{job.code}").screenshot(path=f"{SHOTS}/annotations-row.png")
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    if SHOTS:
        page.locator(f"#job-{job.code}").screenshot(path=f"{SHOTS}/annotations-row-360.png")
    # The table layout has the star and the tags as columns.
    page.set_viewport_size({"width": 1440, "height": 900})
    page = signed_in.go(f"/history/?layout=table&tag={JobTag.objects.get(job=job).tag.code}")
    assert page.locator(f"#job-{job.code} button[data-action='star']").get_attribute("aria-pressed") == "true"
    shot(page, "annotations-table")
    signed_in.assert_clean()


def test_a_team_tags_suggestion_puts_the_teams_tag_while_only_me_is_selected(signed_in, pod, alice):
    """The suggestion names its team ("Final · Studio"): sent by htmx as picked, with "Only me"
    left selected, it puts the team's tag on, not a new personal tag of that name."""
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Share.objects.create(team=team, credential=pod, shared_by=alice)
    final = Tag.objects.create(team=team, name="Final")
    job = Job.objects.filter(credential=pod).order_by("-created", "-id").first()
    page = signed_in.go(f"/history/{job.code}/")
    assert page.locator("#tag-names option[value='Final · Studio']").count() == 1
    assert page.locator("#tag-team").input_value() == ""  # "Only me"
    page.fill("#tag-name", "Final · Studio")
    page.click("#marks button:has-text('Add')")
    page.wait_for_selector("#marks .tag-chip.tag-team:has-text('Final')")
    assert list(JobTag.objects.filter(job=job).values_list("tag", flat=True)) == [final.pk]
    assert not Tag.objects.filter(owner=alice).exists()
    signed_in.assert_clean()
