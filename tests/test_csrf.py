"""Every state change is a POST that carries the CSRF token (HTMX sends it in a header)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_posts_without_the_token_are_refused_and_htmx_sends_it(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    for url, data in (
        ("/keys/new/", {"provider": "munsit", "label": "x", "secret": "k" * 20}),
        ("/teams/new/", {"name": "T"}),
    ):
        assert browser.post(url, data).status_code == 403
    browser.get("/teams/new/")
    token = browser.cookies["csrftoken"].value
    response = browser.post("/teams/new/", {"name": "T"}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 302
