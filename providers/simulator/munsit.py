"""Munsit denoise history (shared/providers/denoise-history.txt).

Endpoints: `GET /api/v1/denoise?offset=&limit=` → a JSON array, newest first; omitting
`limit` returns EVERY record, as the real API does; offset < 0 or limit < 1 (or not
integers) → 400. `GET /api/v1/denoise/{id}/progress` is a Server-Sent Events stream: for a
finished job it replays the final event and closes; for a pending one it sends a couple of
progress events and closes (a client reconnects, as EventSource does).
`x-api-key`; a bad key is 401 `{"errorCode","errorMessage"}`; 60 requests per 10 s per key,
then 429 with Retry-After.

Records follow the documented schema exactly (no extra fields). Statuses: pending →
success | failed; audio_url is null until success; transaction_id is null for failed jobs
(refunded) and for some free ones (serial % 17 == 6); created_at lacks a zone on serial % 41
== 10; a quarter of uploads are videos; some file names are Arabic. As the real API does,
`error` is set on some rows that did not fail (serial % 9 == 2): Genboard shows it on failed
jobs only.

Our choices where the docs are silent: errorCode strings ("UNAUTHORIZED", "VALIDATION_ERROR",
"NOT_FOUND", "RATE_LIMIT_EXCEEDED", "INTERNAL_ERROR"); SSE events `event: progress` with
`{"denoiseId","status":"pending","progress":0-99}` and a final `event: done` with
`{"denoiseId","status":"success"|"failed","progress":100,"audio_url","error"}`.
"""

import json
import time
from collections.abc import Callable
from urllib.parse import quote

from . import content, media
from .protocol import Reply, Request, Route, json_reply
from .timefmt import iso_ms_z, iso_naive
from .world import Account, Job, external_id

ERRORS = (
    "Unsupported codec: could not decode the audio stream",
    "Audio is longer than your plan allows (max 2 hours)",
    "The uploaded file is corrupted or empty",
    "Denoising timed out, please try again",
)
# Bytes per second of source audio, by format (a rough, realistic bitrate).
BYTE_RATES = {"wav": 176_400, "flac": 90_000, "mp3": 16_000, "m4a": 16_000, "ogg": 14_000}
VIDEO_BYTE_RATE = 400_000


def key_of(request: Request) -> str | None:
    return request.headers.get("x-api-key")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"errorCode": code, "errorMessage": message}, status, headers=headers)


def too_many(request: Request, retry_after: int) -> Reply:
    return error(
        429, "RATE_LIMIT_EXCEEDED", "Too many requests, please retry later.", {"Retry-After": str(retry_after)}
    )


def server_error(request: Request) -> Reply:
    return error(500, "INTERNAL_ERROR", "Internal server error")


def _authenticate(request: Request) -> Account | Reply:
    key = key_of(request)
    account = request.world.account(key, "munsit")
    if account is None:
        return error(401, "UNAUTHORIZED", "Invalid or missing API key")
    wait = request.world.throttle("munsit", key)
    return too_many(request, wait) if wait else account


def status(job: Job, now: float) -> str:
    if not job.done(now):
        return "pending"
    return "failed" if job.failed else "success"


def render(job: Job, now: float, base_url: str) -> dict:
    rng = job.rng()
    video = rng.random() < 0.25
    file_name, ext = content.file_name(rng, video)
    duration = round(rng.uniform(4, 600) if rng.random() < 0.85 else rng.uniform(600, 5400), 3)
    size = int(duration * (VIDEO_BYTE_RATE if video else BYTE_RATES[ext]) * rng.uniform(0.9, 1.1))
    failure = rng.choice(ERRORS)
    transaction = "txn_" + job.token.hex()[:24]

    record_id = external_id(job)
    state = status(job, now)
    free = job.serial % 17 == 6
    created = iso_naive(job.created) if job.serial % 41 == 10 else iso_ms_z(job.created)
    return {
        "id": record_id,
        "user_id": _user_id(job.account),
        "transaction_id": None if state == "failed" or free else transaction,
        "audio_url": media.audio_url(base_url, record_id) if state == "success" else None,
        "original_audio_url": f"{base_url}/_sim/media/upload/{record_id}/{quote(file_name)}",
        "file_name": file_name,
        "audio_duration": duration,
        "audio_size": size,
        "audio_format": ext,
        "source_type": "video" if video else "audio",
        "status": state,
        # The real API leaves `error` on rows that did not fail (an earlier attempt's words).
        "error": failure if state == "failed" or job.serial % 9 == 2 else None,
        "created_at": created,
        "updated_at": iso_ms_z(job.finish_at if job.done(now) else job.created),
    }


def _user_id(account: Account) -> str:
    h = account.seed.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


class _Invalid(ValueError):
    pass


def _int_param(request: Request, name: str, minimum: int) -> int | None:
    raw = request.arg(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _Invalid(f"{name} must be an integer >= {minimum}") from None
    if value < minimum:
        raise _Invalid(f"{name} must be an integer >= {minimum}")
    return value


def history(request: Request) -> Reply:
    account = _authenticate(request)
    if isinstance(account, Reply):
        return account
    try:
        offset = _int_param(request, "offset", 0) or 0
        limit = _int_param(request, "limit", 1)  # None: everything, as the real API does
    except _Invalid as e:
        return error(400, "VALIDATION_ERROR", str(e))
    world = request.world
    now = world.now()
    jobs = world.page(account, "denoise", offset, limit)
    return json_reply([render(job, now, request.base_url) for job in jobs])


def progress(request: Request) -> Reply:
    account = _authenticate(request)
    if isinstance(account, Reply):
        return account
    world, record_id = request.world, request.params["id"]
    if world.find(account, record_id) is None:
        return error(404, "NOT_FOUND", "Denoise record not found")

    def events(write: Callable[[bytes], None]) -> None:
        write(b"retry: 3000\n\n")
        for sent in range(3):
            job = world.find(account, record_id)
            if job is None:
                return
            now = world.now()
            state = status(job, now)
            if state != "pending":
                record = render(job, now, request.base_url)
                data = {
                    "denoiseId": record_id,
                    "status": state,
                    "progress": 100,
                    "audio_url": record["audio_url"],
                    "error": record["error"],
                }
                write(_event("done", data))
                return
            if sent == 2:
                return  # "a couple" sent: close, the client reconnects
            write(
                _event("progress", {"denoiseId": record_id, "status": state, "progress": int(job.progress(now) * 100)})
            )
            time.sleep(world.sse_interval)

    return Reply(content_type="text/event-stream", headers={"Cache-Control": "no-cache"}, stream=events)


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


ROUTES = [
    Route("munsit", "GET", "/api/v1/denoise", history),
    Route("munsit", "GET", "/api/v1/denoise/{id}/progress", progress),
]
