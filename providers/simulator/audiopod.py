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

The real API's shapes (public captures, DESIGN.md "Real provider answers"): a failed job
says ERROR instead of FAILED (serial % 3 == 0 of failed ones), a job of serial % 53 == 7 is
CANCELLED when it ends, and a job of serial % 5 == 1 spells its status in lower case
(`completed`), as AudioPod's docs and webhooks do; `output_url` is the FLAC rendition while
`output_urls` holds flac, mp3 and wav; completed jobs carry `quality_score`; the wallet's
`balance_usd` is a string ("$25.00") beside `balance_cents`; a retry without balance is
402 `{"error":"insufficient_api_balance","message":…}` (keys whose name contains "broke").
Score-first (v3): keys whose name contains "score" list `GET /api/v1/music/v3/jobs` (every
fifth music job, as a score-first job: `job_id` = 900000 + serial, `workflow`, `style`,
`lyrics`, `audio_url` null for plan/revise, `score`, `source_job_id`, `note`) and read
`GET /api/v1/music/v3/jobs/{job_id}`; for other keys the route answers 404, as for an
account without Score-first.

Undocumented shapes we chose: the retry answer ("MusicGenerationResponse") is `{"id",
"status":"PENDING", "message", "job": <full job>}`; the wallet is `{"balance_usd",
"balance_cents", "currency":"USD", "reserved_usd", "updated_at"}`. A retried job runs again
and succeeds. Oddities: display_name null (serial % 19 == 4: unnamed, show the prompt),
created_at without a zone (serial % 23 == 9), no flac rendition (serial % 13 == 2: then
`output_url` is the mp3).
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
        if job.failed:
            state = "ERROR" if job.serial % 3 == 0 else "FAILED"
        else:
            state = "CANCELLED" if job.serial % 53 == 7 else "COMPLETED"
    else:
        state = "PENDING" if job.progress(now) < 0.15 else "PROCESSING"
    return state.lower() if job.serial % 5 == 1 else state


def outcome(job: Job, now: float) -> str:
    """The status in capitals, whichever way this job spells it."""
    return status(job, now).upper()


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
    ok = state.upper() == "COMPLETED"
    name = f"ap-{job_id}"
    if ok:
        urls = {ext: media.audio_url(base_url, name, ext) for ext in ("flac", "mp3", "wav")}
        if job.serial % 13 == 2:
            del urls["flac"]
    progress = {"PENDING": 0, "COMPLETED": 100, "FAILED": failed_at, "ERROR": failed_at, "CANCELLED": failed_at}.get(
        state.upper(), min(max(int(job.progress(now) * 100), 1), 99)
    )
    return {
        "id": job_id,
        "task": task,
        "status": state,
        "progress": progress,
        "display_name": job.override("display_name", None if job.serial % 19 == 4 else title),
        "prompt": prompt,
        "lyrics": lyrics,
        "output_url": urls.get("flac", urls["mp3"]) if ok else None,
        "output_urls": urls if ok else None,
        "audio_duration": duration if ok else None,
        "thumbnail_url": job.override("thumbnail_url", media.image_url(base_url, name)),
        "credits_used": round(duration * 0.5),
        "error_message": failure if state.upper() in ("FAILED", "ERROR") else None,
        "lrc_content": content.lrc(lyrics, duration) if ok and lyrics else None,
        "quality_score": round(rng.uniform(0.55, 0.98), 3) if ok else None,
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
            if wanted_status and outcome(job, now) != wanted_status:
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
    current = outcome(job, world.now())
    if current not in ("FAILED", "ERROR"):
        return detail(400, f"Only failed jobs can be retried (this job is {current})")
    if "broke" in account.info.name:
        message = "Your API balance is too low for this request. Top up your API wallet."
        return json_reply({"error": "insufficient_api_balance", "message": message}, 402)
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
            "balance_usd": f"${cents / 100:,.2f}",
            "balance_cents": cents,
            "currency": "USD",
            "reserved_usd": account.seed_int("reserved", 100) / 100,
            "updated_at": iso_us(request.world.now()),
        }
    )


