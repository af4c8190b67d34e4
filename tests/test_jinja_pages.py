"""The history's page in Jinja2 (config/jinja.py): what Django's templates did for it, kept."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import set_script_prefix

from config.jinja import url
from history.models import SyncRun
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_the_body_masks_the_csrf_token_once_like_djangos_templates(alice_client, alice):
    make_credential(alice)  # the key's sync forms and the summary's dismissal
    page = alice_client.get("/history/").content.decode()
    body = page[page.index('<main id="main"') :]  # the Jinja2 body (the frame's log-out form has its own)
    tokens = CSRF.findall(body)
    assert len(tokens) >= 4
    assert len(set(tokens)) == 1
    assert tokens[0] != alice_client.cookies["csrftoken"].value  # masked, not the secret itself


def test_addresses_follow_the_prefix_the_site_is_served_under():
    try:
        set_script_prefix("/genboard/")
        assert url("history:list") == "/genboard/history/"
    finally:
        set_script_prefix("/")
    assert url("history:list") == "/history/"


def test_times_are_shown_in_the_persons_timezone(alice_client, alice):
    key = make_credential(alice)
    when = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    SyncRun.objects.create(
        credential=key, trigger=SyncRun.Trigger.SCHEDULE, state=SyncRun.State.DONE, created=when, finished=when
    )
    alice_client.cookies["tz"] = "Europe/Berlin"
    page = alice_client.get("/history/").content.decode()
    assert 'datetime="2026-01-15T13:00:00+01:00"' in page
