"""The provider simulator over real HTTP: keys, data, time, every endpoint, faults, limits."""

import http.client
import io
import json
import re
import time
from datetime import UTC, datetime

import pytest
import requests
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from providers.http import KeyRejected, ProviderError
from providers.registry import PROVIDERS
from providers.simulator import FakeClock, SimulatorServer, World, external_id
from providers.simulator import apikley as sim_apikley
from tests.fixtures_simulator import BASE_URL_SETTINGS, auth_headers, sim_key

HISTORY = {
    "apimall": "/api/v1/audio/history",
    "apikley": "/api/v1/chat/credit",
    "audiopod": "/api/v1/music/jobs",
    "munsit": "/api/v1/denoise",
}
APIKLEY_FINAL = {"SUCCESS", "CREATE_TASK_FAILED", "GENERATE_AUDIO_FAILED", "CALLBACK_EXCEPTION", "SENSITIVE_WORD_ERROR"}
APIKLEY_ORDER = ["PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS", "SUCCESS"]


@pytest.fixture
def http_session():
    with requests.Session() as session:
        yield session


@pytest.fixture
def call(simulator, http_session):
    """call(provider, path, key, method="GET", **params) -> requests.Response"""

    def call(provider, path, key, method="GET", json_body=None, **params):
        return http_session.request(
            method,
            simulator.base_url + path,
            headers=auth_headers(provider, key),
            params=params,
            json=json_body,
            timeout=10,
        )

    return call


def parse_time(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace(" ", "T"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def apimall_items(call, key, kind="audio", limit=50):
    items, page = [], 1
    while True:
        body = call("apimall", f"/api/v1/{kind}/history", key, page=page, limit=limit).json()
        items += body["data"]["items"]
        if len(body["data"]["items"]) < limit:
            return items
        page += 1


def audiopod_jobs(call, key, **params):
    jobs, skip = [], 0
    while True:
        page = call("audiopod", "/api/v1/music/jobs", key, skip=skip, limit=100, **params).json()
        jobs += page
        if len(page) < 100:
            return jobs
        skip += 100


# --- the fixture --------------------------------------------------------------------------


def test_fixture_points_every_provider_at_the_simulator(simulator):
    assert simulator.base_url.startswith("http://127.0.0.1:")
    for name in BASE_URL_SETTINGS:
        assert getattr(django_settings, name) == simulator.base_url
    assert isinstance(simulator.world.clock, FakeClock)


def test_connections_are_kept_alive_with_exact_content_length(simulator):
    conn = http.client.HTTPConnection(simulator.host, simulator.port, timeout=5)
    try:
        bodies = []
        for path in ("/api/v1/denoise?limit=3", "/api/v1/denoise?limit=1"):
            conn.request("GET", path, headers={"x-api-key": sim_key("munsit")})
            response = conn.getresponse()
            body = response.read()
            assert int(response.headers["Content-Length"]) == len(body)
            bodies.append(json.loads(body))
            sock = conn.sock
            assert sock is not None  # HTTP/1.1: the server did not close the connection
        assert [len(b) for b in bodies] == [3, 1]
    finally:
        conn.close()


def test_unknown_paths_are_404_and_logged(simulator, call):
    response = call("apimall", "/api/v1/video/history", sim_key("apimall"))
    assert response.status_code == 404
    assert simulator.world.log.count("unmatched", "GET /api/v1/video/history") == 1


# --- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["nope", "sim-apikley-demo", "sim-apimall-", ""])
def test_apimall_rejects_other_keys_with_401(call, key):
    response = call("apimall", "/api/v1/audio/history", key)
    assert response.status_code == 401
    body = response.json()
    assert body["success"] is False
    assert body["error"] == {"code": "unauthorized", "message": "Unauthorized"}
    assert body["request_id"].startswith("req_")


def test_apimall_denied_account_gets_403(call):
    for path in ("/api/v1/audio/history", "/api/v1/account/balances"):
        response = call("apimall", path, "sim-apimall-denied-team")
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "API access not approved"


def test_apikley_rejects_in_a_200_body(call):
    response = call("apikley", "/api/v1/chat/credit", "sim-audiopod-demo")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 401 and body["data"] is None and body["msg"]


def test_apikley_broke_account_answers_402(call):
    body = call("apikley", "/api/v1/chat/credit", "sim-apikley-broke").json()
    assert body["code"] == 402 and body["data"] is None


def test_audiopod_rejects_with_detail(call):
    response = call("audiopod", "/api/v1/music/jobs", "sim-munsit-demo")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}


def test_munsit_rejects_with_error_code(call):
    response = call("munsit", "/api/v1/denoise", "bad", limit=1)
    assert response.status_code == 401
    assert set(response.json()) == {"errorCode", "errorMessage"}


def test_key_checks_answer_balances(call):
    balances = call("apimall", "/api/v1/account/balances", sim_key("apimall")).json()
    assert balances["success"] is True
    assert isinstance(balances["data"]["credits"], int) and isinstance(balances["data"]["api_credits"], int)
    credit = call("apikley", "/api/v1/chat/credit", sim_key("apikley")).json()
    assert credit["code"] == 200 and credit["msg"] == "success" and isinstance(credit["data"], int)
    wallet = call("audiopod", "/api/v1/api-wallet/balance", sim_key("audiopod")).json()
    # The real wallet: a dollar string beside the cents.
    assert wallet["currency"] == "USD" and wallet["balance_usd"] == f"${wallet['balance_cents'] / 100:,.2f}"


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["apimall", "apikley", "audiopod", "munsit"])
def test_our_adapters_check_keys_against_it(simulator, slug):
    assert PROVIDERS[slug](sim_key(slug)).check_key()
    with pytest.raises(KeyRejected):
        PROVIDERS[slug]("sim-nobody-here").check_key()


