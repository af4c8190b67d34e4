"""Each adapter against handcrafted provider JSON (faked with `responses`), garbage included."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses

from providers.apikley import Apikley
from providers.apimall import ApiMall
from providers.audiopod import AudioPod
from providers.http import KeyRejected, ProviderError, RateLimited
from providers.munsit import Munsit

BASE = "https://p.test"


@pytest.fixture(autouse=True)
def _base_urls(settings):
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        setattr(settings, f"{name}_BASE_URL", BASE)


def apimall_body(items):
    return {"success": True, "data": {"items": items, "page": 1, "limit": 50}, "request_id": "req_1"}


# --- API Mall -------------------------------------------------------------------------------

AUDIO_ITEM = {
    "task_id": "aud_01HQ9MB2J3RWB1V8Y5B9H8M2QK",
    "model": "V5",
    "source": "suno",
    "created_at": "2026-03-12T09:40:00.000Z",
    "status": "completed",
    "audio_url": "https://cdn.apimall.ai/generated/audio-01.mp3",
    "image_url": "https://cdn.apimall.ai/generated/audio-cover-01.webp",
    "credits_used": 12,
    "credits_refunded": 0,
    "completed_at": "2026-03-12T09:41:30.000Z",
}


@responses.activate
def test_apimall_audio_page():
    responses.get(f"{BASE}/api/v1/audio/history", json=apimall_body([AUDIO_ITEM]))
    page = ApiMall("k").history_page("audio", 0)
    assert "page=1" in responses.calls[0].request.url and "limit=50" in responses.calls[0].request.url
    assert page.last and page.skipped == 0
    (job,) = page.records
    assert job.external_id == AUDIO_ITEM["task_id"] and job.kind == "audio"
    assert (job.status, job.provider_status) == ("succeeded", "completed")
    assert job.created == datetime(2026, 3, 12, 9, 40, tzinfo=UTC)
    assert job.credits_used == Decimal(12) and job.credits_refunded == Decimal(0)
    assert [(o.kind, o.url) for o in job.outputs] == [
        ("audio", AUDIO_ITEM["audio_url"]),
        ("image", AUDIO_ITEM["image_url"]),
    ]
    assert job.raw == AUDIO_ITEM


@responses.activate
def test_apimall_images_page_is_page_two_and_not_last():
    items = [dict(AUDIO_ITEM, task_id=f"img_{i}", audio_url=None, status="queued") for i in range(50)]
    responses.get(f"{BASE}/api/v1/images/history", json=apimall_body(items))
    page = ApiMall("k").history_page("images", 1)
    assert "page=2" in responses.calls[0].request.url
    assert not page.last and len(page.records) == 50
    assert {r.kind for r in page.records} == {"image"} and {r.status for r in page.records} == {"pending"}


@responses.activate
def test_apimall_liberal_parsing_skips_only_the_bad_records():
    items = [
        AUDIO_ITEM,
        {"task_id": "aud_naive", "created_at": "2026-03-12 09:40:00", "status": "weird-new-state"},
        {"created_at": "2026-03-12T09:40:00Z", "status": "completed"},  # no id
        {"task_id": "aud_no_time", "status": "completed"},
        "not an object",
        {"task_id": "aud_js", "created_at": "2026-03-12T09:40:00Z", "audio_url": "javascript:alert(1)", "x": {"y": 1}},
    ]
    responses.get(f"{BASE}/api/v1/audio/history", json=apimall_body(items))
    page = ApiMall("k").history_page("audio", 0)
    assert [r.external_id for r in page.records] == [AUDIO_ITEM["task_id"], "aud_naive", "aud_js"]
    assert page.skipped == 3
    naive = page.records[1]
    assert naive.created == datetime(2026, 3, 12, 9, 40, tzinfo=UTC)  # naive = UTC
    assert (naive.status, naive.provider_status) == ("unknown", "weird-new-state")
    assert page.records[2].outputs == []  # no javascript: URL ever reaches a page


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"success": False, "error": {"code": "unauthorized", "message": "Unauthorized"}}, KeyRejected),
        (403, {"success": False, "error": {"code": "forbidden", "message": "API access not approved"}}, KeyRejected),
        (429, {"success": False, "error": {"code": "rate_limited", "message": "Slow down"}}, RateLimited),
        (500, {"success": False}, ProviderError),
        (200, {"success": False, "error": {"code": "x", "message": "nope"}}, ProviderError),
        (200, {"success": True, "data": {"items": "not a list"}}, ProviderError),
        (200, [], ProviderError),
    ],
)
@responses.activate
def test_apimall_failures_are_typed(status, body, error):
    responses.get(f"{BASE}/api/v1/audio/history", status=status, json=body)
    with pytest.raises(error):
        ApiMall("k").history_page("audio", 0)


# --- Apikley --------------------------------------------------------------------------------

TASK = {
    "taskId": "5c79be8e",
    "parentMusicId": "",
    "param": json.dumps({"prompt": "A calm piano track", "style": "Classical", "title": "Peaceful Piano"}),
    "response": {
        "taskId": "5c79be8e",
        "sunoData": [
            {
                "id": f"e231-{n}",
                "audioUrl": f"https://example.cn/{n}.mp3",
                "streamAudioUrl": f"https://example.cn/stream/{n}",
                "imageUrl": f"https://example.cn/{n}.jpeg",
                "prompt": "[Verse] 夜晚城市 灯火辉煌",
                "modelName": "chirp-v3-5",
                "title": f"钢铁侠 {n}",
                "tags": "electrifying, rock",
                "createTime": "2025-01-01 00:00:00",
                "duration": 198.44,
            }
            for n in (1, 2)
        ],
    },
    "status": "SUCCESS",
    "type": "GENERATE",
    "errorCode": None,
    "errorMessage": None,
}


@responses.activate
def test_apikley_task_with_two_tracks():
    responses.get(f"{BASE}/api/v1/generate/record-info", json={"code": 200, "msg": "success", "data": TASK})
    job = Apikley("k").job("5c79be8e")
    assert "taskId=5c79be8e" in responses.calls[0].request.url
    assert (job.kind, job.status, job.provider_status) == ("music", "succeeded", "SUCCESS")
    assert job.title == "钢铁侠 1" and job.prompt == "A calm piano track" and job.model == "chirp-v3-5"
    assert job.created == datetime(2025, 1, 1, tzinfo=UTC)
    audio = [o for o in job.outputs if o.kind == "audio"]
    covers = [o for o in job.outputs if o.kind == "image"]
    assert [(o.title, o.duration, o.position) for o in audio] == [("钢铁侠 1", 198.44, 0), ("钢铁侠 2", 198.44, 1)]
    assert audio[0].stream_url == "https://example.cn/stream/1" and len(covers) == 2


@responses.activate
def test_apikley_first_success_shows_the_partial_track():
    partial = json.loads(json.dumps(TASK))
    partial["status"] = "FIRST_SUCCESS"
    partial["response"]["sunoData"][0]["audioUrl"] = ""
    partial["response"]["sunoData"][1] = {"id": "x"}
    responses.get(f"{BASE}/api/v1/generate/record-info", json={"code": 200, "msg": "success", "data": partial})
    job = Apikley("k").job("5c79be8e")
    assert job.status == "running"
    (audio,) = [o for o in job.outputs if o.kind == "audio"]
    assert audio.url == "" and audio.stream_url == "https://example.cn/stream/1"


@responses.activate
def test_apikley_failure_keeps_the_providers_words():
    failed = dict(
        TASK, status="SENSITIVE_WORD_ERROR", errorCode=400, errorMessage="Lyrics contained copyrighted material."
    )
    responses.get(f"{BASE}/api/v1/generate/record-info", json={"code": 200, "msg": "success", "data": failed})
    job = Apikley("k").job("5c79be8e")
    assert (job.status, job.error, job.error_code) == ("failed", "Lyrics contained copyrighted material.", "400")


@pytest.mark.parametrize(
    ("body", "error", "status"),
    [
        ({"code": 401, "msg": "Unauthorized"}, KeyRejected, 401),
        ({"code": 429, "msg": "too fast"}, RateLimited, 429),
        ({"code": 404, "msg": "task not found"}, ProviderError, 404),
        ({"code": 455, "msg": "maintenance"}, ProviderError, 455),
        ({"code": 200, "msg": "success", "data": None}, ProviderError, 404),
        ({"code": 200, "msg": "success", "data": {"status": "SUCCESS", "response": "garbage"}}, None, None),
    ],
)
@responses.activate
def test_apikley_errors_inside_http_200(body, error, status):
    responses.get(f"{BASE}/api/v1/generate/record-info", json=body)
    if error is None:  # odd but readable: a job without tracks
        assert Apikley("k").job("abc123").outputs == []
        return
    with pytest.raises(error) as e:
        Apikley("k").job("abc123")
    assert e.value.status == status


# --- AudioPod -------------------------------------------------------------------------------

POD_JOB = {
    "id": 123,
    "task": "text2music",
    "status": "COMPLETED",
    "progress": 100,
    "output_url": "https://cdn.audiopod.ai/123.mp3",
    "output_urls": {"mp3": "https://cdn.audiopod.ai/123.mp3", "wav": "https://cdn.audiopod.ai/123.wav"},
    "audio_duration": 61.5,
    "display_name": "My Awesome Track",
    "created_at": "2026-05-01T10:00:00+02:00",
    "completed_at": "2026-05-01T10:02:00+02:00",
    "error_message": None,
    "lrc_content": "[00:01.00] la",
}


@responses.activate
def test_audiopod_list_and_status():
    responses.get(f"{BASE}/api/v1/music/jobs", json=[POD_JOB], headers={"X-Total-Count": "1"})
    responses.get(f"{BASE}/api/v1/music/jobs/123/status", json=dict(POD_JOB, status="PROCESSING"))
    page = AudioPod("k").history_page("", 2)
    url = responses.calls[0].request.url
    assert "skip=200" in url and "limit=100" in url and "sort_order=desc" in url
    (job,) = page.records
    assert job.external_id == "123" and job.title == "My Awesome Track" and job.kind == "music"
    assert job.created == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert job.outputs[0].downloads == POD_JOB["output_urls"] and job.outputs[0].duration == 61.5
    assert AudioPod("k").job("123").status == "running"
    assert responses.calls[1].request.headers["X-API-Key"] == "k"


def test_audiopod_never_puts_a_non_numeric_id_in_a_path():
    with pytest.raises(ProviderError, match="not an AudioPod job id"):
        AudioPod("k").job("../../admin")


# --- Munsit ---------------------------------------------------------------------------------

DENOISE = {
    "id": "0b6f3c2e-8a1d-4c8e-9a55-3f1c2d4e5f60",
    "user_id": "u1",
    "transaction_id": None,
    "audio_url": None,
    "original_audio_url": "https://files.munsit.com/in/interview.wav",
    "file_name": "interview.wav",
    "audio_duration": 12.5,
    "audio_size": 123456,
    "audio_format": "wav",
    "source_type": "audio",
    "status": "pending",
    "error": None,
    "created_at": "2026-06-01T12:00:00Z",
    "updated_at": "2026-06-01T12:00:05Z",
}


@responses.activate
def test_munsit_page_always_sends_a_limit():
    responses.get(
        f"{BASE}/api/v1/denoise", json=[DENOISE, dict(DENOISE, id="x2", status="success", audio_url="https://f/x.wav")]
    )
    page = Munsit("k").history_page("", 3)
    assert "offset=300" in responses.calls[0].request.url and "limit=100" in responses.calls[0].request.url
    pending, done = page.records
    assert (pending.status, pending.provider_status, pending.title) == ("running", "pending", "interview.wav")
    assert pending.outputs == [] and pending.inputs[0].url == DENOISE["original_audio_url"]
    assert pending.completed is None and done.completed == datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)
    assert done.outputs[0].url == "https://f/x.wav"


@responses.activate
def test_munsit_rejects_like_munsit():
    responses.get(
        f"{BASE}/api/v1/denoise", status=401, json={"errorCode": "UNAUTHORIZED", "errorMessage": "Invalid API key"}
    )
    with pytest.raises(KeyRejected, match="Invalid API key"):
        Munsit("k").history_page("", 0)
