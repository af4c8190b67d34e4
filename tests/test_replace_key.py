""" "Replace the key": the new secret is checked first; a refused one never overwrites a working key."""

import pytest
import responses

from providers.models import Credential
from tests.factories import make_credential

OLD = "sim-audiopod-alice"


@pytest.fixture
def pod(alice):
    return make_credential(alice, provider="audiopod", label="Pod", secret=OLD, status=Credential.Status.OK)


@pytest.mark.django_db
def test_a_typo_keeps_the_working_key_and_shows_the_providers_answer(simulator, alice_client, pod):
    response = alice_client.post(pod.get_absolute_url(), {"secret": "definitely-wrong-key-0000"})
    assert response.status_code == 400
    assert "AudioPod refused the new key" in response.text and "Your saved key is unchanged" in response.text
    assert "definitely-wrong-key-0000" not in response.text
    assert "Replace anyway" not in response.text  # a refused key is never forced in
    pod.refresh_from_db()
    assert pod.secret.reveal() == OLD and pod.status == Credential.Status.OK and pod.last4 == OLD[-4:]


@pytest.mark.django_db
def test_a_good_new_key_is_saved_and_working(simulator, alice_client, pod):
    response = alice_client.post(pod.get_absolute_url(), {"secret": "sim-audiopod-rotated"})
    assert response.status_code == 302
    pod.refresh_from_db()
    assert pod.secret.reveal() == "sim-audiopod-rotated" and pod.status == Credential.Status.OK
    assert pod.checked is not None


@pytest.mark.django_db
def test_a_provider_that_is_down_offers_replace_anyway(alice_client, pod, unreachable_providers):
    response = alice_client.post(pod.get_absolute_url(), {"secret": "ap_rotated_key_ABCD"})
    assert response.status_code == 400
    assert "could not be asked about the new key" in response.text and "Replace anyway" in response.text
    pod.refresh_from_db()
    assert pod.secret.reveal() == OLD

    response = alice_client.post(pod.get_absolute_url(), {"secret": "ap_rotated_key_ABCD", "anyway": "on"})
    assert response.status_code == 302
    pod.refresh_from_db()
    assert pod.secret.reveal() == "ap_rotated_key_ABCD" and pod.status == Credential.Status.UNCHECKED


@pytest.mark.django_db
def test_replace_anyway_does_not_force_in_a_refused_key(simulator, alice_client, pod):
    response = alice_client.post(pod.get_absolute_url(), {"secret": "definitely-wrong-key-0000", "anyway": "on"})
    assert response.status_code == 400
    pod.refresh_from_db()
    assert pod.secret.reveal() == OLD


@pytest.mark.django_db
def test_a_key_out_of_credits_is_the_right_key_and_is_saved(simulator, alice, alice_client):
    key = make_credential(alice, provider="apikley", label="Suno", secret="sim-apikley-alice")
    response = alice_client.post(key.get_absolute_url(), {"secret": "sim-apikley-broke"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.secret.reveal() == "sim-apikley-broke" and key.status == Credential.Status.OUT_OF_CREDITS


@responses.activate
@pytest.mark.django_db
def test_a_provider_echoing_the_new_secret_is_cut_to_its_last_four(alice, alice_client, settings):
    settings.APIKLEY_BASE_URL = "https://p.test"
    echo = "sk-echoed-secret-XY12"
    responses.get("https://p.test/api/v1/chat/credit", json={"code": 455, "msg": f"maintenance for {echo}"})
    key = make_credential(alice, provider="apikley", label="Suno", secret="sk-old-secret-0001")
    response = alice_client.post(key.get_absolute_url(), {"secret": echo})
    assert response.status_code == 400 and echo not in response.text and "…XY12" in response.text
