"""AudioPod music jobs (shared/providers/audiopod-music-jobs.txt)."""

from typing import Any

from . import records as r
from .base import KEY_CHECK_DEADLINE, Provider, as_number
from .http import ProviderError

STATUSES = {"PENDING": r.PENDING, "PROCESSING": r.RUNNING, "COMPLETED": r.SUCCEEDED, "FAILED": r.FAILED}


class AudioPod(Provider):
    slug = "audiopod"
    name = "AudioPod"
    base_url_setting = "AUDIOPOD_BASE_URL"
    key_help = "Keys start with ap_; create one in your AudioPod account settings."
    page_size = 100  # the documented maximum
    refreshes_per_job = True

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.secret}

    def check_key(self) -> str:
        body = self.call("GET", "/api/v1/api-wallet/balance", deadline=KEY_CHECK_DEADLINE).json()
        if isinstance(body, dict):
            for field, unit in (("balance_usd", "USD"), ("balance", ""), ("credits", "credits")):
                number = as_number(body.get(field))
                if number is not None:
                    return f"Balance {number:,.2f} {unit}".strip()
        return "Key accepted"

    def history_page(self, stream: str, index: int) -> r.Page:
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

    def job(self, external_id: str) -> r.JobRecord:
        body = self.call("GET", f"/api/v1/music/jobs/{_job_id(external_id)}/status").json()
        if not isinstance(body, dict):
            raise ProviderError("AudioPod sent a job that is not an object.")
        try:
            return parse_job(body)
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


def parse_job(job: dict) -> r.JobRecord:
    status, raw_status = r.status(job.get("status"), STATUSES)
    created = r.timestamp(job.get("created_at"))
    if created is None:
        raise r.BadRecord("no creation time")
    title = r.first_line(job.get("display_name"), job.get("prompt"), job.get("task"))
    formats = job.get("output_urls") if isinstance(job.get("output_urls"), dict) else {}
    downloads = {name: link for name, value in formats.items() if (link := r.url(value))}
    main = r.url(job.get("output_url")) or downloads.get("mp3") or next(iter(downloads.values()), "")
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
        error=r.text(job.get("error_message"), 2000),
        outputs=outputs,
        raw=job,
    )
