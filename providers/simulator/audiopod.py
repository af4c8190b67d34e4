"""AudioPod music jobs (shared/providers/audiopod-music-jobs.txt), a FastAPI service.

Endpoints: `GET /api/v1/music/jobs` (skip ≥ 0, limit 1-100 default 50, task, status,
search over display name/prompt/lyrics, sort_by created_at|display_name|audio_duration|
status, sort_order asc|desc; the other documented filters are accepted and ignored; the
total in `X-Total-Count`), `GET /api/v1/music/jobs/{id}/status`, `DELETE` and `PATCH
/api/v1/music/jobs/{id}` (display_name, thumbnail_url), `POST /api/v1/music/jobs/{id}/retry`
(FAILED only, else 400; 10 per minute per key, then 429 with Retry-After), and the key check
`GET /api/v1/api-wallet/balance`. `X-API-Key`; a missing key is 401 "Not authenticated", a
wrong one 401 "Invalid API key"; unknown ids 404 `{"detail":"Job not found"}`; invalid
parameters 422 in FastAPI's `{"detail":[{type, loc, msg, input, ctx}]}`; 300 requests per
minute per key overall.

Job fields per DESIGN.md: id (int), task, status (PENDING → PROCESSING → COMPLETED | FAILED),
progress (0-100, our choice of scale), output_url, output_urls {mp3, wav, flac},
audio_duration, display_name, created_at, completed_at (set on FAILED too: when it ended),
error_message, lrc_content. BEYOND THE DOCS (realistic guesses): `prompt`, `lyrics` (the
search covers them), `thumbnail_url` (PATCH sets it), `credits_used`.

Undocumented shapes we chose: the retry answer ("MusicGenerationResponse") is `{"id",
"status":"PENDING", "message", "job": <full job>}`; the wallet is `{"balance_usd",
"balance_cents", "currency":"USD", "reserved_usd", "updated_at"}`. A retried job runs again
and succeeds. Oddities: display_name null (serial % 19 == 4: unnamed, show the prompt),
created_at without a zone (serial % 23 == 9), no flac rendition (serial % 13 == 2).
"""

from typing import Any

from . import content, media
from .protocol import Reply, Request, Route, json_reply
from .timefmt import iso_us
from .world import Account, Job, external_id

TASKS = ("text2music", "prompt2instrumental", "text2rap", "retake")
STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED")
SORT_FIELDS = ("created_at", "display_name", "audio_duration", "status")
ERRORS = (
    "GPU worker timed out after 600 seconds",
    "Audio generation failed: the model returned silence",
    "Lyrics were flagged by the content filter",
    "Vocal synthesis failed, please retry",
)
PER_MINUTE = 300


def key_of(request: Request) -> str | None:
    return request.headers.get("X-API-Key")


def detail(status: int, message: Any, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"detail": message}, status, headers=headers)


def too_many(request: Request, retry_after: int, per_minute: int = PER_MINUTE) -> Reply:
    return detail(429, f"Rate limit exceeded: {per_minute} per 1 minute", {"Retry-After": str(retry_after)})


def server_error(request: Request) -> Reply:
    return detail(500, "Internal Server Error")


def invalid(kind: str, loc: list, msg: str, value: Any, ctx: dict | None = None) -> Reply:
    """FastAPI/pydantic v2's 422."""
    error: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx:
        error["ctx"] = ctx
    return detail(422, [error])


def _authenticate(request: Request) -> Account | Reply:
    key = key_of(request)
    if not key:
        return detail(401, "Not authenticated")
    account = request.world.account(key, "audiopod")
    if account is None:
        return detail(401, "Invalid API key")
    wait = request.world.throttle("audiopod", key)
    return too_many(request, wait) if wait else account


def status(job: Job, now: float) -> str:
    if job.done(now):
        return "FAILED" if job.failed else "COMPLETED"
    return "PENDING" if job.progress(now) < 0.15 else "PROCESSING"


