"""One secret, one key: the same API key added twice would double its history."""

import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command

from providers.fields import Sealed
from providers.fingerprint import fingerprint
from providers.models import Credential
from teams.models import Member, Share, Team
from tests.factories import make_credential

SECRET = "sk-same-secret-canary-7781"


@pytest.fixture
def studio(alice):
    return make_credential(alice, provider="apimall", label="Studio", secret=SECRET)


def test_fingerprint_is_keyed_and_never_the_secret(settings):
    digest = fingerprint(SECRET)
    assert len(digest) == 64 and SECRET not in digest
    assert digest == fingerprint(SECRET) != fingerprint(SECRET + "x")
    settings.SECRET_KEY = "another-server-key-" + "y" * 40
    assert fingerprint(SECRET) != digest  # keyed: a dump alone cannot test guesses


@pytest.mark.django_db
def test_a_second_key_with_the_same_secret_is_refused_naming_the_first(alice_client, alice, studio):
    response = alice_client.post("/keys/new/", {"provider": "apimall", "label": "Again", "secret": SECRET})
    assert 'id="id_secret_error"' in response.text
    assert "already saved as “Studio” (…7781)" in response.text
    assert SECRET not in response.text
    assert list(Credential.objects.filter(owner=alice).values_list("label", flat=True)) == ["Studio"]


@pytest.mark.django_db
def test_the_same_secret_for_another_provider_or_person_is_allowed(alice_client, alice, bob, studio, client):
    other = alice_client.post("/keys/new/", {"provider": "audiopod", "label": "Pod", "secret": SECRET})
    assert other.status_code == 302
    client.force_login(bob)
    assert client.post("/keys/new/", {"provider": "apimall", "label": "Bob's", "secret": SECRET}).status_code == 302


@pytest.mark.django_db
def test_replacing_with_the_secret_of_another_key_is_refused(alice_client, alice, studio):
    other = make_credential(alice, provider="apimall", label="Other", secret="sk-other-secret-0000")
    response = alice_client.post(other.get_absolute_url(), {"secret": SECRET})
    assert response.status_code == 400 and "already saved as “Studio”" in response.text
    other.refresh_from_db()
    assert other.secret.reveal() == "sk-other-secret-0000"


@pytest.mark.django_db
def test_sharing_a_secret_the_team_already_sees_is_refused(client, alice, bob, studio):
    team = Team.objects.create(name="Crew", slug="crew")
    Member.objects.create(team=team, user=alice, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=bob, role=Member.Role.MEMBER)
    Share.objects.create(team=team, credential=studio, shared_by=alice)
    bobs = make_credential(bob, provider="apimall", label="Bob's copy", secret=SECRET)
    client.force_login(bob)
    response = client.post("/teams/crew/shares/", {"credential": str(bobs.code)})
    assert response.status_code == 400
    assert "Crew already sees the history of this key through “Studio”, shared by alice." in response.text
    assert not Share.objects.filter(credential=bobs).exists()
    other = make_credential(bob, provider="apimall", label="Bob's own", secret="sk-bobs-own-key-1234")
    assert client.post("/teams/crew/shares/", {"credential": str(other.code)}).status_code == 302


@pytest.mark.django_db
def test_the_migration_fingerprints_existing_rows_and_skips_undecryptable_ones(alice, settings, studio):
    lost = make_credential(alice, provider="apimall", label="Lost", secret="sk-lost-key-99999")
    Credential.objects.update(fingerprint="")
    # "Lost" was encrypted under a key that is no longer configured.
    Credential.objects.filter(pk=lost.pk).update(secret=Sealed("deadbeef$not-a-token"))
    migration = importlib.import_module("providers.migrations.0003_fingerprint_and_out_of_credits")
    migration.backfill_fingerprints(apps, None)
    studio.refresh_from_db()
    lost.refresh_from_db()
    assert studio.fingerprint == fingerprint(SECRET)
    assert lost.fingerprint == ""


@pytest.mark.django_db
def test_fingerprints_survive_rotate_keys(alice, settings, studio):
    before = studio.fingerprint
    settings.CREDENTIAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.CREDENTIAL_ENCRYPTION_KEYS]
    call_command("rotate_keys", stdout=io.StringIO())
    studio.refresh_from_db()
    assert studio.fingerprint == before == fingerprint(SECRET)


@pytest.mark.django_db
def test_rotate_keys_recomputes_fingerprints_after_a_new_secret_key(alice, settings, studio):
    settings.SECRET_KEY = "a-brand-new-server-key-" + "z" * 40
    call_command("rotate_keys", stdout=io.StringIO())
    studio.refresh_from_db()
    assert studio.fingerprint == fingerprint(SECRET)
