"""Apikley, a kie.ai Suno reseller (shared/providers/apikley-suno-record-info.txt).

Endpoints: `GET /api/v1/generate/record-info?taskId=` (per-task details, exactly the
OpenAPI schema) and the key check `GET /api/v1/chat/credit` → `{"code":200, "msg":"success",
"data":<int>}`. There is no list endpoint: the simulator-only `GET /_sim/apikley/task-ids`
(same Bearer auth) and `world.task_ids(key)` reveal an account's task ids, newest first.

Errors come as HTTP 200 with `code` ≠ 200 in the body: 401 (bad key), 402 (a key whose
name contains "broke": no credits, on every endpoint), 404 (task not found), 422 (taskId
missing), 429 (more than 3 requests per second for one task, the documented limit; no
Retry-After header, like the real API), 455 (maintenance, a fault), 500 (a fault).

Statuses: PENDING → TEXT_SUCCESS (lyrics done; tracks listed with streamAudioUrl and cover,
audioUrl "" and duration null) → FIRST_SUCCESS (first track's audioUrl and duration present)
→ SUCCESS (both). Failures: GENERATE_AUDIO_FAILED (errorCode 408/400/413 per the schema, and
500, seen at the real API), CREATE_TASK_FAILED and SENSITIVE_WORD_ERROR (never leave PENDING
before failing), and CALLBACK_EXCEPTION (the tracks exist, finished: only the call to the
caller's webhook failed). `data.response` is null while there are no tracks (our choice: the
docs do not say). `param` is a JSON string, as documented.

The real API's shapes (public captures, DESIGN.md "Real provider answers"): for NOT_READY
seconds after a task is created record-info answers `{"code":200,"data":null}` (every third
task: `{"code":422,"msg":"recordInfo is null"}`); `createTime` of the task and of each track
in epoch milliseconds (a track's a few seconds after the task's); `param.model` is what the
user chose (V5, V4_5…) while `modelName` and `type` are engine codenames (chirp-crow…);
every track has Suno's own copies (`sourceAudioUrl`, `sourceStreamAudioUrl`,
`sourceImageUrl`), and in a task of serial % 7 == 5 the reseller's `audioUrl` and `imageUrl`
are empty; an extend task (`operationType` "extend") names the first track of the task made
before it as `parentMusicId`. Older oddities: `type` "GENERATE" (serial % 11 == 4, the doc's
own example), a track without `tags` (serial % 17 == 3).
"""

import hashlib
import json

from . import content, media
from .protocol import Reply, Request, Route, bearer, json_reply
from .world import Account, Job, external_id, job_token

MODELS = (("V5", "chirp-crow"), ("V5", "chirp-crow"), ("V4_5", "chirp-bluejay"), ("V4", "chirp-v4"))
# Seconds after creation during which record-info does not know the task yet.
NOT_READY = 4.0
FAILURES = (  # (status, errorCode, errorMessage), weighted by repetition
    ("GENERATE_AUDIO_FAILED", 408, "Rate Limited - Timeout."),
    ("GENERATE_AUDIO_FAILED", 408, "Rate Limited - Timeout."),
    ("GENERATE_AUDIO_FAILED", 400, "Lyrics contained copyrighted material."),
    ("GENERATE_AUDIO_FAILED", 500, "Internal error, please try again later."),
    ("SENSITIVE_WORD_ERROR", None, "The description contains sensitive words. Please modify and try again."),
    ("CREATE_TASK_FAILED", None, "Failed to create task: the upstream service is busy, credits were returned."),
    ("CALLBACK_EXCEPTION", None, "Callback to https://hooks.example.com/suno failed: HTTP 502"),
    ("CALLBACK_EXCEPTION", None, "Callback to https://hooks.example.com/suno failed: connect timed out"),
)
UPLOAD_COVER_FAILURE = ("GENERATE_AUDIO_FAILED", 413, "Uploaded audio matches existing work of art.")
NO_TRACKS_BEFORE_FAILING = ("CREATE_TASK_FAILED", "SENSITIVE_WORD_ERROR")


def key_of(request: Request) -> str | None:
    return bearer(request.headers)


def answer(code: int, msg: str, data: object = None) -> Reply:
    """Apikley's envelope, always HTTP 200."""
    return json_reply({"code": code, "msg": msg, "data": data})


def too_many(request: Request, retry_after: int) -> Reply:
    return answer(429, "Your request frequency is too high. Please try again later.")


def server_error(request: Request) -> Reply:
    return answer(500, "Server Error - An unexpected error occurred while processing the request")


def maintenance() -> Reply:
    return answer(455, "Service Unavailable - System is currently undergoing maintenance")


def authenticate(request: Request) -> Account | Reply:
    account = request.world.account(key_of(request), "apikley")
    if account is None:
        return answer(401, "Unauthorized - Authentication credentials are missing or invalid")
    if account.info.broke:
        return answer(402, "Insufficient credits. Please top up your account.")
    return account


def status(job: Job, now: float, failure: tuple) -> str:
    if job.done(now):
        return failure[0] if job.failed else "SUCCESS"
    if job.failed and failure[0] in NO_TRACKS_BEFORE_FAILING:
        return "PENDING"
    progress = job.progress(now)
    if progress < 0.3:
        return "PENDING"
    # Audio that is going to fail never gets a first track.
    audio_fails = job.failed and failure[0] == "GENERATE_AUDIO_FAILED"
    return "TEXT_SUCCESS" if progress < 0.65 or audio_fails else "FIRST_SUCCESS"


