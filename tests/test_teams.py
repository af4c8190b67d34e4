"""Teams: creating them, members and roles, invite links, sharing keys, the audit trail."""

from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from teams import actions, audit
from teams.models import AuditEvent, Invite, Member, Share, Team
from tests.factories import make_credential
from tests.test_team_access import make_job

SECRET = "sk-teams-canary-0f1e2d3c4b5a"


@pytest.fixture
def studio(alice):
    return actions.create_team(alice, "Studio")


def add(team, user, role):
    return Member.objects.create(team=team, user=user, role=role)


def roles(team):
    return dict(team.members.values_list("user__username", "role"))


def texts(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_messages(client, response):
    return [str(m) for m in client.get(response.headers["Location"]).context["messages"]]


# --- Creating teams -------------------------------------------------------------------


@pytest.mark.django_db
def test_empty_state_then_a_new_team_with_its_creator_as_owner(alice_client, alice):
    page = alice_client.get("/teams/")
    assert "You are not in a team yet" in page.text and 'href="/teams/new/"' in page.text
    response = alice_client.post("/teams/new/", {"name": "  Studio  "})
    assert response.status_code == 302 and response.headers["Location"] == "/teams/studio/"
    team = Team.objects.get()
    assert team.name == "Studio" and roles(team) == {"alice": "owner"}
    page = alice_client.get("/teams/")
    assert "/teams/studio/" in page.text and "Owner" in page.text and "not in a team" not in page.text
    detail = alice_client.get("/teams/studio/")
    assert "<title>Studio · Teams · Genboard</title>" in detail.text
    assert "created the team" in detail.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("names", "slug"),
    [
        (["Studio", "studio"], "studio-2"),
        (["Studio", "Studio", "STUDIO"], "studio-3"),
        (["new"], "new-2"),
        (["Invite"], "invite-2"),
        (["Ünïcödé Crew!"], "unicode-crew"),
        (["Студия"], "team"),
        (["!!!", "???"], "team-2"),
        (["x" * 100], "x" * 100),
    ],
)
def test_slugs_are_made_unique_and_never_shadow_other_urls(alice, names, slug):
    for name in names:
        team = actions.create_team(alice, name)
    assert team.slug == slug and team.name == names[-1]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "message"), [("", "This field is required"), ("   ", "This field is required")])
def test_a_team_needs_a_name(alice_client, name, message):
    response = alice_client.post("/teams/new/", {"name": name})
    assert response.status_code == 400 and message in response.text and 'id="id_name_error"' in response.text
    assert not Team.objects.exists()


# --- Members ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_adds_members_by_username_with_a_role(alice_client, studio, bob, carol):
    response = alice_client.post("/teams/studio/members/", {"username": "BOB", "role": "viewer"})
    assert response.status_code == 302
    assert "bob joined Studio as viewer." in follow_messages(alice_client, response)
    alice_client.post("/teams/studio/members/", {"username": "carol", "role": "owner"})
    assert roles(studio) == {"alice": "owner", "bob": "viewer", "carol": "owner"}
    events = list(AuditEvent.objects.filter(team=studio, verb=audit.Verb.MEMBER_ADD).values_list("subject", flat=True))
    assert sorted(events) == ["bob (viewer)", "carol (owner)"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "nobody", "role": "member"}, "There is no Genboard user called “nobody”"),
        ({"username": "alice", "role": "member"}, "alice is already a member of Studio."),
        ({"username": "", "role": "member"}, "This field is required"),
        ({"username": "bob", "role": ""}, "Choose a role."),
        ({"username": "bob", "role": "superuser"}, "Choose owner, admin, member or viewer."),
    ],
)
def test_adding_a_member_explains_bad_input(alice_client, studio, bob, data, message):
    response = alice_client.post("/teams/studio/members/", data)
    assert response.status_code == 400 and message in response.text
    assert roles(studio) == {"alice": "owner"}


