"""Two of a person's teams with the same name (ignoring case: teams made by different people
may be "Studio" and "studio") read differently wherever the person chooses among them or sees
them side by side (teams.naming)."""

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from annotations.models import Tag
from history.models import Job
from saved_views.models import SavedView
from teams import naming
from teams.models import Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


def test_labels_name_a_team_by_its_address_only_when_another_shares_its_name():
    teams = [Team(pk=1, name="Studio", slug="studio-a"), Team(pk=2, name="studio", slug="studio-b")]
    teams.append(Team(pk=3, name="Label", slug="label"))
    assert naming.labels(teams) == {1: "Studio (studio-a)", 2: "studio (studio-b)", 3: "Label"}
    assert naming.choices(teams[1:]) == [("studio-b", "studio"), ("label", "Label")]
    assert naming.labels([]) == {}


def options(text: str, select_id: str) -> list[str]:
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', text, re.S).group(0)
    return [unescape(label) for label in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def test_every_choice_of_team_tells_two_studios_apart(client, alice, bob):
    a = Team.objects.create(name="Studio", slug="studio-a")
    b = Team.objects.create(name="studio", slug="studio-b")
    label = Team.objects.create(name="Label", slug="label")
    for team in (a, b, label):
        Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    key = make_credential(alice, "apimall", label="Mine")
    for team in (a, b):
        Share.objects.create(team=team, credential=key, shared_by=alice)
        Tag.objects.create(team=team, name="keeper")
        SavedView.objects.create(user=alice, team=team, name=f"View of {team.slug}", position=0)
    job = Job.objects.create(
        credential=key, provider="apimall", kind="audio", external_id="a1", title="Song",
        status=Job.Status.SUCCEEDED, created=datetime(2026, 3, 1, tzinfo=UTC),
    )  # fmt: skip
    client.force_login(alice)
    studios = ["Studio (studio-a)", "studio (studio-b)"]

    fold = client.get("/history/filters/").text
    assert options(fold, "id_team") == ["All teams", "Label", *studios]
    assert options(fold, "id_tag") == ["Any tag", *(f"keeper (team {name})" for name in studios)]

    page = client.get("/history/").text
    assert options(page, "bulk-tag-team") == ["Only me", "Team Label", *(f"Team {name}" for name in studios)]
    assert options(page, "view-new-shared") == ["Only me", "Team Label", *(f"Team {name}" for name in studios)]
    groups = [unescape(g) for g in re.findall(r'<span class="view-tabs-label"[^>]*>([^<]*)</span>', page)]
    assert groups == studios
    names = client.get("/history/bulk/tags/").text
    assert [unescape(n) for n in re.findall(r'value="([^"]*)"', names)] == [f"keeper · {n}" for n in studios]

    detail = client.get(job.get_absolute_url()).text
    # The job's page offers the teams that see the job (its key is shared with both studios).
    assert options(detail, "tag-team") == ["Only me", *(f"Team {name}" for name in studios)]