def _track_id(job: Job, index: int, token: bytes | None = None) -> str:
    h = hashlib.blake2b((token or job.token) + bytes([index]), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def render(job: Job, now: float, base_url: str) -> dict:
    rng = job.rng()
    model, model_name = rng.choice(MODELS)
    custom = rng.random() < 0.6
    instrumental = rng.random() < 0.25
    genre = content.genre(rng)
    title = content.title(rng)
    tags = content.tags(rng, genre)
    description = content.music_prompt(rng, genre, instrumental)
    lyrics = "" if instrumental else content.lyrics(rng)
    operation = rng.choices(("generate", "extend", "upload_cover"), weights=(80, 12, 8))[0]
    failure = UPLOAD_COVER_FAILURE if operation == "upload_cover" and rng.random() < 0.5 else rng.choice(FAILURES)
    durations = [round(rng.uniform(90, 240), 2), round(rng.uniform(90, 240), 2)]
    text_seconds = rng.uniform(3, 12)

    task_id = external_id(job)
    state = status(job, now, failure)
    if custom:
        param = {
            "prompt": lyrics or description,
            "style": tags,
            "title": title,
            "customMode": True,
            "instrumental": instrumental,
            "model": model,
        }
    else:
        param = {"prompt": description, "customMode": False, "instrumental": instrumental, "model": model}

    if state in ("PENDING", *NO_TRACKS_BEFORE_FAILING) or state == "GENERATE_AUDIO_FAILED":
        response = None
    else:
        finished = 2 if state in ("SUCCESS", "CALLBACK_EXCEPTION") else 1 if state == "FIRST_SUCCESS" else 0
        tracks = []
        reseller_copy = job.serial % 7 != 5
        for i in range(2):
            track_id = _track_id(job, i)
            audio = media.audio_url(base_url, track_id, "mp3") if i < finished else ""
            stream = f"{base_url}/_sim/media/stream/{track_id}"
            cover = media.image_url(base_url, track_id)
            track = {
                "id": track_id,
                "audioUrl": audio if reseller_copy else "",
                "sourceAudioUrl": audio.replace("/audio/", "/audio/suno-") if audio else "",
                "streamAudioUrl": stream if reseller_copy else "",
                "sourceStreamAudioUrl": stream,
                "imageUrl": cover if reseller_copy else "",
                "sourceImageUrl": cover,
                "prompt": lyrics,
                "modelName": model_name,
                "title": title,
                "tags": tags,
                "createTime": round((job.created + text_seconds) * 1000),
                "duration": durations[i] if i < finished else None,
            }
            if job.serial % 17 == 3:
                del track["tags"]
            tracks.append(track)
        response = {"taskId": task_id, "sunoData": tracks}

    failed = job.done(now) and job.failed
    extends = operation == "extend" and job.serial > 0
    parent = _track_id(job, 0, job_token(job.account, job.stream, job.serial - 1)) if extends else ""
    return {
        "taskId": task_id,
        "parentMusicId": parent,
        "param": json.dumps(param, ensure_ascii=False, separators=(",", ":")),
        "response": response,
        "status": state,
        "type": "GENERATE" if job.serial % 11 == 4 else model_name,
        "operationType": operation if extends or operation != "extend" else "generate",
        "createTime": round(job.created * 1000),
        "errorCode": failure[1] if failed else None,
        "errorMessage": failure[2] if failed else None,
    }


def record_info(request: Request) -> Reply:
    account = authenticate(request)
    if isinstance(account, Reply):
        return account
    task_id = (request.arg("taskId") or "").strip()
    if not task_id:
        return answer(422, "taskId is required")
    world = request.world
    # The documented limit: 3 requests per second for one task (known or not).
    if world.throttle("apikley_task", (account.key, task_id)):
        return too_many(request, 1)
    job = world.find(account, task_id)
    if job is None:
        return answer(404, f"Task not found: {task_id}")
    now = world.now()
    if now - job.created < NOT_READY:
        # Just created: the real API does not know the task for a while.
        return answer(422, "recordInfo is null") if job.serial % 3 == 0 else answer(200, "success")
    return answer(200, "success", render(job, now, request.base_url))


def credit(request: Request) -> Reply:
    account = authenticate(request)
    if isinstance(account, Reply):
        return account
    return answer(200, "success", account.seed_int("credits", 20_000) + 50)


def task_ids(request: Request) -> Reply:
    """Simulator only: the account's task ids, newest first (?offset=&limit= optional)."""
    account = authenticate(request)
    if isinstance(account, Reply):
        return account
    ids = request.world.task_ids(account.key)
    try:
        offset = int(request.arg("offset") or 0)
        limit = int(request.arg("limit") or len(ids))
    except ValueError:
        return answer(422, "offset and limit must be integers")
    return json_reply({"task_ids": ids[max(offset, 0) : max(offset, 0) + max(limit, 0)]})


ROUTES = [
    Route("apikley", "GET", "/api/v1/generate/record-info", record_info),
    Route("apikley", "GET", "/api/v1/chat/credit", credit),
]
SIM_ROUTES = [Route("sim", "GET", "/_sim/apikley/task-ids", task_ids)]
