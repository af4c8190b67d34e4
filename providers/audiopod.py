"""AudioPod music jobs (shared/providers/audiopod-music-jobs.txt)."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from . import records as r
from . import webhooks
from .balances import USD, Balance, decimal
from .base import KEY_CHECK_DEADLINE, Provider
from .http import KeyRejected, OutOfCredits, ProviderError

# Matched without regard to case: AudioPod's docs and webhooks also write `completed`, `failed`.
STATUSES = r.statuses(
    {
        "PENDING": r.PENDING,
        "QUEUED": r.PENDING,
        "PROCESSING": r.RUNNING,
        "RUNNING": r.RUNNING,
        "COMPLETED": r.SUCCEEDED,
        "FAILED": r.FAILED,
        "ERROR": r.FAILED,
        "CANCELLED": r.CANCELED,
        "CANCELED": r.CANCELED,
    }
)
# Score-first (v3) jobs are listed apart; their ids are kept apart from the music jobs' ids.
SCORE_STREAM = "score"
SCORE_PREFIX = "v3-"


class AudioPod(Provider):
    slug = "audiopod"
    name = "AudioPod"
    base_url_setting = "AUDIOPOD_BASE_URL"
    key_help = "Keys start with ap_; create one in your AudioPod account settings."
    page_size = 100  # the documented maximum
    refreshes_per_job = True
    streams = ("", SCORE_STREAM)

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.secret}

    def classify(self, error: ProviderError) -> ProviderError:
        # The wallet is empty: {"error": "insufficient_api_balance", …}, whatever the status.
        if error.code == "insufficient_api_balance" and not isinstance(error, OutOfCredits):
            return OutOfCredits(error.message, status=error.status, code=error.code)
        return error

    @classmethod
    def parse_stored(cls, raw: dict, external_id: str, kind: str) -> r.JobRecord:
        return parse_score_job(raw) if external_id.startswith(SCORE_PREFIX) else parse_job(raw)

    def check_key(self) -> str:
        body = self.call("GET", "/api/v1/api-wallet/balance", deadline=KEY_CHECK_DEADLINE).json()
        dollars = wallet_balance(body)
        return f"Balance {format_dollars(dollars)}" if dollars is not None else "Key accepted"

    def balance(self) -> Balance | None:
        body = self.call("GET", "/api/v1/api-wallet/balance").json()
        return wallet(body)

    def history_page(self, stream: str, index: int) -> r.Page:
        if stream == SCORE_STREAM:
            return self.score_page(index)
        params = {
            "skip": index * self.page_size,
            "limit": self.page_size,
            "sort_by": "created_at",
            "sort_order": "desc",
        }
        items = self.call("GET", "/api/v1/music/jobs", params=params).json()
        if isinstance(items, dict):  # tolerate a wrapped list
            items = items.get("items", items.get("jobs"))
        if not isinstance(items, list):
            raise ProviderError("AudioPod sent a job list that is not a list.")
        records, skipped = r.parse_records(items, parse_job, self.name)
        return r.Page(records=records, last=len(items) < self.page_size, skipped=skipped)

    def score_page(self, index: int) -> r.Page:
        """Score-first jobs (`GET /api/v1/music/v3/jobs`, newest first). Not every account or
        deployment has Score-first: an answer saying the route is not there is an empty list."""
        params = {"skip": index * self.page_size, "limit": self.page_size}
        try:
            items = self.call("GET", "/api/v1/music/v3/jobs", params=params).json()
        except (KeyRejected, ProviderError) as e:
            if e.status in (403, 404, 405, 501):
                return r.Page(records=[], last=True)
            raise
        if isinstance(items, dict):
            items = items.get("items", items.get("jobs"))
        if not isinstance(items, list):
            raise ProviderError("AudioPod sent a score-first job list that is not a list.")
        records, skipped = r.parse_records(items, parse_score_job, self.name)
        return r.Page(records=records, last=len(items) < self.page_size, skipped=skipped)

    def job(self, external_id: str) -> r.JobRecord:
        if external_id.startswith(SCORE_PREFIX):
            path, parse = f"/api/v1/music/v3/jobs/{_job_id(external_id.removeprefix(SCORE_PREFIX))}", parse_score_job
        else:
            path, parse = f"/api/v1/music/jobs/{_job_id(external_id)}/status", parse_job
        body = self.call("GET", path).json()
        if not isinstance(body, dict):
            raise ProviderError("AudioPod sent a job that is not an object.")
        try:
            return parse(body)
        except (r.BadRecord, ValueError, TypeError, AttributeError) as e:
            raise ProviderError(f"AudioPod sent a job that cannot be read: {e}"[:300]) from e

    # Owner actions (each costs or changes something at AudioPod).

    def rename(self, external_id: str, display_name: str) -> r.JobRecord | None:
        body = self.call(
            "PATCH", f"/api/v1/music/jobs/{_job_id(external_id)}", json_body={"display_name": display_name}
        )
        return _maybe_job(body.json())

    def delete(self, external_id: str) -> str:
        body = self.call("DELETE", f"/api/v1/music/jobs/{_job_id(external_id)}").json()
        return r.text(body.get("message") if isinstance(body, dict) else "", 300) or "Deleted at AudioPod."

    def retry(self, external_id: str) -> r.JobRecord | None:
        body = self.call("POST", f"/api/v1/music/jobs/{_job_id(external_id)}/retry")
        return _maybe_job(body.json())


def wallet(body: Any) -> Balance | None:
    """The wallet (wallet_balance) with what it has spent: `total_spent_cents` (1500) when
    given, else `total_spent_usd` ("$15.00")."""
    amount = wallet_balance(body)
    if amount is None:
        return None
    spent_cents = decimal(body.get("total_spent_cents"))
    spent = spent_cents / 100 if spent_cents is not None else decimal(body.get("total_spent_usd"))
    cent = Decimal("0.01")
    return Balance(amount.quantize(cent), USD, spent.quantize(cent) if spent is not None else None)


def _job_id(external_id: str) -> str:
    if not external_id.isdigit():  # AudioPod job ids are integers; nothing else goes in the path
        raise ProviderError(f"“{external_id}” is not an AudioPod job id.")
    return external_id


def _maybe_job(body: Any) -> r.JobRecord | None:
    if isinstance(body, dict) and isinstance(body.get("job"), dict):
        body = body["job"]
    try:
        return parse_job(body) if isinstance(body, dict) and "id" in body else None
    except (r.BadRecord, ValueError, TypeError, AttributeError):
        return None


def wallet_balance(body: Any) -> Decimal | None:
    """Dollars in an `api-wallet/balance` answer: `balance_cents` (2500) when present, else
    `balance_usd`, which is a string ("$25.00") at the real API."""
    if not isinstance(body, dict):
        return None
    cents = body.get("balance_cents")
    if isinstance(cents, int | float) and not isinstance(cents, bool):
        return (Decimal(str(cents)) / 100).quantize(Decimal("0.01"))
    usd = body.get("balance_usd", body.get("balance"))
    if isinstance(usd, str):
        usd = usd.strip().removeprefix("US").lstrip("$").replace(",", "").strip()
    if isinstance(usd, bool) or not isinstance(usd, str | int | float):
        return None
    try:
        amount = Decimal(str(usd))
    except InvalidOperation:
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else None


def format_dollars(amount: Decimal) -> str:
    return f"{amount:,.2f} USD"


def parse_job(job: dict) -> r.JobRecord:
    """One music job, from the list, `…/status`, or a webhook's `job` object."""
    status, raw_status = r.status(job.get("status"), STATUSES)
    created = r.timestamp(job.get("created_at"))
    if created is None:
        raise r.BadRecord("no creation time")
    title = r.first_line(job.get("display_name"), job.get("prompt"), job.get("task"))
    formats = job.get("output_urls") if isinstance(job.get("output_urls"), dict) else {}
    downloads = {str(name).lower(): link for name, value in formats.items() if (link := r.url(value))}
    single = r.url(job.get("output_url"))
    if single and single not in downloads.values():
        downloads[_extension(single)] = single
    # The player gets mp3: browsers play it everywhere, FLAC (often `output_url`) they do not.
    main = downloads.get("mp3") or single or next(iter(downloads.values()), "")
    outputs = []
    if main:
        duration = r.number(job.get("audio_duration"))
        outputs.append(r.Output("audio", main, title=title, duration=duration, downloads=downloads))
    if thumbnail := r.url(job.get("thumbnail_url")):
        outputs.append(r.Output("image", thumbnail, title="Cover", position=1))
    return r.JobRecord(
        external_id=r.external_id(job.get("id")),
        kind="music",
        status=status,
        provider_status=raw_status,
        created=created,
        completed=r.timestamp(job.get("completed_at")),
        title=title,
        prompt=r.text(job.get("prompt") or job.get("lyrics")),
        model=r.text(job.get("model") or job.get("task"), 100),
        credits_used=r.credits(job.get("credits_used", job.get("cost"))),
        error=r.text(job.get("error_message"), 2000) if status != r.SUCCEEDED else "",
        outputs=outputs,
        details=_details(job, status),
        raw=job,
    )


