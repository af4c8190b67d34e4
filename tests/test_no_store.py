"""Pages that hold a secret-like value or a whole history are never cached (no-store)."""

import pytest

from teams import actions
from teams.models import Member

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def invite(alice):
    return actions.create_invite(alice, actions.create_team(alice, "Studio"), Member.Role.VIEWER)


def test_pages_showing_invite_tokens_are_not_stored(alice_client, client, invite):
    members = alice_client.get("/teams/studio/members/")
    assert str(invite.token) in members.text and no_store(members)
    client.logout()
    page = client.get(f"/teams/invite/{invite.token}/")
    assert page.status_code == 200 and no_store(page)


@pytest.mark.parametrize("url", ["/history/export.json", "/history/export.csv"])
def test_exports_are_not_stored(alice_client, url):
    response = alice_client.get(url)
    assert response.status_code == 200 and no_store(response)
