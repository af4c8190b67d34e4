"""Who may do what with a team and with the history shared through it.

A role × view matrix: every team URL and method, and the history, export and key URLs of
shared jobs, for an owner, an admin, a member, a viewer, an outsider and an anonymous
visitor. Every denied request must also leave the database as it was.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from history.models import Job
from teams.models import AuditEvent, Invite, Member, Share, Team
from tests.factories import make_credential

SECRET = "sk-team-canary-5e6f7a8b9c0d"
ROLES = ["owner", "admin", "member", "viewer", "outsider", "anonymous"]
MEMBERS = ["owner", "admin", "member", "viewer"]
LOGIN = "/accounts/login/"


def make_job(credential, external_id: str, *, title: str = "", days_ago: int = 0, **fields) -> Job:
    return Job.objects.create(
        credential=credential,
        provider=credential.provider,
        kind=fields.pop("kind", Job.Kind.AUDIO),
        external_id=external_id,
        title=title or f"Job {external_id}",
        status=fields.pop("status", Job.Status.SUCCEEDED),
        created=datetime(2026, 11, 20, 12, tzinfo=UTC) - timedelta(days=days_ago),
        **fields,
    )


@pytest.fixture
def world(django_user_model, alice, bob, carol):
    """Team "Studio": alice owner, dave admin, erin member, bob viewer; carol outside.
    Alice and Erin share one key each; everyone has a key of their own not shared; frank
    has an account and no team, ready to be added."""
    dave = django_user_model.objects.create_user("dave", "dave@example.test", "dave-pass-2026")
    erin = django_user_model.objects.create_user("erin", "erin@example.test", "erin-pass-2026")
    frank = django_user_model.objects.create_user("frank", "frank@example.test", "frank-pass-2026")
    team = Team.objects.create(name="Studio", slug="studio")
    users = {"owner": alice, "admin": dave, "member": erin, "viewer": bob, "outsider": carol, "anonymous": None}
    for role in MEMBERS:
        Member.objects.create(team=team, user=users[role], role=role)
    alice_key = make_credential(alice, "apimall", label="Alice API Mall", secret=SECRET)
    erin_key = make_credential(erin, "audiopod", label="Erin AudioPod", secret=SECRET + "e")
    Share.objects.create(team=team, credential=alice_key, shared_by=alice)
    Share.objects.create(team=team, credential=erin_key, shared_by=erin)
    own = {role: make_credential(user, "munsit", label=f"{role} own key") for role, user in users.items() if user}
    invite = Invite.objects.create(team=team, role=Member.Role.MEMBER, created_by=alice)
    return {
        "team": team,
        "users": users,
        "frank": frank,
        "alice_key": alice_key,
        "erin_key": erin_key,
        "own": own,
        "invite": invite,
        "alice_job": make_job(alice_key, "a-1", title="Alice shared song"),
        "erin_job": make_job(erin_key, "e-1", title="Erin shared track", kind=Job.Kind.MUSIC),
        "carol_job": make_job(own["outsider"], "c-1", title="Carol private denoise", kind=Job.Kind.DENOISE),
    }


def client_for(client, world, role):
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


def snapshot():
    return (
        sorted(Team.objects.values_list("slug", "name")),
        sorted(Member.objects.values_list("team__slug", "user__username", "role")),
        sorted(Share.objects.values_list("team__slug", "credential__label")),
        sorted((str(code), used) for code, used in Invite.objects.values_list("code", "used")),
        AuditEvent.objects.count(),
    )


def resolve(world, role, path, data):
    """The case's URL and POST data for this world; "own key" is the requester's own key."""
    path = path.format(alice_key=world["alice_key"].code, invite=world["invite"].code, token=world["invite"].token)
    if data == "own key":
        data = {"credential": str(world["own"].get(role, world["own"]["owner"]).code)}
    return path, data or {}


# Each case: name, method, path, POST data, the status for each of
#   owner admin member viewer outsider anonymous
# and the roles whose request changes something (everyone else's must change nothing).
CASES = [
    ("list", "get", "/teams/", None, "200 200 200 200 200 302", ""),
    ("new form", "get", "/teams/new/", None, "200 200 200 200 200 302", ""),
    ("create", "post", "/teams/new/", {"name": "Another"}, "302 302 302 302 302 302", "owner admin member viewer outsider"),  # noqa: E501
    ("detail", "get", "/teams/studio/", None, "200 200 200 200 404 302", ""),
    ("members page", "get", "/teams/studio/members/", None, "200 200 200 200 404 302", ""),
    ("add member", "post", "/teams/studio/members/", {"username": "frank", "role": "viewer"}, "302 302 403 403 404 302", "owner admin"),  # noqa: E501
    ("change role", "post", "/teams/studio/members/erin/role/", {"role": "admin"}, "302 302 403 403 404 302", "owner admin"),  # noqa: E501
    ("remove member", "post", "/teams/studio/members/bob/remove/", None, "302 302 403 403 404 302", "owner admin"),
    ("leave", "post", "/teams/studio/leave/", None, "302 302 302 302 404 302", "admin member viewer"),
    ("shares page", "get", "/teams/studio/shares/", None, "200 200 200 200 404 302", ""),
    ("share", "post", "/teams/studio/shares/", "own key", "302 302 302 403 404 302", "owner admin member"),
    ("unshare", "post", "/teams/studio/shares/{alice_key}/delete/", None, "302 302 403 403 404 302", "owner admin"),
    ("invite", "post", "/teams/studio/invites/", {"role": "member"}, "302 302 403 403 404 302", "owner admin"),
    ("revoke invite", "post", "/teams/studio/invites/{invite}/delete/", None, "302 302 403 403 404 302", "owner admin"),
    ("invite page", "get", "/teams/invite/{token}/", None, "302 302 302 302 200 200", ""),
    ("accept invite", "post", "/teams/invite/{token}/", None, "302 302 302 302 302 302", "outsider"),
    ("leave by GET", "get", "/teams/studio/leave/", None, "405 405 405 405 405 302", ""),
    ("unshare: confirm first", "get", "/teams/studio/shares/{alice_key}/delete/", None, "200 200 403 403 404 302", ""),
    ("remove member: confirm first", "get", "/teams/studio/members/bob/remove/", None, "200 200 403 403 404 302", ""),
    ("unknown team", "get", "/teams/nope/", None, "404 404 404 404 404 302", ""),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "path", "data", "statuses", "changers"), CASES, ids=[c[0] for c in CASES])
def test_team_matrix(client, world, role, name, method, path, data, statuses, changers):
    client = client_for(client, world, role)
    url, data = resolve(world, role, path, data)
    before = snapshot()
    response = getattr(client, method)(url, data)
    assert response.status_code == int(statuses.split()[ROLES.index(role)]), (name, role)
    if role == "anonymous" and "invite" not in url:
        assert response.headers["Location"].startswith(LOGIN)
    if role in changers.split():
        assert snapshot() != before, (name, role)
    else:
        assert snapshot() == before, (name, role)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_shared_history_matrix(client, world, role):
    """Members see both shared keys' jobs in the list, job pages and exports; outsiders do
    not; nobody but a key's owner reaches the key's page; the secret is never sent."""
    client = client_for(client, world, role)
    member = role in MEMBERS
    shared = [world["alice_job"], world["erin_job"]]
    responses = [client.get("/history/"), client.get("/history/?team=studio")]
    responses += [client.get(f"/history/{job.code}/") for job in shared]
    if role == "anonymous":
        assert all(r.status_code == 302 and r.headers["Location"].startswith(LOGIN) for r in responses)
        assert client.get("/history/export.json").status_code == 302
        return
    listing, by_team, *pages = responses
    assert listing.status_code == 200
    for job in shared:
        assert (job.title in listing.text) is member
        assert (job.title in by_team.text) is member
    assert [page.status_code for page in pages] == [200, 200] if member else [404, 404]
    exported = {row["id"] for row in json.loads(b"".join(client.get("/history/export.json").streaming_content))}
    assert ({str(job.code) for job in shared} <= exported) is member
    assert (str(world["carol_job"].code) in exported) is (role == "outsider")
    for key, owner in [(world["alice_key"], "owner"), (world["erin_key"], "member")]:
        assert client.get(f"/keys/{key.code}/").status_code == (200 if role == owner else 404)
    for response in [listing, by_team, *pages]:
        assert SECRET not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("role", [*MEMBERS, "outsider"])
def test_team_pages_never_show_a_secret_or_anothers_last_four(client, world, role):
    client = client_for(client, world, role)
    for url in ["/teams/", "/teams/studio/", "/teams/studio/members/", "/teams/studio/shares/"]:
        text = client.get(url).text
        assert SECRET not in text and world["alice_key"].secret.stored not in text
        assert ("…" + world["alice_key"].last4 in text) is (
            role == "owner" and url != "/teams/" and "members" not in url
        )


@pytest.mark.django_db
def test_done_when_alice_shares_her_api_mall_key_with_studio(client, alice, bob, carol):
    """The issue's acceptance test, through the pages: Bob (viewer) sees exactly the jobs of
    the shared key and nothing else of Alice's; Carol (outsider) sees nothing."""
    api_mall = make_credential(alice, "apimall", label="API Mall", secret=SECRET)
    private = make_credential(alice, "audiopod", label="Private AudioPod", secret=SECRET + "p")
    shared_jobs = [make_job(api_mall, f"am-{i}", title=f"Shared clip {i}", days_ago=i) for i in range(3)]
    hidden_jobs = [make_job(private, f"ap-{i}", title=f"Secret demo {i}", kind=Job.Kind.MUSIC) for i in range(2)]

    client.force_login(alice)
    response = client.post("/teams/new/", {"name": "Studio"})
    assert response.status_code == 302 and response.headers["Location"] == "/teams/studio/"
    assert client.post("/teams/studio/members/", {"username": "bob", "role": "viewer"}).status_code == 302
    assert client.post("/teams/studio/shares/", {"credential": str(api_mall.code)}).status_code == 302
    assert client.post("/teams/studio/shares/", {"credential": str(private.code)}).status_code == 302
    assert client.post(f"/teams/studio/shares/{private.code}/delete/").status_code == 302

    def seen_by(user):
        client.force_login(user)
        rows = json.loads(b"".join(client.get("/history/export.json").streaming_content))
        return {row["id"] for row in rows}, client.get("/history/").text

    ids, page = seen_by(bob)
    assert ids == {str(job.code) for job in shared_jobs}
    assert all(job.title in page for job in shared_jobs) and not any(job.title in page for job in hidden_jobs)
    assert all(client.get(f"/history/{job.code}/").status_code == 404 for job in hidden_jobs)
    assert client.get(f"/keys/{api_mall.code}/").status_code == 404
    assert client.post("/teams/studio/shares/", {"credential": str(api_mall.code)}).status_code == 403

    ids, page = seen_by(carol)
    assert ids == set() and not any(job.title in page for job in shared_jobs + hidden_jobs)
    assert all(client.get(f"/history/{job.code}/").status_code == 404 for job in shared_jobs)
    assert client.get("/teams/studio/").status_code == 404


