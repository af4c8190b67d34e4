"""Apikley, a kie.ai Suno API reseller: per-task details only (shared/providers/apikley-*.txt).

There is no list endpoint: tasks enter by import of their ids and are refreshed one by one.
Errors may arrive as HTTP 200 with a `code` other than 200 in the body.
"""

import re
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from . import records as r
from . import webhooks
from .balances import CREDITS, Balance, decimal
from .base import KEY_CHECK_DEADLINE, Provider, as_number, format_credits
from .http import KeyRejected, OutOfCredits, ProviderError, RateLimited

STATUSES = r.statuses(
    {
        "PENDING": r.PENDING,
        "TEXT_SUCCESS": r.RUNNING,
        "FIRST_SUCCESS": r.RUNNING,
        "SUCCESS": r.SUCCEEDED,
        "CREATE_TASK_FAILED": r.FAILED,
        "GENERATE_AUDIO_FAILED": r.FAILED,
        "CALLBACK_EXCEPTION": r.FAILED,
        "SENSITIVE_WORD_ERROR": r.FAILED,
    }
)
# Only kie's call to the caller's webhook failed: with tracks, the music is there.
CALLBACK_EXCEPTION = "callback_exception"
# What an Apikley task id looks like: kie.ai sends 32 hex digits; allow some room around that.
TASK_ID_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
TASK_ID_LENGTH = range(8, 65)
# "Maximum query rate: 3 requests per second per task."
PER_TASK_INTERVAL = 1 / 3


class Apikley(Provider):
    slug = "apikley"
    name = "Apikley (Suno)"
    base_url_setting = "APIKLEY_BASE_URL"
    key_help = "Find it on the API Key Management page at app.apikley.ru/keys."
    streams = ()
    refreshes_per_job = True
    rate_limit_per_job = True
    imports_ids = True
    # Right after creation record-info answers data:null (or 422 "recordInfo is null") for a
    # while: an imported task id is only "not found" when still unknown an hour later.
    not_known_grace = timedelta(hours=1)
    # kie.ai deletes generated files after about 14 days (DESIGN: real provider answers).
    media_retention = timedelta(days=14)

    @classmethod
    def parse_stored(cls, raw: dict, external_id: str, kind: str) -> r.JobRecord:
        return parse_task(raw, external_id)

    def check_key(self) -> str:
        body = self.call("GET", "/api/v1/chat/credit", deadline=KEY_CHECK_DEADLINE).json()
        raise_for_code(body)
        return format_credits(credit_balance(body)) or "Key accepted"

    def not_found(self, error: ProviderError) -> str:
        return f"Not found at Apikley an hour after import ({error.message})"

    def balance(self) -> Balance | None:
        body = self.call("GET", "/api/v1/chat/credit").json()
        raise_for_code(body)
        amount = decimal(credit_balance(body))
        return Balance(amount, CREDITS) if amount is not None else None

    def job(self, external_id: str) -> r.JobRecord:
        _task_spacing.wait(external_id)
        body = self.call("GET", "/api/v1/generate/record-info", params={"taskId": external_id}).json()
        raise_for_code(body)
        data = body.get("data")
        if not isinstance(data, dict):  # {"code":200,"data":null}: not known (yet)
            raise ProviderError(f"Apikley does not know task {external_id} (yet).", status=404)
        try:
            return parse_task(data, external_id)
        except (r.BadRecord, ValueError, TypeError, AttributeError) as e:
            raise ProviderError(f"Apikley sent task details that cannot be read: {e}"[:300]) from e


def raise_for_code(body: Any) -> None:
    """Raise the typed error an Apikley body carries in `code`, if any."""
    if not isinstance(body, dict):
        raise ProviderError("Apikley sent an unexpected answer (not a JSON object).")
    code = body.get("code")
    if code == 200:
        return
    msg = str(body.get("msg") or "no message")[:300]
    text = f"Apikley answered code {code}: {msg}"
    if code == 401:
        raise KeyRejected(text, status=401, code="401")
    if code == 402:
        raise OutOfCredits(text, status=402, code="402")
    if code == 429:
        raise RateLimited(text, status=429, code="429", retry_after=1.0)
    raise ProviderError(text, status=code if isinstance(code, int) else None, code=str(code))


