"""The filter form's choices are the viewer's own: the form class is made once per process
(history.filters.JobFilter.get_form_class) and each form gets its person's keys, teams, tags
and models; nothing one person's form offered reaches the next person's."""

import pytest
from django.utils import timezone

from annotations.models import Tag
from history.filters import JobFilter
from history.models import Job
from providers.models import Credential
from teams.models import Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


def _jobs_of(user, label, model):
    key = make_credential(user, provider="apimall", label=label)
    Job.objects.create(
        credential=key,
        provider="apimall",
        kind="audio",
        external_id=label,
        model=model,
        status="succeeded",
        created=timezone.now(),
    )
    Tag.objects.create(owner=user, name=f"{label} tag")
    return key


def _choices(filters, name):
    return [str(label) for value, label in filters.form.fields[name].choices if value]


def test_each_form_offers_its_viewers_choices(alice, bob, rf):
    _jobs_of(alice, "Alice key", "alice-model")
    _jobs_of(bob, "Bob key", "bob-model")
    seen = {}
    for user in (alice, bob, alice):
        request = rf.get("/history/")
        request.user = user
        filters = JobFilter(None, request=request)
        seen.setdefault(user.username, []).append(
            {name: _choices(filters, name) for name in ("credential", "tag", "model")}
        )
    assert (
        seen["alice"][0]
        == seen["alice"][1]
        == {
            "credential": ["Alice key (API Mall)"],
            "tag": ["Alice key tag"],
            "model": ["alice-model"],
        }
    )
    assert seen["bob"][0] == {"credential": ["Bob key (API Mall)"], "tag": ["Bob key tag"], "model": ["bob-model"]}
    shared = JobFilter._form_class.base_fields
    assert [list(shared[name].queryset) for name in ("credential", "team", "tag")] == [[], [], []]
    assert list(shared["model"].choices) == [("", "All models")]


def test_the_jobs_by_default_are_the_viewers(alice, bob, rf):
    _jobs_of(alice, "Alice key", "alice-model")
    _jobs_of(bob, "Bob key", "bob-model")
    request = rf.get("/history/", {"status": "succeeded"})
    request.user = bob
    assert [job.external_id for job in JobFilter(request.GET, request=request).qs] == ["Bob key"]


def test_a_choice_of_someone_elses_key_is_refused(alice, bob, rf):
    alices = _jobs_of(alice, "Alice key", "alice-model")
    _jobs_of(bob, "Bob key", "bob-model")
    request = rf.get("/history/", {"credential": str(alices.code)})
    request.user = bob
    filters = JobFilter(request.GET, request=request)
    assert not filters.is_valid() and "credential" in filters.form.errors


def test_the_visible_keys_follow_a_share_made_after_they_were_first_asked_for(alice, bob):
    """history_visible_to() asks the database each time, never keeps the keys it found."""
    own = _jobs_of(bob, "Bob key", "bob-model")
    assert list(Credential.objects.history_visible_to(bob)) == [own]
    team = Team.objects.create(name="Studio", slug="studio")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.VIEWER)
    alices = _jobs_of(alice, "Alice key", "alice-model")
    Share.objects.create(team=team, credential=alices, shared_by=alice)
    assert set(Credential.objects.history_visible_to(bob)) == {own, alices}


def test_two_teams_that_share_a_name_are_told_apart(alice, rf):
    for name, slug in [("Studio", "studio-a"), ("studio", "studio-b"), ("Label", "label")]:
        Member.objects.create(team=Team.objects.create(name=name, slug=slug), user=alice, role=Member.Role.OWNER)
    request = rf.get("/history/")
    request.user = alice
    assert sorted(_choices(JobFilter(None, request=request), "team")) == [
        "Label",
        "Studio (studio-a)",
        "studio (studio-b)",
    ]


def test_each_filterset_searches_with_its_own_filters(alice, bob, rf):
    """The filters are copied per filterset (history.filters.bound_copy), not deep-copied: each
    copy answers to its own filterset, and the class's filters stay as declared."""
    _jobs_of(alice, "alices", "m1")
    _jobs_of(bob, "bobs", "m2")
    requests = []
    for user in (alice, bob):
        request = rf.get("/history/")
        request.user = user
        requests.append(request)
    alices = JobFilter({"q": "alices"}, request=requests[0])
    bobs = JobFilter({"q": "alices"}, request=requests[1])
    assert alices.filters["q"] is not bobs.filters["q"]
    assert alices.filters["q"].parent is alices and bobs.filters["q"].parent is bobs
    assert [job.external_id for job in alices.qs] == ["alices"]
    assert list(bobs.qs) == []  # bob's filterset searches bob's jobs
    assert getattr(JobFilter.base_filters["q"], "parent", None) is None
    assert JobFilter.base_filters["q"].filter.f is JobFilter.base_filters["q"]