@pytest.mark.django_db
def test_our_apikley_adapter_sees_maintenance(simulator):
    simulator.world.faults.set("apikley", maintenance=True)
    with pytest.raises(ProviderError) as raised:
        PROVIDERS["apikley"](sim_key("apikley")).check_key()
    assert raised.value.status == 455


def test_job_count_comes_from_the_key(call):
    assert call("audiopod", "/api/v1/music/jobs", "sim-audiopod-small-n7").headers["X-Total-Count"] == "7"
    assert call("audiopod", "/api/v1/music/jobs", sim_key("audiopod")).headers["X-Total-Count"] == "150"
    assert len(call("munsit", "/api/v1/denoise", "sim-munsit-n0-empty").json()) == 0
    # API Mall splits the account between its two histories.
    assert len(apimall_items(call, "sim-apimall-x-n9", "audio")) == 5
    assert len(apimall_items(call, "sim-apimall-x-n9", "images")) == 4


# --- API Mall -------------------------------------------------------------------------------


def test_apimall_history_pages_newest_first(call):
    key = sim_key("apimall")
    first = call("apimall", "/api/v1/audio/history", key).json()
    assert first["success"] is True and first["data"]["page"] == 1 and first["data"]["limit"] == 20
    assert len(first["data"]["items"]) == 20
    items = apimall_items(call, key, "audio", limit=7)
    assert len(items) == 75
    assert items[:20] == first["data"]["items"]
    ids = [i["task_id"] for i in items]
    assert len(set(ids)) == 75 and all(re.fullmatch(r"aud_[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)
    created = [parse_time(i["created_at"]) for i in items]
    assert created == sorted(created, reverse=True)
    # About 180 days of history.
    assert 170 <= (created[0] - created[-1]).days <= 181
    images = apimall_items(call, key, "images")
    assert len(images) == 75 and all(i["task_id"].startswith("img_") and "audio_url" not in i for i in images)


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 51}, {"limit": "ten"}, {"page": 0}, {"page": -1}, {"page": "x"}]
)
def test_apimall_rejects_out_of_range_paging(call, params):
    response = call("apimall", "/api/v1/images/history", sim_key("apimall"), **params)
    assert response.status_code == 400
    assert response.json()["success"] is False and response.json()["error"]["message"]


def test_apimall_items_follow_the_docs(call):
    items = apimall_items(call, sim_key("apimall", "docs", 1000), "audio")
    documented = {"task_id", "model", "source", "created_at", "status", "audio_url", "image_url"}
    documented |= {"credits_used", "credits_refunded", "completed_at"}
    statuses = {i["status"] for i in items}
    assert {"completed", "failed", "pending", "processing", "canceled"} <= statuses
    assert statuses <= {"completed", "failed", "pending", "processing", "canceled"}
    for item in items:
        assert set(item) - documented <= {"title", "prompt", "error_message"}
        assert isinstance(item["credits_used"], int)
        if item["status"] == "failed":
            assert item.get("credits_refunded", item["credits_used"]) == item["credits_used"] > 0
            assert item["error_message"] and item["audio_url"] is None
        if item["status"] == "completed":
            assert item["audio_url"].endswith(".wav")
        else:
            assert item["audio_url"] is None
    failed = sum(i["status"] == "failed" for i in items) / len(items)
    assert 0.04 <= failed <= 0.10
    # Oddities: naive timestamps, missing optional fields.
    assert any(not i["created_at"].endswith("Z") for i in items)
    assert any("image_url" not in i for i in items)
    assert any(i["status"] == "completed" and "completed_at" not in i for i in items)


def test_apimall_jobs_finish_over_time(simulator, call, sim_clock):
    simulator.world.new_every = 0
    key = sim_key("apimall")
    newest = call("apimall", "/api/v1/audio/history", key, limit=3).json()["data"]["items"]
    assert {i["status"] for i in newest} <= {"pending", "processing"}
    sim_clock.advance(241)
    later = call("apimall", "/api/v1/audio/history", key, limit=3).json()["data"]["items"]
    assert [i["task_id"] for i in later] == [i["task_id"] for i in newest]
    for item in later:
        assert item["status"] in ("completed", "failed")
        assert parse_time(item["completed_at"]) > parse_time(item["created_at"])


def test_data_is_deterministic_per_key(make_simulator, http_session):
    def first_page(server, key):
        response = http_session.get(
            server.base_url + "/api/v1/audio/history", headers=auth_headers("apimall", key), timeout=5
        )
        return [{k: v for k, v in i.items() if not k.endswith("_url")} for i in response.json()["data"]["items"]]

    clock = FakeClock(1_770_000_000)
    one, two = make_simulator(clock=clock), make_simulator(clock=clock)
    assert first_page(one, "sim-apimall-a") == first_page(two, "sim-apimall-a")
    assert first_page(one, "sim-apimall-a") != first_page(one, "sim-apimall-b")


