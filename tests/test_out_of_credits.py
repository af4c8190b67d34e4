"""A key whose account has no credits: its own state and notice, synced hourly, retried at once
when its owner checks or saves it."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from history.importer import import_task_ids
from history.sync import sync_credential
from history.tasks import due_credentials
from providers.apikley import Apikley
from providers.apimall import ApiMall
from providers.audiopod import AudioPod
from providers.http import OutOfCredits
from providers.models import Credential
from tests.factories import make_credential

BASE = "https://p.test"


@pytest.fixture
def fake_base_urls(settings):
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        setattr(settings, f"{name}_BASE_URL", BASE)


@responses.activate
@pytest.mark.parametrize(
    ("adapter", "path", "status", "body"),
    [
        (Apikley, "/api/v1/chat/credit", 200, {"code": 402, "msg": "Insufficient credits"}),
        (AudioPod, "/api/v1/api-wallet/balance", 400, {"error": "insufficient_api_balance", "message": "Top up"}),
        (AudioPod, "/api/v1/api-wallet/balance", 403, {"error": "insufficient_api_balance", "message": "Top up"}),
        (AudioPod, "/api/v1/api-wallet/balance", 402, {"detail": "Payment required"}),
        (ApiMall, "/api/v1/account/balances", 402, {"success": False, "error": {"code": "x", "message": "Pay"}}),
        (
            ApiMall,
            "/api/v1/account/balances",
            200,
            {"success": False, "error": {"code": "INSUFFICIENT_CREDITS", "message": "No credits left"}},
        ),
    ],
)
def test_each_providers_way_of_saying_no_credits(fake_base_urls, adapter, path, status, body):
    responses.get(BASE + path, json=body, status=status)
    with pytest.raises(OutOfCredits):
        adapter("sk-some-key-1234").check_key()


@pytest.mark.django_db
def test_a_check_marks_the_key_out_of_credits_and_an_owners_check_retries_at_once(simulator, alice, alice_client):
    key = make_credential(alice, provider="apikley", label="Suno", secret="sim-apikley-broke")
    key.check_with_provider()
    assert key.status == Credential.Status.OUT_OF_CREDITS and "402" in key.last_error
    assert key.paused_until > timezone.now() + timedelta(minutes=59)
    page = alice_client.get(key.get_absolute_url())
    assert "Out of credits" in page.text and "no credits left" in page.text

    # Topped up (here: the key now holds credits): the owner's check resumes syncing at once.
    Credential.objects.filter(pk=key.pk).update(secret=_sealed("sim-apikley-alice"))
    response = alice_client.post(f"/keys/{key.code}/check/", follow=True)
    key.refresh_from_db()
    assert key.status == Credential.Status.OK and key.paused_until is None and key.next_sync is None
    assert "accepted the key" in response.text
    assert due_credentials().filter(pk=key.pk).exists()


def _sealed(secret):
    from providers import crypto
    from providers.fields import Sealed

    return Sealed(crypto.encrypt(secret))


@pytest.mark.django_db
def test_a_sync_that_meets_402_backs_off_for_an_hour(simulator, alice):
    key = make_credential(alice, provider="apikley", label="Suno", secret="sim-apikley-broke", status="ok")
    import_task_ids(key, ["task-0000000001"])  # a due job: the sync asks Apikley about it
    outcome = sync_credential(key.pk)
    key.refresh_from_db()
    assert outcome.error and key.status == Credential.Status.OUT_OF_CREDITS
    assert key.paused_until > timezone.now() + timedelta(minutes=59)
    assert not due_credentials().filter(pk=key.pk).exists()
    assert due_credentials(timezone.now() + timedelta(minutes=61)).filter(pk=key.pk).exists()
    assert key.usable  # not rejected: its history stays and it is tried again


@pytest.mark.django_db
def test_the_history_summary_line_has_its_own_notice(alice, alice_client):
    make_credential(alice, provider="apikley", label="Suno", status="nocredits", last_error="Apikley answered code 402")
    page = alice_client.get("/history/")
    assert "1 key needs attention" in page.text  # the summary line, its details below
    assert "Your key “Suno” is out of credits at Apikley (Suno)." in page.text
    assert "notice-nocredits" in page.text and "rejected your key" not in page.text


@pytest.mark.django_db
def test_saving_a_new_secret_retries_at_once(simulator, alice, alice_client):
    key = make_credential(
        alice,
        provider="apikley",
        label="Suno",
        secret="sim-apikley-broke",
        status="nocredits",
        paused_until=timezone.now() + timedelta(hours=1),
    )
    alice_client.post(key.get_absolute_url(), {"secret": "sim-apikley-alice"})
    key.refresh_from_db()
    assert key.status == Credential.Status.OK and key.paused_until is None
    assert due_credentials().filter(pk=key.pk).exists()
