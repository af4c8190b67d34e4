"""Small things seen on the way: a job's timeline in time order, and counts that read right."""

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from history.models import Job
from teams.models import Member, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


def timeline_labels(html: str) -> list[str]:
    block = re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S).group(1)
    return re.findall(r'<span class="timeline-label">([^<]+)</span>', block)


def test_the_timeline_is_in_time_order(alice, alice_client):
    key = make_credential(alice, provider="audiopod", label="Pod")
    at = lambda minute: datetime(2026, 3, 1, 10, minute, tzinfo=UTC)  # noqa: E731
    # Imported while it ran (10:01), finished at 10:05, last looked at 10:06.
    job = Job.objects.create(
        credential=key, provider="audiopod", kind="music", external_id="7", status="succeeded",
        created=at(0), imported=at(1), completed=at(5), seen=at(6),
    )  # fmt: skip
    assert timeline_labels(alice_client.get(job.get_absolute_url()).text) == [
        "Created",
        "Imported",
        "Completed",
        "Last refreshed",
    ]


@pytest.mark.parametrize(
    ("jobs", "detail", "delete"),
    [
        (0, "No jobs have been imported through this key yet", "no jobs were imported through it"),
        (1, "removes the one job imported", "the one job"),
        (2, "removes the 2 jobs imported", "the 2 jobs"),
    ],
)
def test_deleting_a_key_counts_its_jobs_in_words(alice, alice_client, jobs, detail, delete):
    key = make_credential(alice, provider="audiopod", label="Pod")
    for n in range(jobs):
        Job.objects.create(
            credential=key, provider="audiopod", kind="music", external_id=str(n), status="succeeded",
            created=datetime(2026, 3, 1, tzinfo=UTC),
        )  # fmt: skip
    page = unescape(alice_client.get(key.get_absolute_url()).text)
    confirm = re.sub(r"<[^>]+>", "", unescape(alice_client.get(f"/keys/{key.code}/delete/").text))
    assert detail in page and delete in confirm
    assert "the 0 jobs" not in page + confirm and "0 job" not in confirm


def test_a_team_name_is_unique_among_your_teams(alice, alice_client):
    assert alice_client.post("/teams/new/", {"name": "Studio"}).status_code == 302
    response = alice_client.post("/teams/new/", {"name": " studio "})
    assert response.status_code == 400 and "You are already in a team called “studio”" in unescape(response.text)
    assert Team.objects.count() == 1


def test_the_team_filter_never_offers_two_identical_options(alice, bob, carol, client):
    # Bob's "Studio" and Carol's "Studio", made apart; Alice was added to both.
    for owner, slug in ((bob, "studio"), (carol, "studio-2")):
        team = Team.objects.create(name="Studio", slug=slug)
        Member.objects.create(team=team, user=owner, role=Member.Role.OWNER)
        Member.objects.create(team=team, user=alice, role=Member.Role.MEMBER)
    make_credential(alice, label="Mine")
    Job.objects.create(
        credential=alice.credentials.get(), provider="apimall", kind="audio", external_id="a1", status="succeeded",
        created=datetime(2026, 3, 1, tzinfo=UTC),
    )  # fmt: skip
    client.force_login(alice)
    page = client.get("/history/filters/").text  # "More filters", as it is fetched when opened
    select = re.search(r'<select name="team".*?</select>', page, re.S).group(0)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert options == ["All teams", "Studio (studio)", "Studio (studio-2)"]
