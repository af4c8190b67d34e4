import time

import pytest
import requests
import responses

from providers.apikley import Apikley
from providers.apimall import ApiMall
from providers.audiopod import AudioPod
from providers.http import Http, KeyRejected, OutOfCredits, ProviderError, RateLimited, Unreachable, parse_retry_after
from providers.munsit import Munsit

URL = "https://provider.test/api/thing"


@responses.activate
def test_2xx_json_is_returned():
    responses.get(URL, json={"ok": True})
    assert Http().request("GET", URL).json() == {"ok": True}


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_401_and_403_reject_the_key_with_the_providers_words(status):
    responses.get(URL, status=status, json={"error": {"code": "unauthorized", "message": "Unauthorized"}})
    with pytest.raises(KeyRejected) as e:
        Http().request("GET", URL)
    assert e.value.permanent and e.value.status == status
    assert "Unauthorized" in str(e.value)


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), (None, 60.0), ("garbage", 60.0), ("999999", 3600.0)])
@responses.activate
def test_429_carries_retry_after(header, expected):
    responses.get(URL, status=429, headers={"Retry-After": header} if header else {}, json={})
    with pytest.raises(RateLimited) as e:
        Http().request("GET", URL)
    assert not e.value.permanent and e.value.retry_after == expected


def test_retry_after_as_http_date():
    assert 1.0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") <= 1.0  # in the past: wait the minimum


@pytest.mark.parametrize("status", [500, 502, 503, 404, 422])
@responses.activate
def test_other_errors_are_temporary(status):
    responses.get(URL, status=status, body="<html>oops</html>")
    with pytest.raises(ProviderError) as e:
        Http().request("GET", URL)
    assert not e.value.permanent and e.value.status == status
    assert type(e.value) is ProviderError


@responses.activate
def test_timeouts_and_refused_connections_are_unreachable():
    responses.get(URL, body=requests.ConnectTimeout())
    with pytest.raises(Unreachable, match="did not answer in time"):
        Http().request("GET", URL)
    responses.replace(responses.GET, URL, body=requests.ConnectionError())
    with pytest.raises(Unreachable, match="Could not connect"):
        Http().request("GET", URL)


@responses.activate
def test_garbage_json_is_a_typed_error():
    responses.get(URL, body='{"items": [1, 2')
    with pytest.raises(ProviderError, match="malformed"):
        Http().request("GET", URL).json()


@responses.activate
def test_body_size_is_capped():
    responses.get(URL, body=b"x" * 2048)
    with pytest.raises(ProviderError, match="larger than 1024 bytes"):
        Http(max_bytes=1024).request("GET", URL)


@responses.activate
def test_redirects_are_not_followed():
    responses.get(URL, status=302, headers={"Location": "https://elsewhere.test/"})
    with pytest.raises(ProviderError, match="redirect"):
        Http().request("GET", URL)
    assert len(responses.calls) == 1


@responses.activate
def test_a_secret_echoed_by_the_provider_is_redacted(settings):
    secret = "sk-live-0123456789abcdef"
    settings.APIMALL_BASE_URL = "https://gateway.test"
    responses.get("https://gateway.test/api/v1/account/balances", status=401, json={"error": f"bad key {secret}"})
    with pytest.raises(KeyRejected) as e:
        ApiMall(secret).check_key()
    assert secret not in str(e.value) and "…cdef" in str(e.value)
    assert secret not in repr(ApiMall(secret))


@responses.activate
def test_auth_headers_per_provider(settings):
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        setattr(settings, f"{name}_BASE_URL", "https://p.test")
    responses.get("https://p.test/api/v1/account/balances", json={"success": True, "data": {"credits": 5}})
    responses.get("https://p.test/api/v1/chat/credit", json={"code": 200, "msg": "success", "data": 12})
    responses.get("https://p.test/api/v1/api-wallet/balance", json={"balance_usd": 3.5})
    responses.get("https://p.test/api/v1/denoise", json=[])
    assert ApiMall("k-apimall").check_key() == "5 credits"
    assert Apikley("k-apikley").check_key() == "12 credits"
    assert AudioPod("k-audiopod").check_key() == "Balance 3.50 USD"
    assert Munsit("k-munsit").check_key() == "Key accepted"
    sent = [c.request.headers for c in responses.calls]
    assert sent[0]["Authorization"] == "Bearer k-apimall"
    assert sent[1]["Authorization"] == "Bearer k-apikley"
    assert sent[2]["X-API-Key"] == "k-audiopod"
    assert sent[3]["x-api-key"] == "k-munsit"
    assert "limit=1" in responses.calls[3].request.url  # never ask Munsit for everything


@pytest.mark.parametrize(
    ("code", "error"), [(401, KeyRejected), (429, RateLimited), (455, ProviderError), (402, OutOfCredits)]
)
@responses.activate
def test_apikley_errors_in_a_200_body(settings, code, error):
    settings.APIKLEY_BASE_URL = "https://p.test"
    responses.get("https://p.test/api/v1/chat/credit", json={"code": code, "msg": "nope", "data": None})
    with pytest.raises(error) as e:
        Apikley("k-apikley").check_key()
    assert type(e.value) is error and "nope" in str(e.value)


def test_a_trickling_answer_is_held_to_the_deadline(make_simulator):
    simulator = make_simulator()
    simulator.world.faults.set("munsit", drip=0.02)  # 16 bytes every 20 ms: a 100-record page takes minutes
    http = Http(read_timeout=5.0, deadline=0.5)
    started = time.monotonic()
    with pytest.raises(Unreachable, match="took too long"):
        http.request("GET", simulator.base_url + "/api/v1/denoise?limit=100", headers={"x-api-key": "sim-munsit-t"})
    assert time.monotonic() - started < 3  # not the minutes the whole answer would take


def test_pieces_further_apart_than_the_read_timeout_are_a_temporary_failure(make_simulator):
    simulator = make_simulator()
    simulator.world.faults.set("munsit", drip=0.5)
    http = Http(read_timeout=0.2, deadline=5.0)
    with pytest.raises(Unreachable) as e:
        http.request("GET", simulator.base_url + "/api/v1/denoise?limit=5", headers={"x-api-key": "sim-munsit-t"})
    assert not e.value.permanent