# --- Apikley ------------------------------------------------------------------------------


def test_apikley_task_ids_only_through_the_simulator_endpoint(simulator, call):
    key = sim_key("apikley")
    ids = call("apikley", "/_sim/apikley/task-ids", key).json()["task_ids"]
    assert ids == simulator.world.task_ids(key)
    assert len(ids) == 150 and len(set(ids)) == 150
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert call("apikley", "/_sim/apikley/task-ids", "bad").json()["code"] == 401


def test_apikley_record_info_follows_the_openapi(simulator, call, sim_clock):
    simulator.world.new_every = 0
    key = sim_key("apikley")
    sim_clock.advance(300)
    ids = simulator.world.task_ids(key)
    seen = set()
    for task_id in ids[:60]:
        body = call("apikley", "/api/v1/generate/record-info", key, taskId=task_id).json()
        assert body["code"] == 200 and body["msg"] == "success"
        data = body["data"]
        assert data["taskId"] == task_id
        assert set(data) == {
            "taskId", "parentMusicId", "param", "response", "status", "type", "operationType", "errorCode",
            "errorMessage", "createTime",
        }  # fmt: skip
        assert isinstance(data["createTime"], int) and data["createTime"] > 10**12  # epoch milliseconds
        param = json.loads(data["param"])
        assert {"prompt", "customMode", "instrumental", "model"} <= set(param)
        seen.add(data["status"])
        assert data["status"] in APIKLEY_FINAL
        if data["status"] == "SUCCESS":
            assert data["errorCode"] is None and data["errorMessage"] is None
            tracks = data["response"]["sunoData"]
            assert data["response"]["taskId"] == task_id and len(tracks) == 2
            for track in tracks:
                assert {"id", "audioUrl", "streamAudioUrl", "imageUrl", "prompt", "modelName", "title"} <= set(track)
                assert {"createTime", "duration", "sourceAudioUrl", "sourceStreamAudioUrl", "sourceImageUrl"} <= set(
                    track
                )
                assert track["sourceAudioUrl"].startswith(simulator.base_url + "/_sim/media/")
                assert track["audioUrl"] == "" or track["audioUrl"].startswith(simulator.base_url + "/_sim/media/")
                assert isinstance(track["duration"], float)
                assert isinstance(track["createTime"], int) and track["createTime"] >= data["createTime"]
        else:
            assert data["errorMessage"]
    assert "SUCCESS" in seen and len(seen) > 1


def test_apikley_tasks_move_through_the_documented_statuses(simulator, call, sim_clock):
    simulator.world.new_every = 0
    observed: dict[str, list[str]] = {}
    tracks_at: dict[str, list[int]] = {}
    keys = [sim_key("apikley", f"walk{i}") for i in range(4)]
    tasks = [(key, task) for key in keys for task in simulator.world.task_ids(key)[:3]]
    for _ in range(50):
        for key, task in tasks:
            data = call("apikley", "/api/v1/generate/record-info", key, taskId=task).json()["data"]
            history = observed.setdefault(task, [])
            if not history or history[-1] != data["status"]:
                history.append(data["status"])
            suno = (data["response"] or {}).get("sunoData") or []
            if data["status"] == "TEXT_SUCCESS":
                assert len(suno) == 2 and [t["audioUrl"] for t in suno] == ["", ""]
            if data["status"] == "FIRST_SUCCESS":
                assert suno[0]["audioUrl"] and suno[0]["duration"] and suno[1]["audioUrl"] == ""
            if data["status"] == "PENDING":
                assert suno == []
            tracks_at.setdefault(data["status"], []).append(len(suno))
        sim_clock.advance(5)
    statuses = {s for history in observed.values() for s in history}
    assert {"TEXT_SUCCESS", "FIRST_SUCCESS", "SUCCESS"} <= statuses
    for history in observed.values():
        assert history[-1] in APIKLEY_FINAL  # everything has finished by 250 s
        progress = [APIKLEY_ORDER.index(s) for s in history if s in APIKLEY_ORDER]
        assert progress == sorted(progress)  # never backwards


def test_apikley_unknown_tasks_are_404_in_the_body(simulator, call):
    key = sim_key("apikley")
    other = simulator.world.task_ids(sim_key("apikley", "someone-else"))[0]
    for task_id in ("0" * 32, "not-a-task", other):
        response = call("apikley", "/api/v1/generate/record-info", key, taskId=task_id)
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == 404 and "not found" in body["msg"].lower() and body["data"] is None


