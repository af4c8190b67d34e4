"""API Mall gateway (shared/providers/apimall-audio-history.txt, apimall-image-history.txt).

Endpoints: `GET /api/v1/audio/history`, `GET /api/v1/images/history` (page ≥ 1, limit
1-50, default 20, newest first; anything else is a 400 in API Mall's error shape) and the
key check `GET /api/v1/account/balances` → `{success, data: {credits, api_credits}}`.
`Authorization: Bearer`; an unknown key is 401 "Unauthorized", `sim-apimall-denied…` is
403 "API access not approved"; 60 requests per 10 s per key, then 429 with Retry-After.

Items carry the documented fields in the documented order: task_id, model, source,
created_at, status, audio_url (audio only), image_url, credits_used, credits_refunded,
completed_at. BEYOND THE DOCS (our guess at what the real API adds): `title` and `prompt`
on audio items, `prompt` on image items, `error_message` on failed items.

Statuses: pending → processing → completed | failed. Failed items refund their credits
(credits_refunded == credits_used). Oddities, deterministic by job serial: a final status
"canceled" (serial % 97 == 42, credits refunded; DESIGN.md maps it to `canceled`),
created_at without a zone (serial % 29 == 7), a missing image_url (audio) or
credits_refunded (images) (serial % 31 == 3), a completed item without completed_at
(serial % 37 == 5). URLs are null until the item is completed.
"""

import os
import time

from . import content, media
from .protocol import Reply, Request, Route, bearer, int_arg, json_reply
from .timefmt import iso_ms_z, iso_naive
from .world import Account, Job, external_id, ulid

# (source, model, base credits)
AUDIO_MODELS = (
    ("suno", "V5", 12),
    ("suno", "V4_5PLUS", 10),
    ("suno", "V4_5", 8),
    ("elevenlabs", "eleven-music-v1", 15),
    ("minimax", "music-1.5", 6),
)
IMAGE_MODELS = (
    ("gempix2", "nano-banana", 8),
    ("seedream", "seedream-4.0", 6),
    ("openai", "gpt-image-1", 20),
    ("flux", "flux-kontext-pro", 10),
    ("midjourney", "v7", 16),
)
AUDIO_ERRORS = (
    "Upstream generation failed: model timed out",
    "Content moderation: lyrics rejected",
    "Upstream provider returned an empty result",
)
IMAGE_ERRORS = (
    "Prompt blocked by safety filter",
    "Upstream generation failed: model timed out",
    "Failed to store the generated image",
)
CANCELED = "canceled"


def key_of(request: Request) -> str | None:
    return bearer(request.headers)


def _request_id() -> str:
    return "req_" + ulid(time.time(), os.urandom(16))


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"success": False, "error": {"code": code, "message": message}, "request_id": _request_id()}
    return json_reply(body, status, headers=headers)


def too_many(request: Request, retry_after: int) -> Reply:
    return error(429, "rate_limited", "Rate limit exceeded", {"Retry-After": str(retry_after)})


def server_error(request: Request) -> Reply:
    return error(500, "internal_error", "Internal server error")


def _authenticate(request: Request) -> Account | Reply:
    key = key_of(request)
    account = request.world.account(key, "apimall")
    if account is None:
        return error(401, "unauthorized", "Unauthorized")
    if account.info.denied:
        return error(403, "forbidden", "API access not approved")
    wait = request.world.throttle("apimall", key)
    return too_many(request, wait) if wait else account


def status(job: Job, now: float) -> str:
    if not job.done(now):
        return "pending" if job.progress(now) < 0.25 else "processing"
    if job.serial % 97 == 42 and not job.unfinished_at_start:
        return CANCELED
    return "failed" if job.failed else "completed"


def render(job: Job, now: float, base_url: str) -> dict:
    audio = job.stream == "audio"
    rng = job.rng()
    source, model, price = rng.choice(AUDIO_MODELS if audio else IMAGE_MODELS)
    credits = max(1, price + rng.randint(-2, 3))
    if audio:
        genre = content.genre(rng)
        title = content.title(rng)
        prompt = content.music_prompt(rng, genre, instrumental=rng.random() < 0.3)
    else:
        title, prompt = None, content.image_prompt(rng)
    failure = rng.choice(AUDIO_ERRORS if audio else IMAGE_ERRORS)

    task_id = external_id(job)
    state = status(job, now)
    ok = state == "completed"
    item: dict = {
        "task_id": task_id,
        "model": model,
        "source": source,
        "created_at": iso_naive(job.created) if job.serial % 29 == 7 else iso_ms_z(job.created),
        "status": state,
    }
    if audio:
        item["audio_url"] = media.audio_url(base_url, task_id) if ok else None
    item["image_url"] = media.image_url(base_url, task_id) if ok else None
    item["credits_used"] = credits
    item["credits_refunded"] = credits if state in ("failed", CANCELED) else 0
    item["completed_at"] = iso_ms_z(job.finish_at) if state in ("completed", "failed") else None
    if audio:
        item["title"] = title
    item["prompt"] = prompt
    if state == "failed":
        item["error_message"] = failure
    # Records with optional fields missing, as old or odd records have.
    if job.serial % 31 == 3:
        del item["image_url" if audio else "credits_refunded"]
    if job.serial % 37 == 5 and ok:
        del item["completed_at"]
    return item


def history(stream: str):
    def handler(request: Request) -> Reply:
        account = _authenticate(request)
        if isinstance(account, Reply):
            return account
        try:
            page = int_arg(request.arg("page"), 1)
            limit = int_arg(request.arg("limit"), 20)
        except ValueError:
            return error(400, "invalid_request", "page and limit must be integers")
        assert page is not None and limit is not None
        if page < 1:
            return error(400, "invalid_request", "page must be greater than or equal to 1")
        if not 1 <= limit <= 50:
            return error(400, "invalid_request", "limit must be between 1 and 50")
        world = request.world
        now = world.now()
        jobs = world.page(account, stream, (page - 1) * limit, limit)
        items = [render(job, now, request.base_url) for job in jobs]
        return json_reply(
            {"success": True, "data": {"items": items, "page": page, "limit": limit}, "request_id": _request_id()}
        )

    return handler


def balances(request: Request) -> Reply:
    account = _authenticate(request)
    if isinstance(account, Reply):
        return account
    credits = account.seed_int("credits", 5000) + 100
    data = {"credits": credits, "api_credits": credits - account.seed_int("api", credits)}
    return json_reply({"success": True, "data": data, "request_id": _request_id()})


ROUTES = [
    Route("apimall", "GET", "/api/v1/audio/history", history("audio")),
    Route("apimall", "GET", "/api/v1/images/history", history("images")),
    Route("apimall", "GET", "/api/v1/account/balances", balances),
]