def parse_score_job(job: dict) -> r.JobRecord:
    """One score-first job (api-reference/music/score-first.mdx): `job_id`, `workflow`
    (plan, revise, edit), `style`, `lyrics`, `audio_url` (null for scores), `score`
    {midi_url, duration_seconds}, `source_job_id`, `note`."""
    status, raw_status = r.status(job.get("status"), STATUSES)
    workflow = r.text(job.get("workflow"), 60)
    score = job.get("score") if isinstance(job.get("score"), dict) else {}
    title = r.first_line(job.get("display_name"), job.get("style"), f"Score-first {workflow or 'job'}")
    midi = r.url(score.get("midi_url"))
    outputs = []
    if audio := r.url(job.get("audio_url")):
        duration = r.number(score.get("duration_seconds"))
        downloads = {_extension(audio): audio, **({"midi": midi} if midi else {})}
        outputs.append(r.Output("audio", audio, title=title, duration=duration, downloads=downloads))
    details = _details(job, status)
    details.update(
        {
            name: value
            for name, value in (
                ("workflow", workflow),
                ("note", r.text(job.get("note"), 1000)),
                ("score_midi", midi),  # plan and revise jobs are scores: no audio, a MIDI file
            )
            if value
        }
    )
    return r.JobRecord(
        external_id=SCORE_PREFIX + r.external_id(job.get("job_id", job.get("id"))),
        kind="music",
        status=status,
        provider_status=raw_status,
        # Jobs without a time are dated when first seen (the sync engine's default).
        created=r.timestamp(job.get("created_at")),
        completed=r.timestamp(job.get("completed_at")),
        title=title,
        prompt=r.text(job.get("lyrics") or job.get("description")),
        model="Score-first",
        credits_used=r.credits(job.get("credits_used", job.get("credits"))),
        error=r.text(job.get("error_message") or job.get("error"), 2000) if status == r.FAILED else "",
        outputs=outputs,
        details=details,
        # The score this one revises or records (lineage on the job page).
        parent_ref=SCORE_PREFIX + source if (source := r.text(job.get("source_job_id"), 60)) else "",
        raw=job,
    )