@pytest.mark.django_db
def test_unsharing_and_removal_take_effect_on_the_next_request(client, world):
    job, viewer = world["alice_job"], world["users"]["viewer"]
    owner_client = client.__class__()
    owner_client.force_login(world["users"]["owner"])
    client.force_login(viewer)

    def sees():
        listed = job.title in client.get("/history/").text
        page = client.get(f"/history/{job.code}/").status_code == 200
        rows = json.loads(b"".join(client.get("/history/export.json").streaming_content))
        exported = str(job.code) in {row["id"] for row in rows}
        assert listed == page == exported
        return listed

    assert sees()
    owner_client.post(f"/teams/studio/shares/{world['alice_key'].code}/delete/")
    assert not sees()
    owner_client.post("/teams/studio/shares/", {"credential": str(world["alice_key"].code)})
    assert sees()
    owner_client.post("/teams/studio/members/bob/remove/")
    assert not sees()
    assert client.get("/teams/studio/").status_code == 404


@pytest.mark.django_db
def test_leaving_stops_sharing_ones_keys(client, world):
    client.force_login(world["users"]["member"])
    assert client.post("/teams/studio/leave/").status_code == 302
    assert not Share.objects.filter(credential=world["erin_key"]).exists()
    client.force_login(world["users"]["viewer"])
    assert client.get(f"/history/{world['erin_job'].code}/").status_code == 404
    assert client.get(f"/history/{world['alice_job'].code}/").status_code == 200


