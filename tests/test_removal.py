"""Remove a job from Genboard (/history/<id>/remove/): owner only, any provider, and it stays
removed when its key syncs again."""

from datetime import UTC, datetime
from html import unescape

import pytest

from history.importer import import_task_ids
from history.models import Job, Tombstone
from history.sync import sync_credential
from teams.models import AuditEvent, Member, Share, Team
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


def make_job(credential, external_id="task-0000000042", title="Late night demo", **fields) -> Job:
    values = {
        "provider": credential.provider,
        "kind": "music",
        "status": "succeeded",
        "created": datetime(2026, 3, 1, tzinfo=UTC),
        "title": title,
    }
    return Job.objects.create(credential=credential, external_id=external_id, **(values | fields))


@pytest.fixture
def suno(alice):
    return make_credential(alice, provider="apikley", label="Suno", secret="sk-suno-remove-1")


def test_the_owner_confirms_then_removes_an_apikley_job(client, alice, suno):
    job = make_job(suno)
    client.force_login(alice)
    detail = client.get(job.get_absolute_url()).text
    assert f'href="/history/{job.code}/remove/"' in detail and "Remove from Genboard…" in detail
    confirm = client.get(f"/history/{job.code}/remove/")
    assert confirm.status_code == 200 and "Nothing is deleted at Apikley (Suno)" in confirm.text
    assert Job.objects.filter(pk=job.pk).exists()  # a GET changes nothing
    response = client.post(f"/history/{job.code}/remove/")
    assert response.status_code == 302 and response.headers["Location"] == "/history/"
    assert not Job.objects.filter(pk=job.pk).exists()
    assert Tombstone.objects.filter(credential=suno, external_id=job.external_id).exists()
    assert AuditEvent.objects.filter(verb="job.remove", subject__contains="Late night demo").exists()
    assert "“Late night demo” is removed from Genboard" in unescape(client.get("/history/").text)


def test_only_the_owner_may_remove(client, alice, bob, carol, suno):
    team = Team.objects.create(name="Crew", slug="crew")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.ADMIN)
    Share.objects.create(team=team, credential=suno, shared_by=alice)
    job = make_job(suno)
    url = f"/history/{job.code}/remove/"
    assert client.get(url).status_code == 302  # anonymous: to log in
    client.force_login(bob)  # sees it through the team, does not own it
    assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    assert "Remove from Genboard" not in client.get(job.get_absolute_url()).text
    client.force_login(carol)
    assert client.get(url).status_code == 404 and client.post(url).status_code == 404
    assert Job.objects.filter(pk=job.pk).exists() and not Tombstone.objects.exists()


def test_a_removed_job_does_not_come_back_on_the_next_sync(simulator, alice, client):
    simulator.world.new_every = 0
    key = make_credential(alice, provider="audiopod", secret="sim-audiopod-remove-n12", status="ok")
    sync_credential(key.pk)
    assert Job.objects.filter(credential=key).count() == 12
    job = Job.objects.filter(credential=key).order_by("-created").first()
    client.force_login(alice)
    client.post(f"/history/{job.code}/remove/")
    key.refresh_from_db()
    key.cursor = {}  # even a full walk from the top, as a first sync does
    key.save(update_fields=["cursor"])
    sync_credential(key.pk)
    assert Job.objects.filter(credential=key).count() == 11
    assert not Job.objects.filter(credential=key, external_id=job.external_id).exists()


def test_importing_a_removed_task_id_again_brings_it_back(alice, suno):
    job = make_job(suno)
    Tombstone.objects.create(credential=suno, external_id=job.external_id)
    job.delete()
    assert import_task_ids(suno, [job.external_id]) == (1, 0)
    assert not Tombstone.objects.exists()


def test_delete_at_audiopod_also_keeps_the_job_from_coming_back(alice):
    from history import removal

    pod = make_credential(alice, provider="audiopod", label="Pod")
    job = make_job(pod, external_id="4242")
    removal.forget(job)
    assert removal.buried(pod, ["4242", "4243"]) == {"4242"}
