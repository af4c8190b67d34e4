"""Munsit denoise history (shared/providers/denoise-history.txt)."""

from . import records as r
from .base import KEY_CHECK_DEADLINE, Provider
from .http import ProviderError

# Munsit's own "pending" means the job is being worked on (DESIGN.md's status table).
STATUSES = r.statuses({"pending": r.RUNNING, "success": r.SUCCEEDED, "failed": r.FAILED})


class Munsit(Provider):
    slug = "munsit"
    name = "Munsit (denoise)"
    base_url_setting = "MUNSIT_BASE_URL"
    key_help = "Find it in your Munsit dashboard under API keys."
    # Munsit documents no maximum; 100 keeps answers small and halves the requests of 50.
    page_size = 100

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.secret}

    @classmethod
    def parse_stored(cls, raw: dict, external_id: str, kind: str) -> r.JobRecord:
        return parse_record(raw)

    def check_key(self) -> str:
        # Munsit has no balance call: the smallest history read is its cheapest authenticated call.
        self._list(0, 1, deadline=KEY_CHECK_DEADLINE)
        return "Key accepted"

    def history_page(self, stream: str, index: int) -> r.Page:
        items = self._list(index * self.page_size, self.page_size)
        records, skipped = r.parse_records(items, parse_record, self.name)
        return r.Page(records=records, last=len(items) < self.page_size, skipped=skipped)

    def _list(self, offset: int, limit: int, deadline: float | None = None) -> list:
        # Always send a limit: without one Munsit returns the whole history at once.
        params = {"offset": offset, "limit": limit}
        items = self.call("GET", "/api/v1/denoise", params=params, deadline=deadline).json()
        if not isinstance(items, list):
            raise ProviderError("Munsit sent an unexpected answer (not a list of records).")
        return items


def parse_record(item: dict) -> r.JobRecord:
    status, raw_status = r.status(item.get("status"), STATUSES)
    created = r.timestamp(item.get("created_at"))
    if created is None:
        raise r.BadRecord("no creation time")
    kind = "video" if item.get("source_type") == "video" else "audio"
    name = r.first_line(item.get("file_name"), limit=300)
    duration = r.number(item.get("audio_duration"))
    outputs = (
        [r.Output(kind, denoised, title=name, duration=duration)] if (denoised := r.url(item.get("audio_url"))) else []
    )
    original = r.url(item.get("original_audio_url"))
    return r.JobRecord(
        external_id=r.external_id(item.get("id")),
        kind="denoise",
        status=status,
        provider_status=raw_status,
        created=created,
        completed=r.timestamp(item.get("updated_at")) if status in r.FINAL else None,
        title=name,
        # Munsit leaves `error` set on rows that did not fail: it is only news on failed ones.
        error=r.text(item.get("error"), 2000) if status == r.FAILED else "",
        outputs=outputs,
        inputs=[r.Output(kind, original, title=name, duration=duration)] if original else [],
        details=_input_details(item),
        raw=item,
    )


def _input_details(item: dict) -> dict:
    details = {}
    size = r.number(item.get("audio_size"))
    if size is not None and size >= 0:
        details["input_size"] = int(size)
    if fmt := r.text(item.get("audio_format"), 20):
        details["input_format"] = fmt
    return details