SCORE_EVERY = 5
SCORE_IDS = 900_000
WORKFLOWS = ("plan", "revise", "edit")


def _score_enabled(account: Account) -> bool:
    return "score" in account.info.name


def render_score(job: Job, now: float, base_url: str) -> dict:
    """A music job seen as a score-first job (score-first.mdx's job response)."""
    item = render(job, now, base_url)
    workflow = WORKFLOWS[job.serial // SCORE_EVERY % 3]
    job_id = SCORE_IDS + job.serial
    state = outcome(job, now)
    state = "FAILED" if state == "ERROR" else state
    source = SCORE_IDS + job.serial - SCORE_EVERY if workflow != "plan" and job.serial >= SCORE_EVERY else None
    return {
        "job_id": job_id,
        "workflow": workflow,
        "status": state,
        "style": item["prompt"],
        "lyrics": item["lyrics"],
        "lyrics_source": "audiopod" if item["lyrics"] else None,
        "audio_url": item["output_urls"]["mp3"] if workflow == "edit" and state == "COMPLETED" else None,
        "score": {
            "abc": "X:1\nT:Score\nM:4/4\nK:C\nCDEF GABc|",
            "midi_url": f"{base_url}/_sim/media/audio/score-{job_id}.mid",
            "editable": True,
            "duration_seconds": item["audio_duration"] or 118.0,
        }
        if state == "COMPLETED"
        else None,
        "source_job_id": source,
        "note": "Changed the melody in chorus 1 (bar 10); everything else is unchanged."
        if workflow == "revise"
        else None,
        "display_name": item["display_name"],
        "created_at": item["created_at"],
    }


def _score_jobs(request: Request, account: Account) -> list[Job]:
    return [job for job in request.world.scan(account, "music") if job.serial % SCORE_EVERY == 0]


def list_score_jobs(request: Request) -> Reply:
    account = _authenticate(request)
    if isinstance(account, Reply):
        return account
    if not _score_enabled(account):
        return detail(404, "Not Found")
    try:
        skip, limit = int(request.arg("skip") or 0), int(request.arg("limit") or 50)
    except ValueError:
        msg = "Input should be a valid integer, unable to parse string as an integer"
        return invalid("int_parsing", ["query", "limit"], msg, request.arg("limit"))
    now = request.world.now()
    jobs = _score_jobs(request, account)[max(skip, 0) : max(skip, 0) + min(max(limit, 1), 100)]
    return json_reply([render_score(job, now, request.base_url) for job in jobs])


def score_job(request: Request) -> Reply:
    account = _authenticate(request)
    if isinstance(account, Reply):
        return account
    raw = request.params["id"]
    if not _score_enabled(account) or not raw.isdigit() or int(raw) < SCORE_IDS:
        return detail(404, "Not Found")
    serial = int(raw) - SCORE_IDS
    job = next((job for job in _score_jobs(request, account) if job.serial == serial), None)
    if job is None:
        return detail(404, {"code": "JOB_NOT_FOUND", "message": "Job not found"})
    return json_reply(render_score(job, request.world.now(), request.base_url))


ROUTES = [
    Route("audiopod", "GET", "/api/v1/music/jobs", list_jobs),
    Route("audiopod", "GET", "/api/v1/music/jobs/{id}/status", job_status),
    Route("audiopod", "DELETE", "/api/v1/music/jobs/{id}", delete_job),
    Route("audiopod", "PATCH", "/api/v1/music/jobs/{id}", update_job),
    Route("audiopod", "POST", "/api/v1/music/jobs/{id}/retry", retry_job),
    Route("audiopod", "GET", "/api/v1/api-wallet/balance", wallet),
    Route("audiopod", "GET", "/api/v1/music/v3/jobs", list_score_jobs),
    Route("audiopod", "GET", "/api/v1/music/v3/jobs/{id}", score_job),
]