@pytest.mark.django_db
def test_only_owners_make_owners(client, studio, bob, carol):
    add(studio, bob, "admin")
    client.force_login(bob)
    response = client.post("/teams/studio/members/", {"username": "carol", "role": "owner"})
    assert response.status_code == 400 and "Only owners can make owners." in response.text
    assert client.post("/teams/studio/members/", {"username": "carol", "role": "admin"}).status_code == 302
    response = client.post("/teams/studio/members/carol/role/", {"role": "owner"})
    assert "carol’s role was not changed: Only owners can make owners." in follow_messages(client, response)
    assert roles(studio) == {"alice": "owner", "bob": "admin", "carol": "admin"}
    # An admin touches no owner: neither their role nor their membership.
    assert client.post("/teams/studio/members/alice/role/", {"role": "viewer"}).status_code == 403
    assert client.post("/teams/studio/members/alice/remove/").status_code == 403
    assert roles(studio)["alice"] == "owner"


@pytest.mark.django_db
def test_changing_roles(alice_client, studio, bob):
    add(studio, bob, "member")
    response = alice_client.post("/teams/studio/members/bob/role/", {"role": "admin"})
    assert "bob is now admin." in follow_messages(alice_client, response)
    response = alice_client.post("/teams/studio/members/bob/role/", {"role": "admin"})
    assert "bob was admin already." in follow_messages(alice_client, response)
    assert alice_client.post("/teams/studio/members/nobody/role/", {"role": "admin"}).status_code == 404
    assert roles(studio)["bob"] == "admin"
    assert AuditEvent.objects.filter(verb=audit.Verb.MEMBER_ROLE, subject="bob: member → admin").count() == 1


@pytest.mark.django_db
def test_the_last_owner_cannot_be_demoted_removed_or_leave(alice_client, studio, bob):
    add(studio, bob, "admin")
    response = alice_client.post("/teams/studio/members/alice/role/", {"role": "admin"})
    assert "alice is the team’s only owner: make someone else owner first." in follow_messages(alice_client, response)
    response = alice_client.post("/teams/studio/members/alice/remove/")
    assert "You are the team’s only owner: make someone else owner before you leave." in follow_messages(
        alice_client, response
    )
    response = alice_client.post("/teams/studio/leave/")
    assert response.headers["Location"] == "/teams/studio/"
    assert "make someone else owner before you leave" in " ".join(follow_messages(alice_client, response))
    assert "You are the team’s only owner" in alice_client.get("/teams/studio/").text
    assert roles(studio) == {"alice": "owner", "bob": "admin"}
    # With a second owner, the first may step down, then leave.
    alice_client.post("/teams/studio/members/bob/role/", {"role": "owner"})
    alice_client.post("/teams/studio/members/alice/role/", {"role": "member"})
    assert roles(studio) == {"alice": "member", "bob": "owner"}
    response = alice_client.post("/teams/studio/leave/")
    assert response.headers["Location"] == "/teams/" and roles(studio) == {"bob": "owner"}


@pytest.mark.django_db
def test_the_last_owner_rule_holds_in_the_actions_themselves(studio, alice):
    owner = studio.members.get(user=alice)
    with pytest.raises(actions.TeamError):
        actions.change_role(alice, owner, Member.Role.VIEWER)
    with pytest.raises(actions.TeamError):
        actions.remove_member(alice, owner)
    assert roles(studio) == {"alice": "owner"}


@pytest.mark.django_db
def test_removing_a_member_ends_their_shares(alice_client, studio, bob):
    add(studio, bob, "member")
    key = make_credential(bob, label="Bob's key")
    actions.share(bob, studio, key)
    response = alice_client.post("/teams/studio/members/bob/remove/")
    assert "bob is no longer a member of Studio." in follow_messages(alice_client, response)
    assert roles(studio) == {"alice": "owner"} and not Share.objects.exists()
    verbs = list(AuditEvent.objects.filter(team=studio).values_list("verb", flat=True))
    assert verbs[:2] == [audit.Verb.MEMBER_REMOVE, audit.Verb.SHARE_REMOVE]


