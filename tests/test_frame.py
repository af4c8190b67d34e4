"""The site's frame (templates/jinja2/frame.html, core.pages): the same round a page of
Django's templates (templates/base.html hands it its blocks) and a Jinja2 page."""

import re

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.utils.safestring import mark_safe

from core import pages
from teams.models import Member, Team


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "title", "section"),
    [("/keys/", "API keys · Genboard", "Keys"), ("/history/", "History · Genboard", "History")],
)
def test_django_and_jinja2_pages_share_the_frame(client, alice, url, title, section):
    client.force_login(alice)
    response = client.get(url)
    text = response.text
    assert f"<title>{title}</title>" in text
    assert re.search(rf'aria-current="page">{section}</a>', text)
    assert len(re.findall(r'aria-current="page"', text.split("</nav>")[0])) == 1
    assert '<span class="username">alice</span>' in text and 'action="/accounts/logout/"' in text
    # Every script carries the nonce the policy names, and the CSRF token is the page's.
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    scripts = re.findall(r"<script [^>]*>", text)
    assert len(scripts) >= 9 and all(f'nonce="{nonce}"' in script for script in scripts)
    assert re.search(r'hx-headers=\'\{"x-csrftoken": "\w{64}"\}\'', text)


@pytest.mark.django_db
def test_a_django_page_s_title_is_escaped_once(client, alice):
    team = Team.objects.create(name="R&D <lab>", slug="rd")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    client.force_login(alice)
    assert "<title>R&amp;D &lt;lab&gt; · Teams · Genboard</title>" in client.get("/teams/rd/").text


def test_a_message_shows_once_in_the_frame(rf, alice):
    request = rf.get("/keys/")
    request.user = alice
    request._messages = CookieStorage(request)
    messages.info(request, "Saved <b>twice</b>")
    framed = pages.frame(request, mark_safe("<p>body</p>"), title="T")
    assert '<p class="alert alert-info">Saved &lt;b&gt;twice&lt;/b&gt;</p>' in framed and "<p>body</p>" in framed
    assert get_messages(request).used  # shown: the response drops it


def test_the_frame_without_a_request_is_anonymous():
    """Django's 500 page renders its template without a request."""
    framed = pages.frame(None, "<p>Something broke.</p>", title="Server error")
    assert "<title>Server error · Genboard</title>" in framed and 'href="/accounts/login/"' in framed
    assert 'nonce=""' in framed and "None" not in framed