def credit_balance(body: Any) -> float | int | None:
    """The credits in a `chat/credit` answer: `data` is a number (a float at kie: 237.5)."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):
        data = data.get("credits", data.get("balance"))
    return as_number(data)


def parse_track(track: dict, position: int, fallback_title: str = "") -> list[r.Output]:
    """One Suno track as its audio output and its cover. The reseller's copies (`audioUrl`,
    `streamAudioUrl`, `imageUrl`) may be empty while Suno's CDN has them (`source…`); a
    webhook's snake_case body (`audio_url`, `stream_audio_url`, `image_url`, …) reads the same."""

    def pick(*names: str) -> str:
        return next((link for name in names if (link := r.url(track.get(name)))), "")

    title = r.first_line(track.get("title"), fallback_title, f"Track {position + 1}")
    reseller, suno = pick("audioUrl", "audio_url"), pick("sourceAudioUrl", "source_audio_url")
    audio = reseller or suno
    # Both copies to download: the reseller's file is deleted after about 14 days.
    downloads = {"mp3": reseller, "suno": suno} if reseller and suno and reseller != suno else {}
    stream = pick("streamAudioUrl", "stream_audio_url", "sourceStreamAudioUrl", "source_stream_audio_url")
    outputs = []
    if audio or stream:  # partial results (FIRST_SUCCESS) may only have a stream
        outputs.append(
            r.Output(
                "audio",
                audio,
                stream_url=stream,
                title=title,
                duration=r.number(track.get("duration")),
                position=position,
                downloads=downloads,
                ref=r.text(track.get("id"), 200),
                tags=r.text(track.get("tags"), 1000),
                lyrics=r.text(track.get("prompt")),
            )
        )
    if cover := pick("imageUrl", "image_url", "sourceImageUrl", "source_image_url"):
        outputs.append(r.Output("image", cover, title=f"Cover: {title}", position=position))
    return outputs


def parse_task(data: dict, asked_for: str) -> r.JobRecord:
    status, raw_status = r.status(data.get("status"), STATUSES)
    param = r.json_object(data.get("param"))
    response = data.get("response") if isinstance(data.get("response"), dict) else {}
    tracks = r.dicts(response.get("sunoData") or [])
    outputs = [o for position, track in enumerate(tracks) for o in parse_track(track, position, param.get("title"))]
    if raw_status.casefold() == CALLBACK_EXCEPTION and any(o.kind == "audio" for o in outputs):
        status = r.SUCCEEDED
    first = tracks[0] if tracks else {}
    # The task's createTime is when the person asked (a track's is when it was written).
    created = r.timestamp(data.get("createTime")) or r.timestamp(first.get("createTime"))
    error_code = data.get("errorCode")
    chosen = r.text(param.get("model"), 100)
    engine = r.text(first.get("modelName") or data.get("type"), 100)
    details = {"engine": engine if engine != chosen else "", "operation": r.text(data.get("operationType"), 60)}
    return r.JobRecord(
        external_id=r.external_id(data.get("taskId") or asked_for),
        kind="music",
        status=status,
        provider_status=raw_status,
        created=created,
        completed=r.timestamp(data.get("completeTime")),
        title=r.first_line(first.get("title"), param.get("title"), param.get("prompt")),
        prompt=r.text(param.get("prompt") or first.get("prompt")),
        model=chosen or engine,
        error=r.text(data.get("errorMessage"), 2000),
        error_code="" if error_code is None else r.text(error_code, 60),
        outputs=outputs,
        details={name: value for name, value in details.items() if value},
        parent_ref=r.text(data.get("parentMusicId"), 200),
        raw=data,
    )