@pytest.mark.django_db
def test_members_page_offers_management_only_to_managers(client, studio, alice, bob):
    add(studio, bob, "member")
    client.force_login(alice)
    page = client.get("/teams/studio/members/")
    assert "Add a member" in page.text and "Invite links" in page.text
    assert 'for="role-' in page.text and "<title>Members · Studio · Genboard</title>" in page.text
    client.force_login(bob)
    page = client.get("/teams/studio/members/")
    assert page.status_code == 200 and "alice" in page.text
    assert "Add a member" not in page.text and "Invite links" not in page.text and "/remove/" not in page.text


@pytest.mark.django_db
def test_usernames_with_punctuation_work_in_member_urls(alice_client, studio, django_user_model):
    django_user_model.objects.create_user("first.last+x@home", "fl@example.test", "pw-2026-long")
    alice_client.post("/teams/studio/members/", {"username": "first.last+x@home", "role": "member"})
    page = alice_client.get("/teams/studio/members/").text
    assert "/teams/studio/members/first.last+x@home/role/" in page
    assert alice_client.post("/teams/studio/members/first.last+x@home/role/", {"role": "admin"}).status_code == 302
    assert alice_client.post("/teams/studio/members/first.last+x@home/remove/").status_code == 302
    assert roles(studio) == {"alice": "owner"}


# --- Invite links -------------------------------------------------------------------


@pytest.fixture
def invite(studio, alice):
    return actions.create_invite(alice, studio, Member.Role.VIEWER)


@pytest.mark.django_db
def test_managers_make_and_revoke_invite_links(alice_client, studio):
    response = alice_client.post("/teams/studio/invites/", {"role": "admin"})
    assert response.headers["Location"] == "/teams/studio/members/#invites"
    invite = Invite.objects.get()
    assert invite.role == "admin" and invite.created_by.username == "alice"
    assert timedelta(days=6, hours=23) < invite.expires - timezone.now() <= timedelta(days=7)
    page = alice_client.get("/teams/studio/members/")
    assert f"http://testserver/teams/invite/{invite.token}/" in page.text
    response = alice_client.post(f"/teams/studio/invites/{invite.code}/delete/")
    assert "Invite link revoked: it no longer works." in follow_messages(alice_client, response)
    assert not Invite.objects.exists()
    assert alice_client.get(f"/teams/invite/{invite.token}/").status_code == 404


@pytest.mark.django_db
def test_admins_cannot_make_owner_invites(client, studio, bob):
    add(studio, bob, "admin")
    client.force_login(bob)
    response = client.post("/teams/studio/invites/", {"role": "owner"})
    assert "No invite link was made: Only owners can make owners." in follow_messages(client, response)
    assert not Invite.objects.exists()


@pytest.mark.django_db
def test_a_logged_in_person_joins_by_invite_once(client, studio, invite, bob, carol):
    client.force_login(bob)
    page = client.get(f"/teams/invite/{invite.token}/")
    assert page.status_code == 200 and "Join Studio" in page.text and "alice invites you" in page.text
    assert roles(studio) == {"alice": "owner"}  # looking is not joining
    response = client.post(f"/teams/invite/{invite.token}/")
    assert response.headers["Location"] == "/teams/studio/"
    assert "Welcome to Studio: you joined as viewer." in follow_messages(client, response)
    invite.refresh_from_db()
    assert invite.used is not None and invite.used_by == bob
    assert AuditEvent.objects.filter(verb=audit.Verb.INVITE_JOIN, actor=bob, team=studio).exists()
    # Single use: the next person is told, and stays out.
    client.force_login(carol)
    page = client.get(f"/teams/invite/{invite.token}/")
    assert page.status_code == 410 and "already used" in page.text
    assert client.post(f"/teams/invite/{invite.token}/").status_code == 410
    assert roles(studio) == {"alice": "owner", "bob": "viewer"}