def render(job: Job, now: float, base_url: str) -> dict:
    rng = job.rng()
    task = rng.choices(TASKS, weights=(55, 25, 13, 7))[0]
    instrumental = task == "prompt2instrumental"
    genre = content.genre(rng)
    title = content.title(rng)
    prompt = content.music_prompt(rng, genre, instrumental)
    lyrics = None if instrumental else content.lyrics(rng)
    duration = round(rng.uniform(60, 240), 2)
    failure = rng.choice(ERRORS)
    failed_at = rng.randint(5, 90)

    job_id = external_id(job)
    state = status(job, now)
    ok = state == "COMPLETED"
    name = f"ap-{job_id}"
    if ok:
        urls = {ext: media.audio_url(base_url, name, ext) for ext in ("mp3", "wav", "flac")}
        if job.serial % 13 == 2:
            del urls["flac"]
    progress = {"PENDING": 0, "COMPLETED": 100, "FAILED": failed_at}.get(
        state, min(max(int(job.progress(now) * 100), 1), 99)
    )
    return {
        "id": job_id,
        "task": task,
        "status": state,
        "progress": progress,
        "display_name": job.override("display_name", None if job.serial % 19 == 4 else title),
        "prompt": prompt,
        "lyrics": lyrics,
        "output_url": urls["mp3"] if ok else None,
        "output_urls": urls if ok else None,
        "audio_duration": duration if ok else None,
        "thumbnail_url": job.override("thumbnail_url", media.image_url(base_url, name)),
        "credits_used": round(duration * 0.5),
        "error_message": failure if state == "FAILED" else None,
        "lrc_content": content.lrc(lyrics, duration) if ok and lyrics else None,
        "created_at": iso_us(job.created, z=job.serial % 23 != 9),
        "completed_at": iso_us(job.finish_at) if job.done(now) else None,
    }


def list_jobs(request: Request) -> Reply:
    account = _authenticate(request)
    if isinstance(account, Reply):
        return account
    parsed: dict[str, int] = {}
    for name, default, low, high in (("skip", 0, 0, None), ("limit", 50, 1, 100)):
        raw = request.arg(name)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            msg = "Input should be a valid integer, unable to parse string as an integer"
            return invalid("int_parsing", ["query", name], msg, raw)
        if value < low:
            return invalid(
                "greater_than_equal",
                ["query", name],
                f"Input should be greater than or equal to {low}",
                raw,
                {"ge": low},
            )
        if high is not None and value > high:
            return invalid(
                "less_than_equal", ["query", name], f"Input should be less than or equal to {high}", raw, {"le": high}
            )
        parsed[name] = value
    sort_by = request.arg("sort_by") or "created_at"
    sort_order = request.arg("sort_order") or "desc"
    if sort_by not in SORT_FIELDS:
        pattern = f"^({'|'.join(SORT_FIELDS)})$"
        return invalid(
            "string_pattern_mismatch",
            ["query", "sort_by"],
            f"String should match pattern '{pattern}'",
            sort_by,
            {"pattern": pattern},
        )
    if sort_order not in ("asc", "desc"):
        return invalid(
            "string_pattern_mismatch",
            ["query", "sort_order"],
            "String should match pattern '^(asc|desc)$'",
            sort_order,
            {"pattern": "^(asc|desc)$"},
        )

    world, base = request.world, request.base_url
    now = world.now()
    skip, limit = parsed["skip"], parsed["limit"]
    wanted_status = (request.arg("status") or "").upper()
    task = request.arg("task")
    search = (request.arg("search") or "").strip().lower()
    if not (wanted_status or task or search) and sort_by == "created_at":
        # The common case stays O(limit) however large the account.
        jobs = world.page(account, "music", skip, limit, newest_first=sort_order == "desc")
        total = account.streams["music"].visible
        items = [render(job, now, base) for job in jobs]
    else:
        # Filters and other sort orders look at every job: O(account size).
        matching = []
        for job in world.scan(account, "music"):
            if wanted_status and status(job, now) != wanted_status:
                continue
            item = render(job, now, base)
            if task and item["task"] != task:
                continue
            if search and not any(search in (item[f] or "").lower() for f in ("display_name", "prompt", "lyrics")):
                continue
            matching.append(item)
        if sort_by != "created_at":
            # Stable sort over newest-first, so ties keep newest first; nulls sort last.
            matching.sort(key=lambda item: (item[sort_by] is None, item[sort_by] or 0))
        if (sort_order == "asc") != (sort_by != "created_at"):
            matching.reverse()
        total, items = len(matching), matching[skip : skip + limit]
    return json_reply(items, headers={"X-Total-Count": str(total)})