@pytest.mark.django_db
def test_access_helpers(world):
    from teams import access

    members = {m.role: m for m in Member.objects.filter(team=world["team"]).select_related("user")}
    owner, admin, member, viewer = (members[r] for r in MEMBERS)
    assert access.assignable_roles(owner) == ["owner", "admin", "member", "viewer"]
    assert access.assignable_roles(admin) == ["admin", "member", "viewer"]
    assert access.assignable_roles(member) == access.assignable_roles(viewer) == []
    assert access.can_change(owner, owner) and access.can_change(admin, member)
    assert not access.can_change(admin, owner) and not access.can_change(member, viewer)
    assert [access.can_share(m) for m in (owner, admin, member, viewer)] == [True, True, True, False]
    assert access.is_last_owner(owner) and not access.is_last_owner(admin)
    job = world["alice_job"]
    assert [access.can_refresh(m.user, job) for m in (owner, admin, member, viewer)] == [True, True, True, False]
    assert [access.can_act(m.user, job) for m in (owner, admin, member, viewer)] == [True, False, False, False]
    assert not access.can_refresh(world["users"]["outsider"], job)
    # The same answers from the roles a caller read already (annotations.access.roles_seeing).
    from annotations.access import roles_seeing

    seen = [access.can_refresh(m.user, job, roles=roles_seeing(m.user, job).values()) for m in members.values()]
    assert seen == [access.can_refresh(m.user, job) for m in members.values()]
    assert not access.can_refresh(world["users"]["outsider"], job, roles=[])
