"""Random JSON into every adapter: it returns records or raises the typed provider error."""

import json
import uuid

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.apikley import Apikley
from providers.apimall import ApiMall
from providers.audiopod import AudioPod
from providers.http import ProviderError
from providers.munsit import Munsit
from providers.records import JobRecord, Page

BASE = "https://p.test"
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
keys = st.sampled_from(
    [
        "task_id",
        "id",
        "taskId",
        "status",
        "created_at",
        "createTime",
        "audio_url",
        "image_url",
        "output_urls",
        "response",
        "sunoData",
        "data",
        "items",
        "success",
        "code",
        "param",
        "title",
        "duration",
        "file_name",
    ]
) | st.text(max_size=8)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6), max_leaves=25
)
# Bodies shaped like each provider's envelope, with random insides, plus plain garbage.
bodies = (
    json_values
    | st.builds(
        lambda items: {"success": True, "data": {"items": items}},
        st.lists(st.dictionaries(keys, json_values), max_size=4),
    )
    | st.builds(lambda data: {"code": 200, "msg": "success", "data": data}, st.dictionaries(keys, json_values))
    | st.lists(st.dictionaries(keys, json_values), max_size=4)
)

CALLS = [
    ("GET", "/api/v1/audio/history", lambda: ApiMall("k").history_page("audio", 0)),
    ("GET", "/api/v1/images/history", lambda: ApiMall("k").history_page("images", 0)),
    # A new task id each time: the same one would be spaced 1/3 s apart (Apikley's per-task limit).
    ("GET", "/api/v1/generate/record-info", lambda: Apikley("k").job(f"task-{uuid.uuid4().hex}")),
    ("GET", "/api/v1/music/jobs", lambda: AudioPod("k").history_page("", 0)),
    ("GET", "/api/v1/music/jobs/7/status", lambda: AudioPod("k").job("7")),
    ("GET", "/api/v1/denoise", lambda: Munsit("k").history_page("", 0)),
    ("GET", "/api/v1/account/balances", lambda: ApiMall("k").check_key()),
    ("GET", "/api/v1/chat/credit", lambda: Apikley("k").check_key()),
    ("GET", "/api/v1/api-wallet/balance", lambda: AudioPod("k").check_key()),
]


@pytest.fixture(autouse=True)
def _base_urls(settings):
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        setattr(settings, f"{name}_BASE_URL", BASE)


@pytest.mark.parametrize(("method", "path", "call"), CALLS, ids=[c[1] for c in CALLS])
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, status=st.sampled_from([200, 200, 200, 201, 400, 404, 500]), raw=st.booleans())
def test_any_json_gives_records_or_a_provider_error(method, path, call, body, status, raw):
    with responses.RequestsMock() as mock:
        payload = json.dumps(body)[: len(json.dumps(body)) // 2] if raw else json.dumps(body)  # sometimes truncated
        mock.add(method, BASE + path, body=payload, status=status, content_type="application/json")
        try:
            result = call()
        except ProviderError:
            return
    if isinstance(result, Page):
        assert all(isinstance(r, JobRecord) for r in result.records)
        for record in result.records:
            assert record.status in ("pending", "running", "succeeded", "failed", "unknown")
            assert all(o.url == "" or o.url.startswith("http") for o in record.outputs)
    else:
        assert isinstance(result, JobRecord | str)