def task_id_problem(token: str) -> str:
    """Why `token` cannot be an Apikley task id, or "" when it can: letters, digits, - and _,
    8 to 64 of them, one digit at least (ids are hex or UUIDs; words such as "not-a-task-id"
    pasted with them are not)."""
    if not TASK_ID_CHARS.match(token):
        return "only letters, digits, - and _ can be in a task id"
    if len(token) not in TASK_ID_LENGTH:
        return f"{len(token)} characters: task ids have 8 to 64"
    if not any(c.isdigit() for c in token):
        return "no digits: task ids have some"
    return ""


class TaskSpacing:
    """Keeps calls about one task at least 1/3 s apart within this process.

    One worker syncs a credential at a time (the lease), so a per-process record is enough;
    it is pruned as it goes so it cannot grow without bound.
    """

    def __init__(self, interval: float):
        self.interval = interval
        self.last: dict[str, float] = {}
        self.lock = threading.Lock()

    def wait(self, task_id: str) -> None:
        with self.lock:
            now = time.monotonic()
            if len(self.last) > 10_000:
                self.last = {k: t for k, t in self.last.items() if now - t < self.interval}
            delay = self.last.get(task_id, -self.interval) + self.interval - now
            self.last[task_id] = now + max(delay, 0)
        if delay > 0:
            time.sleep(delay)


_task_spacing = TaskSpacing(PER_TASK_INTERVAL)


# --- Callbacks: what kie.ai POSTs to a task's callBackUrl (received in hooks/) -----------------
# Stages: `text`, `first`, `complete`, `error`. With a webhook HMAC key set in the account,
# every call carries X-Webhook-Timestamp and X-Webhook-Signature =
# base64(HMAC-SHA256(taskId + "." + timestamp, hmac key)). The signature covers the task id
# and the time only, never the body: a callback is a cue to read record-info again.
CALLBACK_TIMESTAMP = "X-Webhook-Timestamp"
CALLBACK_SIGNATURE = "X-Webhook-Signature"


def callback_signature(hmac_key: str, task_id: str, timestamp: int | str) -> str:
    return webhooks.base64_hmac(hmac_key, f"{task_id}.{timestamp}".encode())


def read_callback(body: bytes, headers: Mapping[str, str], hmac_key: str | None, now: float, tolerance: int):
    """Check one callback; a webhooks.Callback, or webhooks.Rejected."""
    payload = webhooks.parse_json(body)
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    task_id = r.text(data.get("task_id") or data.get("taskId") or payload.get("task_id") or payload.get("taskId"))
    if not task_id or task_id_problem(task_id):
        raise webhooks.Rejected("No task id in the callback.")
    stage = r.text(data.get("callbackType") or payload.get("callbackType"), 40) or "callback"
    if hmac_key is None:
        # No HMAC key saved: the unguessable address is the only check, so the call is
        # accepted as a cue to look at a task the provider must itself confirm.
        return webhooks.Callback(
            event_id=f"{task_id}:{stage}:{webhooks.body_digest(body)}",
            kind=stage,
            external_id=task_id,
            signed=False,
            body=payload,
        )
    stamp = webhooks.fresh_timestamp(headers.get(CALLBACK_TIMESTAMP), now, tolerance, CALLBACK_TIMESTAMP)
    received = headers.get(CALLBACK_SIGNATURE)
    if not received:
        raise webhooks.Rejected(f"Unsigned: no {CALLBACK_SIGNATURE} header although an HMAC key is saved.")
    if not webhooks.same(callback_signature(hmac_key, task_id, stamp), received):
        raise webhooks.Rejected("Bad signature: it does not match the saved webhook HMAC key.")
    # A replay of this very call carries the same task, stage and timestamp: one event.
    return webhooks.Callback(
        event_id=f"{task_id}:{stage}:{stamp}", kind=stage, external_id=task_id, signed=True, body=payload
    )
