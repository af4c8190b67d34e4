"""Public links to one job: who may make and revoke them (the key's owner only), what the
public page shows and never shows, its files, revocation, unknown tokens, and the limit on
wrong tokens."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from history.models import Job
from public_links.models import PublicLink, digest
from teams.models import AuditEvent, Member, Share, Team
from tests.factories import make_credential
from tests.media_host import make_job
from tests.test_archive_views import BODY, archived

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "viewer", "outsider", "anonymous"]
SECRET = "sk-public-canary-9f8e7d6c"
LYRICS = "[00:01.00]Under the neon rain\n[00:05.00]We dance alone"


@pytest.fixture(autouse=True)
def _no_misses_counted():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(django_user_model, alice, bob, carol):
    """Alice's key "Alice Suno" is shared with Studio (dave admin, erin member, bob viewer);
    carol is outside. The song has lyrics, a prompt, a raw record and a parent job."""
    dave = django_user_model.objects.create_user("dave", "dave@example.test", "dave-pass-2026")
    erin = django_user_model.objects.create_user("erin", "erin@example.test", "erin-pass-2026")
    team = Team.objects.create(name="Studio", slug="studio")
    users = {"owner": alice, "admin": dave, "member": erin, "viewer": bob, "outsider": carol, "anonymous": None}
    Member.objects.create(team=team, user=alice, role="owner")
    for role in ("admin", "member", "viewer"):
        Member.objects.create(team=team, user=users[role], role=role)
    key = make_credential(alice, "audiopod", label="Alice Suno", secret=SECRET)
    Share.objects.create(team=team, credential=key, shared_by=alice)
    other = make_job(key, [{"kind": "audio", "url": "https://cdn.example/other.mp3"}], title="Another secret song")
    song = make_job(
        key,
        [{"kind": "audio", "url": "https://cdn.example/neon.mp3", "title": "Neon"}, {"kind": "image", "url": "https://cdn.example/cover.png"}],
        title="Neon rain",
        prompt="a private prompt about my ex",
        raw={"provider_marker": "raw-record-canary", "lrc_content": LYRICS},
        details={"lyrics": LYRICS},
        external_id="ext-visible-id",
    )  # fmt: skip
    return {"users": users, "key": key, "song": song, "other": other, "team": team}


def client_for(client, world, role):
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


@pytest.mark.parametrize("role", ROLES)
def test_only_the_keys_owner_makes_and_revokes_a_link(client, world, role):
    song = world["song"]
    expected = {"owner": 302, "admin": 403, "member": 403, "viewer": 403, "outsider": 404, "anonymous": 302}[role]
    client = client_for(client, world, role)
    response = client.post(f"/public/jobs/{song.code}/link/")
    assert response.status_code == expected
    assert PublicLink.objects.filter(job=song).exists() == (role == "owner")
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    PublicLink.objects.get_or_create(job=song, defaults={"created_by": world["users"]["owner"]})
    response = client.post(f"/public/jobs/{song.code}/link/revoke/")
    assert response.status_code == expected
    assert PublicLink.objects.filter(job=song).exists() == (role != "owner")


def test_making_twice_keeps_one_link_and_the_team_sees_it_happened(client, world):
    song = world["song"]
    client_for(client, world, "owner")
    client.post(f"/public/jobs/{song.code}/link/")
    client.post(f"/public/jobs/{song.code}/link/")
    assert PublicLink.objects.filter(job=song).count() == 1
    client.post(f"/public/jobs/{song.code}/link/revoke/")
    events = [str(event) for event in AuditEvent.objects.filter(team=world["team"]).order_by("id")]
    assert events == [
        "alice made a public link to “Neon rain” (AudioPod music, key Alice Suno)",
        "alice revoked the public link to “Neon rain” (AudioPod music, key Alice Suno)",
    ]


def test_the_token_is_long_and_looked_up_by_its_digest(world):
    link = PublicLink.objects.create(job=world["song"], created_by=world["users"]["owner"])
    assert len(link.token) >= 43  # 32 random bytes, ≥ 128 bits by far
    assert link.digest == digest(link.token) != link.token
    assert PublicLink.objects.by_token(link.token).get() == link
    assert not PublicLink.objects.by_token(link.token[:-1]).exists()


@pytest.mark.parametrize("role", ROLES)
def test_anyone_opens_an_active_link_and_sees_only_this_job(client, world, role):
    link = PublicLink.objects.create(job=world["song"], created_by=world["users"]["owner"])
    response = client_for(client, world, role).get(link.path)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Neon rain" in page and "Under the neon rain" in page
    assert "https://cdn.example/neon.mp3" in page and "https://cdn.example/cover.png" in page
    for never in (
        "Alice Suno",  # the key's label
        SECRET,
        SECRET[-4:],
        "Another secret song",
        str(world["other"].code),
        "raw-record-canary",
        "a private prompt",
        "alice",  # the owner
        "/history/",  # links into the owner's history
        "/keys/",
    ):
        assert never not in page, never
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"]


def test_a_revoked_link_and_an_unknown_token_are_404(client, world):
    link = PublicLink.objects.create(job=world["song"], created_by=world["users"]["owner"])
    path = link.path
    client_for(client, world, "owner").post(f"/public/jobs/{world['song'].code}/link/revoke/")
    client.logout()
    assert client.get(path).status_code == 404
    assert client.get("/public/not-a-token-at-all/").status_code == 404
    # A new link is a new address; the old one stays dead.
    client_for(client, world, "owner").post(f"/public/jobs/{world['song'].code}/link/")
    assert PublicLink.objects.get(job=world["song"]).path != path
    assert client.get(path).status_code == 404


def test_a_removed_job_takes_its_link(client, world):
    link = PublicLink.objects.create(job=world["song"], created_by=world["users"]["owner"])
    Job.objects.filter(pk=world["song"].pk).delete()
    assert client.get(link.path).status_code == 404


def test_archived_files_come_through_the_links_own_route_and_no_other_jobs(client, world):
    song, other = world["song"], world["other"]
    mine, image = archived(song), archived(song, position=1, kind="image", content_type="image/png")
    theirs = archived(other)
    link = PublicLink.objects.create(job=song, created_by=world["users"]["owner"])
    page = client.get(link.path).content.decode()
    own_route = f"/public/{link.token}/files/{mine.code}/"
    assert own_route in page and f"/public/{link.token}/files/{image.code}/" in page
    assert f"/files/{mine.code}/" not in page.replace(own_route, "")
    response = client.get(own_route, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and b"".join(response.streaming_content) == BODY[:10]
    assert client.get(f"/public/{link.token}/files/{theirs.code}/").status_code == 404
    # The archive's own address still needs a log-in.
    assert client.get(f"/files/{mine.code}/").status_code == 302
    PublicLink.objects.filter(pk=link.pk).delete()
    assert client.get(own_route).status_code == 404


def test_too_many_wrong_tokens_from_one_address_are_turned_away(client, world):
    link = PublicLink.objects.create(job=world["song"], created_by=world["users"]["owner"])
    for n in range(30):
        assert client.get(f"/public/wrong-{n}/").status_code == 404
    assert client.get(link.path).status_code == 429
    assert client.get(link.path, REMOTE_ADDR="192.0.2.7").status_code == 200


@pytest.mark.parametrize("role", ["owner", "admin", "viewer"])
def test_the_job_page_offers_the_link_to_the_owner_only(client, world, role):
    song = world["song"]
    client_for(client, world, role)
    page = client.get(song.get_absolute_url()).content.decode()
    assert ("Create a public link" in page) == (role == "owner")
    if role != "owner":
        return
    client.post(f"/public/jobs/{song.code}/link/")
    page = client.get(song.get_absolute_url()).content.decode()
    link = PublicLink.objects.get(job=song)
    assert f'value="http://testserver{link.path}"' in page
    assert 'data-copy="public-link-url"' in page and "Revoke the link" in page


def test_the_job_page_reads_its_public_link_with_the_job(client, world):
    """The owner's card takes the link from the job's own query (a join), with or without a link."""
    song = world["song"]
    client_for(client, world, "owner")
    for made in (False, True):
        if made:
            PublicLink.objects.create(job=song, created_by=world["users"]["owner"])
        with CaptureQueriesContext(connection) as queries:
            page = client.get(song.get_absolute_url()).content.decode()
        assert ("Revoke the link" in page) == made and ("Create a public link" in page) != made
        links = [q["sql"] for q in queries.captured_queries if "public_links_publiclink" in q["sql"]]
        assert len(links) == 1 and '"history_job"' in links[0]


def test_the_admin_lists_links_without_their_token(admin_client, world):
    link = PublicLink.objects.create(job=world["song"], created_by=world["users"]["owner"])
    for path in ("/admin/public_links/publiclink/", f"/admin/public_links/publiclink/{link.pk}/change/"):
        response = admin_client.get(path)
        assert response.status_code == 200
        assert link.token not in response.content.decode() and link.digest not in response.content.decode()


def test_the_date_is_the_visitors_day_and_says_its_zone(client, world):
    """No script on the public page: the date is in the zone the visitor's browser told
    Genboard (the `tz` cookie), else in UTC, and the page names the zone either way."""
    from datetime import UTC, datetime

    Job.objects.filter(pk=world["song"].pk).update(created=datetime(2026, 11, 20, 23, 30, tzinfo=UTC))
    link = PublicLink.objects.create(job=world["song"], created_by=world["users"]["owner"])
    page = client.get(link.path).content.decode()
    assert '>20 November 2026</time> <span class="muted">UTC</span>' in page
    client.cookies["tz"] = "Asia/Tokyo"
    page = client.get(link.path).content.decode()
    assert '>21 November 2026</time> <span class="muted">JST</span>' in page