def _find(request: Request, account: Account) -> Job | Reply:
    raw = request.params["id"]
    try:
        job_id = int(raw)
    except ValueError:
        msg = "Input should be a valid integer, unable to parse string as an integer"
        return invalid("int_parsing", ["path", "job_id"], msg, raw)
    return request.world.find(account, job_id) or detail(404, "Job not found")


def _authenticated_job(request: Request) -> Job | Reply:
    account = _authenticate(request)
    return account if isinstance(account, Reply) else _find(request, account)


def job_status(request: Request) -> Reply:
    job = _authenticated_job(request)
    if isinstance(job, Reply):
        return job
    return json_reply(render(job, request.world.now(), request.base_url))


def delete_job(request: Request) -> Reply:
    job = _authenticated_job(request)
    if isinstance(job, Reply):
        return job
    request.world.delete(job)
    return json_reply({"message": "Job deleted successfully"})


def update_job(request: Request) -> Reply:
    job = _authenticated_job(request)
    if isinstance(job, Reply):
        return job
    try:
        body = request.json()
    except ValueError:
        return invalid("json_invalid", ["body", 0], "JSON decode error", {}, {"error": "Invalid JSON"})
    if not isinstance(body, dict):
        return invalid("model_attributes_type", ["body"], "Input should be a valid dictionary or object", body)
    changes = {}
    for name in ("display_name", "thumbnail_url"):
        if name in body:
            if not isinstance(body[name], str):
                return invalid("string_type", ["body", name], "Input should be a valid string", body[name])
            changes[name] = body[name]
    if changes:
        job = request.world.update(job, **changes)
    return json_reply(render(job, request.world.now(), request.base_url))


def retry_job(request: Request) -> Reply:
    account = _authenticate(request)
    if isinstance(account, Reply):
        return account
    wait = request.world.throttle("audiopod_retry", account.key)
    if wait:
        return too_many(request, wait, per_minute=10)
    job = _find(request, account)
    if isinstance(job, Reply):
        return job
    world = request.world
    current = status(job, world.now())
    if current != "FAILED":
        return detail(400, f"Only failed jobs can be retried (this job is {current})")
    job = world.retry(job)
    item = render(job, world.now(), request.base_url)
    return json_reply({"id": item["id"], "status": item["status"], "message": "Job queued for retry", "job": item})


def wallet(request: Request) -> Reply:
    account = _authenticate(request)
    if isinstance(account, Reply):
        return account
    cents = account.seed_int("wallet", 20_000) + 100
    return json_reply(
        {
            "balance_usd": cents / 100,
            "balance_cents": cents,
            "currency": "USD",
            "reserved_usd": account.seed_int("reserved", 100) / 100,
            "updated_at": iso_us(request.world.now()),
        }
    )


ROUTES = [
    Route("audiopod", "GET", "/api/v1/music/jobs", list_jobs),
    Route("audiopod", "GET", "/api/v1/music/jobs/{id}/status", job_status),
    Route("audiopod", "DELETE", "/api/v1/music/jobs/{id}", delete_job),
    Route("audiopod", "PATCH", "/api/v1/music/jobs/{id}", update_job),
    Route("audiopod", "POST", "/api/v1/music/jobs/{id}/retry", retry_job),
    Route("audiopod", "GET", "/api/v1/api-wallet/balance", wallet),
]
