"""Key checks against the provider simulator over real HTTP on loopback."""

import pytest

from providers.models import Credential
from tests.factories import make_credential

PROVIDERS = ["apimall", "apikley", "audiopod", "munsit"]


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_good_key_is_ok(simulator, alice, provider):
    credential = make_credential(alice, provider=provider, secret=f"sim-{provider}-alice")
    credential.check_with_provider()
    assert credential.status == Credential.Status.OK, credential.last_error
    assert credential.last_error == "" and credential.checked is not None


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_wrong_key_is_rejected(simulator, alice, provider):
    credential = make_credential(alice, provider=provider, secret="definitely-wrong-key-0000")
    credential.check_with_provider()
    assert credential.status == Credential.Status.REJECTED
    assert credential.last_error and "definitely-wrong-key-0000" not in credential.last_error


@pytest.mark.django_db
def test_api_access_not_approved_is_rejected(simulator, alice):
    credential = make_credential(alice, provider="apimall", secret="sim-apimall-denied")
    credential.check_with_provider()
    assert credential.status == Credential.Status.REJECTED and "403" in credential.last_error


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unreachable_provider_leaves_the_key_unchecked(alice, unreachable_providers, provider):
    credential = make_credential(alice, provider=provider, secret=f"sim-{provider}-alice")
    credential.check_with_provider()
    assert credential.status == Credential.Status.UNCHECKED
    assert "Could not connect" in credential.last_error


@pytest.mark.django_db
def test_the_key_form_shows_the_outcome(simulator, alice_client):
    response = alice_client.post(
        "/keys/new/", {"provider": "audiopod", "label": "Pod", "secret": "sim-audiopod-alice"}, follow=True
    )
    assert "AudioPod accepted the key." in response.text and "Working" in response.text
    response = alice_client.post(
        "/keys/new/", {"provider": "munsit", "label": "Den", "secret": "wrong-munsit-key"}, follow=True
    )
    assert "rejected the key" in response.text and "Rejected" in response.text