def _details(job: dict, status: str) -> dict[str, Any]:
    details: dict[str, Any] = {}
    # Without a `model`, the task is shown as the model already.
    if (task := r.text(job.get("task"), 60)) and (model := r.text(job.get("model"), 100)) and task != model:
        details["task"] = task
    progress = r.number(job.get("progress"))
    if progress is not None and status not in r.FINAL:
        details["progress"] = max(0, min(round(progress), 100))
    if (quality := r.number(job.get("quality_score"))) is not None:
        details["quality_score"] = quality
    if lrc := r.text(job.get("lrc_content")):
        details["lyrics"] = lrc
    return details


def _extension(link: str) -> str:
    suffix = link.rsplit("?", 1)[0].rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return suffix if suffix.isalnum() and len(suffix) <= 5 else "file"


# --- Webhooks: what AudioPod POSTs to a registered endpoint (received in hooks/) ---------------
# X-AudioPod-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>, with
# X-AudioPod-Timestamp (Unix seconds) and X-AudioPod-Event-Id (retries reuse it). The signature
# covers the whole body, so its event id, type and job id can be trusted.
WEBHOOK_SIGNATURE = "X-AudioPod-Signature"
WEBHOOK_TIMESTAMP = "X-AudioPod-Timestamp"
WEBHOOK_EVENT_ID = "X-AudioPod-Event-Id"
# Events about other AudioPod tools (transcription, TTS…) are not in the music history.
MUSIC_JOB_TYPES = {"music_generation", "music", "score_first", ""}


def webhook_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    return "sha256=" + webhooks.hmac_sha256(secret, f"{timestamp}.".encode() + body).hex()


def read_webhook(body: bytes, headers: Mapping[str, str], secret: str | None, now: float, tolerance: int):
    """Check one webhook call; a webhooks.Callback, or webhooks.Rejected."""
    if secret is None:
        raise webhooks.Rejected("No signing secret saved for this key: AudioPod webhooks cannot be checked.")
    received = headers.get(WEBHOOK_SIGNATURE)
    if not received:
        raise webhooks.Rejected(f"Unsigned: no {WEBHOOK_SIGNATURE} header.")
    stamp = webhooks.fresh_timestamp(headers.get(WEBHOOK_TIMESTAMP), now, tolerance, WEBHOOK_TIMESTAMP)
    if not webhooks.same(webhook_signature(secret, stamp, body), received):
        raise webhooks.Rejected("Bad signature: it does not match the saved signing secret.")
    payload = webhooks.parse_json(body)
    event_id = r.text(payload.get("event_id") or headers.get(WEBHOOK_EVENT_ID), 200)
    if not event_id:
        raise webhooks.Rejected("No event id.")
    kind = r.text(payload.get("event_type") or headers.get("X-AudioPod-Event"), 60) or "event"
    job_type = r.text(payload.get("job_type"), 60).lower()
    job_id = payload.get("job_id")
    external_id = str(job_id) if isinstance(job_id, int | str) and str(job_id).isdigit() else ""
    if job_type not in MUSIC_JOB_TYPES:
        external_id = ""  # not a music job: recorded, nothing to update
    return webhooks.Callback(event_id=event_id, kind=kind, external_id=external_id, signed=True, body=payload)