def test_apikley_limits_three_requests_per_second_per_task(simulator, call, sim_clock):
    key = sim_key("apikley")
    first, second = simulator.world.task_ids(key)[:2]
    codes = [call("apikley", "/api/v1/generate/record-info", key, taskId=first).json()["code"] for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert call("apikley", "/api/v1/generate/record-info", key, taskId=second).json()["code"] == 200
    sim_clock.advance(1)
    assert call("apikley", "/api/v1/generate/record-info", key, taskId=first).json()["code"] == 200
    simulator.world.rate_limits = False
    codes = {call("apikley", "/api/v1/generate/record-info", key, taskId=first).json()["code"] for _ in range(5)}
    assert codes == {200}


def test_apikley_maintenance_fault_answers_455(simulator, call):
    simulator.world.faults.set("apikley", maintenance=True)
    body = call("apikley", "/api/v1/chat/credit", sim_key("apikley")).json()
    assert body["code"] == 455
    simulator.world.faults.reset()
    assert call("apikley", "/api/v1/chat/credit", sim_key("apikley")).json()["code"] == 200


# --- AudioPod -------------------------------------------------------------------------------


def test_audiopod_lists_jobs_with_total_and_fields(simulator, call):
    key = sim_key("audiopod")
    response = call("audiopod", "/api/v1/music/jobs", key)
    assert response.headers["X-Total-Count"] == "150"
    jobs = response.json()
    assert isinstance(jobs, list) and len(jobs) == 50  # default limit
    fields = {"id", "task", "status", "progress", "output_url", "output_urls", "audio_duration", "display_name"}
    fields |= {"created_at", "completed_at", "error_message", "lrc_content"}
    assert all(fields <= set(job) and isinstance(job["id"], int) for job in jobs)
    everything = audiopod_jobs(call, key)
    assert len(everything) == 150 and len({j["id"] for j in everything}) == 150
    assert [j["id"] for j in everything] == sorted((j["id"] for j in everything), reverse=True)
    done = [j for j in everything if j["status"] == "COMPLETED"]
    assert done and all(set(j["output_urls"]) <= {"mp3", "wav", "flac"} and j["output_url"] for j in done)
    assert all(j["progress"] == 100 and j["audio_duration"] > 0 for j in done)
    assert all(j["error_message"] for j in everything if j["status"] == "FAILED")
    oldest_first = call("audiopod", "/api/v1/music/jobs", key, sort_order="asc", limit=3).json()
    assert [j["id"] for j in oldest_first] == [j["id"] for j in everything[-3:][::-1]]


@pytest.mark.parametrize(
    ("params", "loc"),
    [({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"skip": -1}, "skip"), ({"skip": "a"}, "skip")],
)
def test_audiopod_validates_like_fastapi(call, params, loc):
    response = call("audiopod", "/api/v1/music/jobs", sim_key("audiopod"), **params)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", loc] and error["msg"]


def test_audiopod_filters_search_and_sort(simulator, call):
    key = sim_key("audiopod")
    failed = call("audiopod", "/api/v1/music/jobs", key, status="FAILED", limit=100)
    assert failed.json() and all(j["status"].upper() == "FAILED" for j in failed.json())
    assert int(failed.headers["X-Total-Count"]) == len(failed.json())
    word = next(j for j in audiopod_jobs(call, key) if j["display_name"])["display_name"].split()[0]
    found = call("audiopod", "/api/v1/music/jobs", key, search=word.lower(), limit=100).json()
    assert found and all(word.lower() in json.dumps(j).lower() for j in found)
    by_length = call("audiopod", "/api/v1/music/jobs", key, sort_by="audio_duration", sort_order="asc").json()
    lengths = [j["audio_duration"] for j in by_length if j["audio_duration"] is not None]
    assert lengths == sorted(lengths)
    assert call("audiopod", "/api/v1/music/jobs", key, sort_by="colour").status_code == 422


def test_audiopod_status_rename_delete(simulator, call):
    key = sim_key("audiopod")
    job = audiopod_jobs(call, key)[10]
    path = f"/api/v1/music/jobs/{job['id']}"
    assert call("audiopod", path + "/status", key).json() == job
    renamed = call("audiopod", path, key, method="PATCH", json_body={"display_name": "My Awesome Track"})
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "My Awesome Track"
    assert call("audiopod", path + "/status", key).json()["display_name"] == "My Awesome Track"
    assert call("audiopod", path, key, method="PATCH", json_body={"display_name": 3}).status_code == 422
    deleted = call("audiopod", path, key, method="DELETE")
    assert deleted.json() == {"message": "Job deleted successfully"}
    assert call("audiopod", path + "/status", key).status_code == 404
    assert call("audiopod", path + "/status", key).json() == {"detail": "Job not found"}
    listing = audiopod_jobs(call, key)
    assert len(listing) == 149 and job["id"] not in {j["id"] for j in listing}
    assert call("audiopod", "/api/v1/music/jobs", key).headers["X-Total-Count"] == "149"
    # Pages stay contiguous around the hole.
    assert [j["id"] for j in call("audiopod", "/api/v1/music/jobs", key, skip=9, limit=3).json()] == [
        j["id"] for j in listing[9:12]
    ]


def test_audiopod_unknown_and_malformed_ids(call):
    key = sim_key("audiopod")
    assert call("audiopod", "/api/v1/music/jobs/1/status", key).json() == {"detail": "Job not found"}
    assert call("audiopod", "/api/v1/music/jobs/abc/status", key).status_code == 422


def test_audiopod_retry_requeues_failed_jobs_only(simulator, call, sim_clock):
    key = sim_key("audiopod")
    failed = call("audiopod", "/api/v1/music/jobs", key, status="FAILED", limit=1).json()[0]
    completed = call("audiopod", "/api/v1/music/jobs", key, status="COMPLETED", limit=1).json()[0]
    refused = call("audiopod", f"/api/v1/music/jobs/{completed['id']}/retry", key, method="POST")
    assert refused.status_code == 400
    retried = call("audiopod", f"/api/v1/music/jobs/{failed['id']}/retry", key, method="POST")
    assert retried.status_code == 200
    assert retried.json()["status"] == "PENDING" and retried.json()["job"]["id"] == failed["id"]
    status = f"/api/v1/music/jobs/{failed['id']}/status"
    assert call("audiopod", status, key).json()["status"] == "PENDING"
    sim_clock.advance(120)
    middle = call("audiopod", status, key).json()
    sim_clock.advance(121)
    final = call("audiopod", status, key).json()
    assert final["status"] == "COMPLETED" and final["output_url"] and final["error_message"] is None
    assert middle["status"] in ("PROCESSING", "COMPLETED")


def test_audiopod_retry_is_limited_to_ten_a_minute(simulator, call, sim_clock):
    key = sim_key("audiopod")
    job = call("audiopod", "/api/v1/music/jobs", key, limit=1).json()[0]
    retry = f"/api/v1/music/jobs/{job['id']}/retry"
    statuses = [call("audiopod", retry, key, method="POST").status_code for _ in range(11)]
    assert statuses == [400] * 10 + [429]
    limited = call("audiopod", retry, key, method="POST")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    sim_clock.advance(61)
    assert call("audiopod", retry, key, method="POST").status_code == 400


def test_audiopod_jobs_progress_then_finish(simulator, call, sim_clock):
    key = sim_key("audiopod")
    simulator.world.new_every = 0
    before = call("audiopod", "/api/v1/music/jobs", key, limit=3).json()
    assert {j["status"] for j in before} <= {"PENDING", "PROCESSING"}
    assert all(j["output_url"] is None and j["completed_at"] is None for j in before)
    sim_clock.advance(60)
    during = call("audiopod", "/api/v1/music/jobs", key, limit=3).json()
    for old, new in zip(before, during, strict=True):
        assert new["progress"] >= old["progress"]
    sim_clock.advance(200)
    after = call("audiopod", "/api/v1/music/jobs", key, limit=3).json()
    assert {j["status"] for j in after} <= {"COMPLETED", "FAILED"}


def test_speed_makes_jobs_finish_sooner(make_simulator, http_session):
    server = make_simulator(speed=10, new_every=0)
    key = sim_key("audiopod")

    def unfinished():
        jobs = []
        for skip in (0, 100):
            response = http_session.get(
                f"{server.base_url}/api/v1/music/jobs", params={"skip": skip, "limit": 100}, headers={"X-API-Key": key}
            )
            jobs += response.json()
        return [j for j in jobs if j["status"] in ("PENDING", "PROCESSING")]

    assert len(unfinished()) >= 3  # the newest three and a few stuck ones
    server.world.clock.advance(24.1)
    assert unfinished() == []


# --- new jobs -------------------------------------------------------------------------------


def test_new_jobs_appear_over_time_and_on_demand(simulator, call, sim_clock):
    key = sim_key("munsit")
    assert len(call("munsit", "/api/v1/denoise", key).json()) == 150
    sim_clock.advance(120)
    records = call("munsit", "/api/v1/denoise", key).json()
    assert len(records) == 151 and records[0]["status"] == "pending"
    ids = simulator.world.add_jobs(key, 2)
    records = call("munsit", "/api/v1/denoise", key).json()
    assert [r["id"] for r in records[:2]] == ids
    simulator.world.new_every = 0
    sim_clock.advance(1000)
    records = call("munsit", "/api/v1/denoise", key).json()
    assert len(records) == 153 and {r["status"] for r in records[:3]} <= {"success", "failed"}
    created = call("audiopod", "/api/v1/music/jobs", sim_key("audiopod")).headers["X-Total-Count"]
    assert created == "151"  # one tick happened before new jobs were stopped


def test_new_apikley_tasks_are_discoverable(simulator, call):
    key = sim_key("apikley")
    [new] = simulator.world.add_jobs(key, 1)
    assert call("apikley", "/_sim/apikley/task-ids", key).json()["task_ids"][0] == new
    # Right after creation the real API does not know the task: data null, or 422.
    body = call("apikley", "/api/v1/generate/record-info", key, taskId=new).json()
    assert body["data"] is None and body["code"] in (200, 422)
    simulator.world.clock.advance(sim_apikley.NOT_READY)
    data = call("apikley", "/api/v1/generate/record-info", key, taskId=new).json()["data"]
    assert data["status"] == "PENDING" and data["response"] is None


def test_add_jobs_over_http(simulator, http_session):
    response = http_session.post(simulator.base_url + "/_sim/jobs", json={"key": "sim-apimall-x", "count": 2})
    assert response.status_code == 201 and len(response.json()["ids"]) == 2
    assert http_session.post(simulator.base_url + "/_sim/jobs", json={"key": "nope"}).status_code == 400


# --- Munsit ---------------------------------------------------------------------------------


def test_munsit_without_limit_returns_everything(call):
    key = sim_key("munsit", "big", 420)
    assert len(call("munsit", "/api/v1/denoise", key).json()) == 420
    page = call("munsit", "/api/v1/denoise", key, offset=400, limit=50).json()
    assert len(page) == 20
    everything = call("munsit", "/api/v1/denoise", key).json()
    assert page == everything[400:]


@pytest.mark.parametrize("params", [{"limit": 0}, {"offset": -1}, {"limit": "many"}])
def test_munsit_rejects_bad_paging(call, params):
    response = call("munsit", "/api/v1/denoise", sim_key("munsit"), **params)
    assert response.status_code == 400 and {"errorCode", "errorMessage"} == set(response.json())


def test_munsit_records_follow_the_schema(simulator, call):
    records = call("munsit", "/api/v1/denoise", sim_key("munsit", "schema", 500)).json()
    fields = {"id", "user_id", "transaction_id", "audio_url", "original_audio_url", "file_name", "audio_duration"}
    fields |= {"audio_size", "audio_format", "source_type", "status", "error", "created_at", "updated_at"}
    for record in records:
        assert set(record) == fields
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", record["id"])
        assert record["status"] in ("pending", "success", "failed")
        assert (record["audio_url"] is not None) == (record["status"] == "success")
        # The real API leaves `error` on some rows that did not fail; a failed one always has it.
        assert record["error"] is not None or record["status"] != "failed"
        assert record["source_type"] in ("audio", "video")
        assert record["audio_format"] == record["audio_format"].lower()
        assert record["original_audio_url"].startswith(simulator.base_url + "/_sim/media/upload/")
    assert {r["source_type"] for r in records} == {"audio", "video"}
    assert any(not r["created_at"].endswith("Z") for r in records)


def sse_events(response):
    events = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_munsit_progress_stream(simulator, call):
    key = sim_key("munsit")
    records = call("munsit", "/api/v1/denoise", key).json()
    pending = records[0]
    assert pending["status"] == "pending"
    finished = next(r for r in records if r["status"] != "pending")

    replay = call("munsit", f"/api/v1/denoise/{finished['id']}/progress", key)
    assert replay.headers["Content-Type"] == "text/event-stream"
    assert sse_events(replay) == [
        (
            "done",
            {
                "denoiseId": finished["id"],
                "status": finished["status"],
                "progress": 100,
                "audio_url": finished["audio_url"],
                "error": finished["error"],
            },
        )
    ]
    live = sse_events(call("munsit", f"/api/v1/denoise/{pending['id']}/progress", key))
    assert [name for name, _ in live] == ["progress", "progress"]
    assert all(0 <= data["progress"] < 100 and data["status"] == "pending" for _, data in live)
    missing = call("munsit", "/api/v1/denoise/00000000-0000-4000-8000-000000000000/progress", key)
    assert missing.status_code == 404


# --- media ----------------------------------------------------------------------------------


def test_records_link_to_playable_media(simulator, call, http_session):
    item = next(i for i in apimall_items(call, sim_key("apimall")) if i["status"] == "completed" and "image_url" in i)
    audio = http_session.get(item["audio_url"])
    assert audio.headers["Content-Type"] == "audio/wav" and audio.content[:4] == b"RIFF"
    image = http_session.get(item["image_url"])
    assert image.headers["Content-Type"] == "image/png" and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert int(image.headers["Content-Length"]) == len(image.content)


# --- faults and rate limits -----------------------------------------------------------------


def test_faults_over_http(simulator, call, http_session):
    faults_url = simulator.base_url + "/_sim/faults"
    key = sim_key("apimall")
    state = http_session.post(faults_url, json={"apimall": {"error_rate": 1.0}}).json()
    assert state["apimall"]["error_rate"] == 1.0 and state["munsit"]["error_rate"] == 0.0
    failing = call("apimall", "/api/v1/audio/history", key)
    assert failing.status_code == 500 and failing.json()["error"]["code"] == "internal_error"
    http_session.post(faults_url, json={"apimall": {"error_status": 503}})
    gateway = call("apimall", "/api/v1/audio/history", key)
    assert gateway.status_code == 503 and gateway.headers["Content-Type"] == "text/html"
    assert http_session.delete(faults_url).json()["apimall"]["error_rate"] == 0.0
    assert call("apimall", "/api/v1/audio/history", key).status_code == 200
    assert http_session.post(faults_url, json={"apimall": {"colour": 1}}).status_code == 400
    assert http_session.post(faults_url, json={"apimall": {"error_rate": 2}}).status_code == 400
    assert http_session.get(faults_url).json()["apimall"]["error_rate"] == 0.0


def test_truncated_bodies_keep_http_framing(simulator, call):
    simulator.world.faults.set("all", truncate_rate=1.0)
    response = call("audiopod", "/api/v1/music/jobs", sim_key("audiopod"))
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(ValueError):
        json.loads(response.content)
    # The next request on the same keep-alive connection still works.
    simulator.world.faults.reset()
    assert len(call("audiopod", "/api/v1/music/jobs", sim_key("audiopod")).json()) == 50


def test_forced_429_and_latency(simulator, call):
    simulator.world.faults.set("munsit", rate_limited=True, retry_after=42)
    limited = call("munsit", "/api/v1/denoise", sim_key("munsit"), limit=1)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "42"
    simulator.world.faults.set("apikley", rate_limited=True)
    assert call("apikley", "/api/v1/chat/credit", sim_key("apikley")).json()["code"] == 429
    simulator.world.faults.reset()
    simulator.world.faults.set("audiopod", latency=0.2)
    started = time.monotonic()
    assert call("audiopod", "/api/v1/api-wallet/balance", sim_key("audiopod")).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_drip_sends_the_whole_answer_a_trickle_at_a_time(simulator, call):
    simulator.world.faults.set("munsit", drip=0.01)
    started = time.monotonic()
    response = call("munsit", "/api/v1/denoise", sim_key("munsit"), limit=1)
    assert response.status_code == 200 and len(response.json()) == 1
    pieces = -(-len(response.content) // 16)
    assert time.monotonic() - started >= 0.01 * (pieces - 1)  # a pause between each two pieces


def test_error_rate_is_a_share_of_requests(simulator, call):
    simulator.world.rate_limits = False
    simulator.world.faults.set("munsit", error_rate=0.3)
    statuses = [call("munsit", "/api/v1/denoise", sim_key("munsit"), limit=1).status_code for _ in range(100)]
    assert 15 <= statuses.count(500) <= 45 and statuses.count(200) == 100 - statuses.count(500)


def test_apimall_rate_limit_per_key(simulator, call, sim_clock):
    key = sim_key("apimall")
    statuses = [call("apimall", "/api/v1/audio/history", key, limit=1).status_code for _ in range(61)]
    assert statuses == [200] * 60 + [429]
    limited = call("apimall", "/api/v1/audio/history", key, limit=1)
    assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1
    assert call("apimall", "/api/v1/audio/history", sim_key("apimall", "other"), limit=1).status_code == 200
    sim_clock.advance(10)
    assert call("apimall", "/api/v1/audio/history", key, limit=1).status_code == 200
    simulator.world.rate_limits = False
    assert {call("apimall", "/api/v1/audio/history", key, limit=1).status_code for _ in range(70)} == {200}


# --- request log ------------------------------------------------------------------------------


def test_request_log_counts_per_provider_endpoint_key_and_job(simulator, call):
    log = simulator.world.log
    call("apimall", "/api/v1/audio/history", "nope")
    call("apimall", "/api/v1/audio/history", sim_key("apimall"))
    job = call("audiopod", "/api/v1/music/jobs", sim_key("audiopod"), limit=1).json()[0]
    for _ in range(2):
        call("audiopod", f"/api/v1/music/jobs/{job['id']}/status", sim_key("audiopod"))
    assert log.count("apimall") == 2
    assert log.count("apimall", "GET /api/v1/audio/history", "nope") == 1
    assert log.count("audiopod", "GET /api/v1/music/jobs/{id}/status", target=str(job["id"])) == 2
    [rejected] = log.entries(key="nope")
    assert rejected.status == 401
    summary = requests.get(simulator.base_url + "/_sim/log", timeout=5).json()["requests"]
    assert {"provider": "apimall", "endpoint": "GET /api/v1/audio/history", "key": "…nope", "count": 1} in summary
    log.clear()
    assert log.count() == 0


# --- scale ----------------------------------------------------------------------------------


def test_large_accounts_are_lazy(simulator, http_session):
    """A 100,000-job account answers any page without materializing its jobs (its speed is
    measured by bench/import_bench.py, not asserted here)."""
    simulator.world.rate_limits = False
    key = "sim-audiopod-bench-n100000"
    url = simulator.base_url + "/api/v1/music/jobs"
    first = http_session.get(url, params={"skip": 99_950, "limit": 100}, headers={"X-API-Key": key})
    assert first.headers["X-Total-Count"] == "100000" and len(first.json()) == 50
    for skip in range(0, 100_000, 10_000):
        response = http_session.get(url, params={"skip": skip, "limit": 100}, headers={"X-API-Key": key})
        assert len(response.json()) == 100
    account = simulator.world.account(key)
    assert account.streams["music"].overrides == {} and account.streams["music"].added == []


def test_external_ids_round_trip(simulator):
    world = simulator.world
    for provider in ("apikley", "audiopod", "munsit"):
        key = sim_key(provider, "ids", 100_000)
        account = world.account(key)
        for job in world.page(account, next(iter(account.streams)), 12_345, 5):
            assert world.find(account, external_id(job)).serial == job.serial


@pytest.mark.parametrize("newest_first", [True, False])
def test_pages_skip_deleted_jobs_exactly(newest_first):
    world = World(FakeClock(), new_every=0)
    account = world.account(sim_key("audiopod", "holes", 60))
    everything = world.page(account, "music", 0, None, newest_first=newest_first)
    gone = {0, 1, 7, 8, 9, 30, 58, 59}  # runs of holes at both ends and in the middle
    for job in everything:
        if job.serial in gone:
            world.delete(job)
    expected = [job.serial for job in everything if job.serial not in gone]
    for offset in range(len(expected) + 1):
        for limit in (1, 3, 100):
            page = world.page(account, "music", offset, limit, newest_first=newest_first)
            assert [job.serial for job in page] == expected[offset : offset + limit]


def test_world_rejects_bad_keys_in_process():
    world = World(FakeClock())
    with pytest.raises(ValueError):
        world.add_jobs("sim-nothing-x", 1)
    assert world.account("sim-munsit-x", provider="apimall") is None


def test_server_can_be_used_as_context_manager():
    with SimulatorServer(World(FakeClock())) as server:
        response = requests.get(server.base_url + "/_sim/", timeout=5)
        assert response.json()["speed"] == 1.0


# --- the management command -----------------------------------------------------------------


def test_command_prints_the_settings_and_stops_on_ctrl_c(monkeypatch):
    def interrupted(server):
        # Serve from a thread instead, prove it answers, then press Ctrl-C.
        server.start()
        assert requests.get(server.base_url + "/_sim/", timeout=5).json()["speed"] == 2.0
        raise KeyboardInterrupt

    monkeypatch.setattr(SimulatorServer, "serve_forever", interrupted)
    out = io.StringIO()
    call_command("simulate_providers", "--port", "0", "--speed", "2", "--no-rate-limits", stdout=out)
    text = out.getvalue()
    urls = re.findall(r"^(\w+_BASE_URL)=(http://127\.0\.0\.1:\d+)$", text, re.MULTILINE)
    assert [name for name, _ in urls] == list(BASE_URL_SETTINGS)
    assert len({url for _, url in urls}) == 1
    assert "sim-audiopod-bench-n100000" in text and "rate limits off" in text
    assert text.rstrip().endswith("Simulator stopped.")


def test_command_refuses_impossible_faults():
    with pytest.raises(CommandError, match="error_rate"):
        call_command("simulate_providers", "--port", "0", "--error-rate", "2", stdout=io.StringIO())


# --- the real APIs' shapes (DESIGN.md "Real provider answers") -----------------------------


def record_infos(call, key: str, ids: list[str]) -> list[dict]:
    return [call("apikley", "/api/v1/generate/record-info", key, taskId=t).json()["data"] for t in ids]


def test_apikley_speaks_the_real_shapes(simulator, call, sim_clock):
    simulator.world.new_every = 0
    key = sim_key("apikley", "real", 400)
    sim_clock.advance(300)
    tasks = record_infos(call, key, simulator.world.task_ids(key))
    models = {json.loads(t["param"])["model"] for t in tasks}
    assert "V5" in models and {t["type"] for t in tasks} >= {"chirp-crow"}
    callback = [t for t in tasks if t["status"] == "CALLBACK_EXCEPTION"]
    assert callback and all(len(t["response"]["sunoData"]) == 2 for t in callback)
    assert all(track["sourceAudioUrl"] for t in callback for track in t["response"]["sunoData"])
    source_only = [t for t in tasks if t["status"] == "SUCCESS" and not t["response"]["sunoData"][0]["audioUrl"]]
    assert source_only and all(t["response"]["sunoData"][0]["sourceAudioUrl"] for t in source_only)
    # An extend task continues the first track of the task made before it.
    by_track = {track["id"]: t["taskId"] for t in tasks for track in (t["response"] or {}).get("sunoData") or []}
    extends = [t for t in tasks if t["operationType"] == "extend"]
    assert extends and all(t["parentMusicId"] for t in extends)
    assert any(t["parentMusicId"] in by_track for t in extends)


def test_apikley_answers_422_recordinfo_is_null_for_some_new_tasks(simulator, call):
    key = sim_key("apikley")
    answers = set()
    for new in simulator.world.add_jobs(key, 6):
        body = call("apikley", "/api/v1/generate/record-info", key, taskId=new).json()
        answers.add((body["code"], body["msg"], body["data"]))
    assert answers == {(200, "success", None), (422, "recordInfo is null", None)}


def test_audiopod_speaks_the_real_shapes(simulator, call, sim_clock):
    key = sim_key("audiopod", "real", 400)
    sim_clock.advance(1000)
    jobs = call("audiopod", "/api/v1/music/jobs", key, limit=100).json()
    for skip in (100, 200, 300):
        jobs += call("audiopod", "/api/v1/music/jobs", key, limit=100, skip=skip).json()
    spelled = {job["status"] for job in jobs}
    assert {"ERROR", "CANCELLED", "completed", "COMPLETED", "FAILED"} <= spelled
    done = [job for job in jobs if job["status"].upper() == "COMPLETED"]
    assert all(job["output_urls"]["mp3"].endswith(".mp3") and job["quality_score"] for job in done)
    assert any(job["output_url"].endswith(".flac") for job in done)


def test_audiopod_score_first_jobs_only_for_accounts_that_have_them(simulator, call):
    plain = call("audiopod", "/api/v1/music/v3/jobs", sim_key("audiopod"))
    assert plain.status_code == 404
    key = sim_key("audiopod", "score")
    jobs = call("audiopod", "/api/v1/music/v3/jobs", key).json()
    assert jobs and {job["workflow"] for job in jobs} == {"plan", "revise", "edit"}
    assert all(job["audio_url"] is None for job in jobs if job["workflow"] != "edit")
    one = call("audiopod", f"/api/v1/music/v3/jobs/{jobs[0]['job_id']}", key).json()
    assert one == jobs[0]


def test_audiopod_insufficient_balance_is_an_error_word_and_a_message(simulator, call):
    key = sim_key("audiopod", "broke")
    failed = next(j for j in audiopod_jobs(call, key) if j["status"].upper() in ("FAILED", "ERROR"))
    response = call("audiopod", f"/api/v1/music/jobs/{failed['id']}/retry", key, method="POST")
    assert response.status_code == 402
    assert response.json()["error"] == "insufficient_api_balance" and response.json()["message"]


def test_munsit_leaves_error_on_rows_that_did_not_fail(call):
    records = call("munsit", "/api/v1/denoise", sim_key("munsit", "errs", 200)).json()
    assert any(record["error"] and record["status"] != "failed" for record in records)