@pytest.mark.django_db
def test_expired_and_unknown_invites(client, invite, bob):
    Invite.objects.filter(pk=invite.pk).update(expires=timezone.now() - timedelta(seconds=1))
    client.force_login(bob)
    page = client.get(f"/teams/invite/{invite.token}/")
    assert page.status_code == 410 and "expired" in page.text
    assert client.post(f"/teams/invite/{invite.token}/").status_code == 410
    assert client.get("/teams/invite/not-a-token/").status_code == 404
    assert not Member.objects.filter(user=bob).exists()


@pytest.mark.django_db
def test_a_member_opening_an_invite_leaves_it_for_someone_else(alice_client, invite):
    response = alice_client.get(f"/teams/invite/{invite.token}/")
    assert response.headers["Location"] == "/teams/studio/"
    assert "You are already a member of Studio." in follow_messages(alice_client, response)
    invite.refresh_from_db()
    assert invite.usable


@pytest.mark.django_db
def test_an_anonymous_visitor_signs_up_and_lands_in_the_team(client, studio, invite):
    page = client.get(f"/teams/invite/{invite.token}/")
    signup = f"/accounts/signup/?next=/teams/invite/{invite.token}/"
    assert page.status_code == 200 and "Join Studio" in page.text and signup in page.text
    assert client.session["teams_invite_token"] == invite.token
    form = client.get(signup)
    assert form.status_code == 200
    response = client.post(
        signup,
        {
            "email": "nina@example.test",
            "username": "nina",
            "password1": "a-long-pass-2026!",
            "password2": "a-long-pass-2026!",
            "next": f"/teams/invite/{invite.token}/",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/teams/studio/"
    assert response.status_code == 200 and "<h1>Studio</h1>" in response.text
    assert "Welcome to Studio: you joined as viewer." in response.text
    assert roles(studio) == {"alice": "owner", "nina": "viewer"}
    assert "teams_invite_token" not in client.session


@pytest.mark.django_db
def test_signing_up_without_an_invite_joins_nothing(client, studio, invite):
    client.post(
        "/accounts/signup/",
        {
            "email": "olga@example.test",
            "username": "olga",
            "password1": "a-long-pass-2026!",
            "password2": "a-long-pass-2026!",
        },
    )
    assert Member.objects.filter(user__username="olga").count() == 0
    invite.refresh_from_db()
    assert invite.usable


@pytest.mark.django_db
def test_an_existing_account_logs_in_from_the_invite_and_confirms(client, studio, invite, bob):
    client.get(f"/teams/invite/{invite.token}/")
    login = f"/accounts/login/?next=/teams/invite/{invite.token}/"
    response = client.post(login, {"login": "bob", "password": "bob-pass-2026"})
    assert response.status_code == 302 and response.headers["Location"] == f"/teams/invite/{invite.token}/"
    assert roles(studio) == {"alice": "owner"}  # logging in alone adds nobody to a team
    assert "Join Studio as bob" in client.get(response.headers["Location"]).text
    client.post(f"/teams/invite/{invite.token}/")
    assert roles(studio) == {"alice": "owner", "bob": "viewer"}


@pytest.mark.django_db
def test_an_invite_claimed_meanwhile_admits_nobody_else(studio, invite, bob, carol):
    stale = Invite.objects.get(pk=invite.pk)  # loaded before someone else used it
    actions.accept_invite(invite, bob)
    with pytest.raises(actions.TeamError, match="already used"):
        actions.accept_invite(stale, carol)
    assert roles(studio) == {"alice": "owner", "bob": "viewer"}


# --- Shares ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_keys_whose_history_one_sees_follow_the_sharing_rule(studio, alice, bob, carol, django_user_model):
    """Credential.objects.history_visible_to() (one SQL statement) against the rule written
    with the ORM's lookups: one's own keys, and keys shared with a team one is in, whatever
    the role; each once, even when shared with two of one's teams."""
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Q

    from providers.models import Credential

    label = Team.objects.create(name="Label", slug="label")
    outsiders = Team.objects.create(name="Outsiders", slug="outsiders")
    add(studio, bob, Member.Role.VIEWER)
    add(label, bob, Member.Role.MEMBER)
    add(label, alice, Member.Role.ADMIN)
    add(outsiders, carol, Member.Role.OWNER)
    make_credential(alice, "apimall", label="Alice")
    twice = make_credential(alice, "audiopod", label="Shared twice")
    bobs = make_credential(bob, "munsit", label="Bob")
    carols = make_credential(carol, "apikley", label="Carol")
    make_credential(carol, "apimall", label="Carol private")
    for team, key in [(studio, twice), (label, twice), (label, bobs), (outsiders, carols)]:
        Share.objects.create(team=team, credential=key, shared_by=key.owner)
    dave = django_user_model.objects.create_user("dave", password="x")

    def by_rule(user):
        seen = Q(owner=user) | Q(shares__team__members__user=user)
        return sorted(Credential.objects.filter(seen).distinct().values_list("label", flat=True))

    def seen(user):
        return sorted(Credential.objects.history_visible_to(user).values_list("label", flat=True))

    assert seen(alice) == by_rule(alice) == ["Alice", "Bob", "Shared twice"]
    assert seen(bob) == by_rule(bob) == ["Bob", "Shared twice"]
    assert seen(carol) == by_rule(carol) == ["Carol", "Carol private"]
    assert seen(dave) == by_rule(dave) == []
    assert not Credential.objects.history_visible_to(AnonymousUser()).exists()
    Member.objects.filter(team=label, user=bob).delete()
    assert seen(bob) == by_rule(bob) == ["Bob", "Shared twice"]  # still a viewer in Studio
    Member.objects.filter(team=studio, user=bob).delete()
    assert seen(bob) == ["Bob"]


def test_sharing_and_unsharing_a_key(alice_client, studio, alice):
    key = make_credential(alice, "apimall", label="Main", secret=SECRET)
    page = alice_client.get("/teams/studio/shares/")
    assert "No shared keys yet" in page.text and f'value="{key.code}"' in page.text
    response = alice_client.post("/teams/studio/shares/", {"credential": str(key.code)})
    assert response.headers["Location"] == "/teams/studio/shares/"
    assert "Studio now sees the history of “Main”, never the key itself." in follow_messages(alice_client, response)
    share = Share.objects.get()
    assert share.credential == key and share.shared_by == alice
    response = alice_client.post("/teams/studio/shares/", {"credential": str(key.code)})
    assert response.status_code == 400 and "“Main” is already shared with Studio." in response.text
    response = alice_client.post(f"/teams/studio/shares/{key.code}/delete/")
    assert "“Main” is no longer shared with Studio." in follow_messages(alice_client, response)
    assert not Share.objects.exists()
    subjects = list(AuditEvent.objects.filter(verb__startswith="share.").values_list("subject", flat=True))
    assert subjects == ["“Main” (API Mall)"] * 2
    assert all(SECRET not in event.subject for event in AuditEvent.objects.all())


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["someone-elses", "not-a-uuid", "", "00000000-0000-0000-0000-000000000000"])
def test_only_your_own_keys_can_be_shared(alice_client, studio, bob, value):
    bobs = make_credential(bob, label="Bob's")
    data = {"credential": str(bobs.code) if value == "someone-elses" else value}
    response = alice_client.post("/teams/studio/shares/", data)
    assert response.status_code == 400 and 'id="id_credential_error"' in response.text
    assert "Choose one of your own keys." in response.text or "Choose one of your keys." in response.text
    assert not Share.objects.exists()


@pytest.mark.django_db
def test_the_key_owner_may_unshare_even_as_a_viewer(client, studio, bob):
    add(studio, bob, "member")
    key = make_credential(bob, label="Bob's")
    actions.share(bob, studio, key)
    studio.members.filter(user=bob).update(role="viewer")
    client.force_login(bob)
    assert client.post(f"/teams/studio/shares/{key.code}/delete/").status_code == 302
    assert not Share.objects.exists()


@pytest.mark.django_db
def test_shares_page_for_someone_without_keys_and_for_viewers(client, studio, bob, carol):
    add(studio, bob, "member")
    add(studio, carol, "viewer")
    client.force_login(bob)
    assert "You have no keys to share yet." in client.get("/teams/studio/shares/").text
    client.force_login(carol)
    page = client.get("/teams/studio/shares/")
    assert "As a viewer you see the shared history" in page.text and "<select" not in page.text


# --- Team page and audit trail ------------------------------------------------------


@pytest.mark.django_db
def test_team_page_lists_members_shared_keys_and_activity_newest_first(client, studio, alice, bob):
    add(studio, bob, "viewer")
    key = make_credential(alice, "audiopod", label="Podcast", secret=SECRET)
    actions.share(alice, studio, key)
    client.force_login(bob)
    page = client.get("/teams/studio/").text
    assert "alice" in page and "bob" in page and "Podcast" in page and "AudioPod" in page
    assert "alice’s" in page and SECRET not in page and key.last4 not in page
    assert page.index("shared the history of") < page.index("created the team")
    assert f'href="/history/?credential={key.code}"' in page
    client.force_login(alice)
    assert f"…{key.last4}" in client.get("/teams/studio/").text


@pytest.mark.django_db
def test_activity_shows_a_limited_number_of_events(alice_client, studio, alice):
    for i in range(60):
        audit.record(alice, audit.Verb.JOB_RETRY, team=studio, subject=f"event-{i:02d}")
    page = alice_client.get("/teams/studio/").text
    assert "event-59" in page and "event-10" in page and "event-09" not in page


@pytest.mark.django_db
def test_record_is_safe_for_any_caller(alice, studio, carol):
    from django.contrib.auth.models import AnonymousUser

    key = make_credential(alice, label="K", secret=SECRET)
    event = audit.record(alice, "key.custom", subject=key)
    assert event.team is None and event.actor == alice and event.actor_name == "alice"
    assert event.subject == f"“K” (API Mall …{key.last4})" and SECRET not in event.subject
    assert audit.record(alice, audit.Verb.SHARE_ADD, team=studio, subject=key).subject == "“K” (API Mall)"
    assert audit.record(None, audit.Verb.KEY_SYNC).actor_name == ""
    assert audit.record(AnonymousUser(), audit.Verb.KEY_SYNC).actor is None
    assert len(audit.record(carol, audit.Verb.JOB_RENAME, subject="x" * 1000).subject) == 300
    assert event.verb_display == "key.custom" and str(event).startswith("alice key.custom")


@pytest.mark.django_db
def test_record_for_job_lands_on_every_team_the_key_is_shared_with(alice, studio):
    other = actions.create_team(alice, "Band")
    key = make_credential(alice, label="Main", secret=SECRET)
    job = make_job(key, "j-1", title="Song")
    [event] = audit.record_for_job(alice, audit.Verb.JOB_DELETE, job)
    assert event.team is None and event.subject.startswith("“Song”")
    actions.share(alice, studio, key)
    actions.share(alice, other, key)
    events = audit.record_for_job(alice, audit.Verb.JOB_RENAME, job, detail="now “Song 2”")
    assert {e.team for e in events} == {studio, other}
    assert all(e.subject.endswith(": now “Song 2”") for e in events)


@pytest.mark.django_db
def test_remove_member_and_stop_sharing_ask_first(alice_client, alice, bob):
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.MEMBER)
    key = make_credential(alice, label="Mix")
    Share.objects.create(team=team, credential=key, shared_by=alice)
    members = alice_client.get("/teams/studio/members/").text
    assert 'href="/teams/studio/members/bob/remove/"' in members  # a link to a confirmation, not a button that acts
    confirm = alice_client.get("/teams/studio/members/bob/remove/")
    assert "Remove bob from Studio?" in confirm.text and 'method="post"' in confirm.text
    shares = alice_client.get("/teams/studio/shares/").text
    assert f'href="/teams/studio/shares/{key.code}/delete/"' in shares
    confirm = alice_client.get(f"/teams/studio/shares/{key.code}/delete/")
    assert "Stop sharing “Mix” with Studio?" in unescape(confirm.text)
    assert Member.objects.filter(team=team, user=bob).exists() and Share.objects.filter(credential=key).exists()
