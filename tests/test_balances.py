"""Balances: each adapter's balance call, refreshed by the sync at most every few minutes,
shown on the key page, the keys list and the history's dashboard strip, with the owner's
low-balance warning."""

from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from history.sync import store, sync_credential
from providers import balances
from providers.apikley import Apikley
from providers.apimall import ApiMall
from providers.audiopod import AudioPod, wallet
from providers.models import Credential
from providers.munsit import Munsit
from providers.records import JobRecord
from teams import actions
from teams.models import Member

from .factories import make_credential

BASE = "https://p.test"


@pytest.fixture(autouse=True)
def _base_urls(settings):
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        setattr(settings, f"{name}_BASE_URL", BASE)


@responses.activate
def test_each_adapter_reads_its_balance():
    responses.get(
        f"{BASE}/api/v1/account/balances", json={"success": True, "data": {"credits": 9, "api_credits": 1250}}
    )
    responses.get(f"{BASE}/api/v1/chat/credit", json={"code": 200, "msg": "success", "data": 312.5})
    wallet = {"balance_cents": 2500, "balance_usd": "$25.00", "total_spent_cents": 1500, "total_spent_usd": "$15.00"}
    responses.get(f"{BASE}/api/v1/api-wallet/balance", json=wallet)
    assert ApiMall("k").balance() == balances.Balance(Decimal(1250), "credits")
    assert Apikley("k").balance() == balances.Balance(Decimal("312.5"), "credits")
    assert AudioPod("k").balance() == balances.Balance(Decimal("25.00"), "USD", Decimal("15.00"))
    assert Munsit("k").balance() is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"balance_usd": "$1,234.50"}, balances.Balance(Decimal("1234.50"), "USD")),
        ({"balance_cents": 7, "total_spent_usd": "$0.93"}, balances.Balance(Decimal("0.07"), "USD", Decimal("0.93"))),
        ({"balance_usd": "lots"}, None),
        (["not", "an", "object"], None),
    ],
)
def test_audiopod_wallet_variants(body, expected):

    assert wallet(body) == expected


@pytest.mark.parametrize(
    ("amount", "unit", "shown"),
    [
        (Decimal(1250), "credits", "1,250 credits"),
        (Decimal("12.5000"), "credits", "12.5 credits"),
        (Decimal("25"), "USD", "$25.00"),
        (None, "USD", ""),
    ],
)
def test_balance_text(amount, unit, shown):
    assert balances.text(amount, unit) == shown


@responses.activate
def test_the_sync_reads_the_balance_at_most_every_few_minutes(alice):
    credential = make_credential(alice, "apikley", status="ok")
    credit = responses.get(f"{BASE}/api/v1/chat/credit", json={"code": 200, "msg": "success", "data": 80})
    sync_credential(credential.pk)
    credential.refresh_from_db()
    assert (credential.balance_amount, credential.balance_unit) == (Decimal(80), "credits")
    sync_credential(credential.pk)
    assert credit.call_count == 1
    Credential.objects.filter(pk=credential.pk).update(balance_checked=timezone.now() - timedelta(minutes=6))
    sync_credential(credential.pk)
    assert credit.call_count == 2


@responses.activate
def test_a_balance_call_that_fails_keeps_the_last_balance_and_the_sync_going(alice):
    credential = make_credential(alice, "apikley", status="ok", balance_amount=Decimal(5), balance_unit="credits")
    responses.get(f"{BASE}/api/v1/chat/credit", status=503)
    outcome = sync_credential(credential.pk)
    credential.refresh_from_db()
    assert outcome.error == "" and credential.balance_amount == Decimal(5) and credential.balance_checked


@responses.activate
def test_a_refused_key_on_the_balance_call_is_rejected(alice):
    credential = make_credential(alice, "apikley", status="ok")
    responses.get(f"{BASE}/api/v1/chat/credit", json={"code": 401, "msg": "Invalid API key"})
    sync_credential(credential.pk)
    credential.refresh_from_db()
    assert credential.status == Credential.Status.REJECTED


def test_a_new_secret_forgets_the_old_balance(alice):
    credential = make_credential(alice, "apikley", balance_amount=Decimal(5), balance_checked=timezone.now())
    credential.set_secret("sim-apikley-other")
    assert credential.balance_amount is None and credential.balance_checked is None


def low_key(owner, **fields) -> Credential:
    values = {"balance_amount": Decimal("3.50"), "balance_unit": "USD", "balance_checked": timezone.now()}
    return make_credential(owner, "audiopod", label="Pod", **(values | fields))


def test_the_owner_sets_a_warning_and_every_page_shows_it(alice_client, alice):
    credential = low_key(alice, balance_spent=Decimal("16.50"))
    url = reverse("providers:balance_threshold", args=[credential.code])
    assert alice_client.post(url, {"below": "5"}).status_code == 302
    credential.refresh_from_db()
    assert credential.low_balance_below == Decimal(5) and balances.is_low(credential)
    page = alice_client.get(credential.get_absolute_url()).content.decode()
    assert "$3.50" in page and "below your warning at $5.00" in page and "$16.50 so far" in page
    listing = alice_client.get(reverse("providers:list")).content.decode()
    assert "$3.50" in listing and "balance-low" in listing
    # The history's strip: a job makes the dashboard show.

    store(credential, [JobRecord("1", "music", "succeeded", "COMPLETED", timezone.now())])
    history = alice_client.get(reverse("history:list")).content.decode()
    assert 'aria-label="Balances of your keys"' in history and "Pod <strong>$3.50</strong>" in history
    assert alice_client.post(url, {"below": ""}).status_code == 302
    credential.refresh_from_db()
    assert credential.low_balance_below is None and not balances.is_low(credential)


def test_no_warning_above_the_threshold(alice_client, alice):
    credential = low_key(alice, low_balance_below=Decimal(2))
    page = alice_client.get(credential.get_absolute_url()).content.decode()
    assert "$3.50" in page and "below your warning" not in page


def test_a_bad_threshold_is_refused_with_a_message(alice_client, alice):
    credential = low_key(alice)
    url = reverse("providers:balance_threshold", args=[credential.code])
    response = alice_client.post(url, {"below": "-3"}, follow=True)
    assert "must be a number of 0 or more" in response.content.decode()
    credential.refresh_from_db()
    assert credential.low_balance_below is None


def test_only_the_owner_sets_the_warning(client, alice, bob):
    credential = low_key(alice)
    client.force_login(bob)
    assert (
        client.post(reverse("providers:balance_threshold", args=[credential.code]), {"below": "9"}).status_code == 404
    )


def test_a_teammates_balance_is_not_on_my_history(client, alice, bob):

    credential = low_key(alice)
    team = actions.create_team(alice, "Band")

    actions.add_member(alice, team, bob, Member.Role.MEMBER)
    actions.share(alice, team, credential)

    store(credential, [JobRecord("1", "music", "succeeded", "COMPLETED", timezone.now())])
    client.force_login(bob)
    history = client.get(reverse("history:list")).content.decode()
    assert "Balances of your keys" not in history and "$3.50" not in history


@responses.activate
def test_an_empty_account_found_by_the_balance_call_is_out_of_credits(alice):
    credential = make_credential(alice, "apikley", status="ok")
    responses.get(f"{BASE}/api/v1/chat/credit", json={"code": 402, "msg": "Insufficient credits"})
    sync_credential(credential.pk)
    credential.refresh_from_db()
    assert credential.status == Credential.Status.OUT_OF_CREDITS
