"""API Mall gateway: audio and image history (shared/providers/apimall-*.txt)."""

from typing import Any

from . import records as r
from .balances import CREDITS, Balance, decimal
from .base import KEY_CHECK_DEADLINE, Provider, as_number, format_credits
from .http import OutOfCredits, ProviderError

STATUSES = r.statuses(
    {
        "pending": r.PENDING,
        "queued": r.PENDING,
        "processing": r.RUNNING,
        "running": r.RUNNING,
        "completed": r.SUCCEEDED,
        "success": r.SUCCEEDED,
        "failed": r.FAILED,
        "error": r.FAILED,
        "canceled": r.CANCELED,
        "cancelled": r.CANCELED,
    }
)
# How API Mall's error bodies ({"success": false, "error": {"code", "message"}}) say the
# account has run dry; sent with HTTP 402 or with a 200.
OUT_OF_CREDITS_CODES = frozenset({"insufficient_credits", "insufficient_balance", "insufficient_quota"})
PATHS = {"audio": "/api/v1/audio/history", "images": "/api/v1/images/history"}


class ApiMall(Provider):
    slug = "apimall"
    name = "API Mall"
    base_url_setting = "APIMALL_BASE_URL"
    key_help = "Create one under API Keys at apimall.ai."
    streams = ("audio", "images")
    page_size = 50  # the documented maximum

    @classmethod
    def stream_for(cls, kind: str) -> str:
        return "audio" if kind == "audio" else "images"

    @classmethod
    def parse_stored(cls, raw: dict, external_id: str, kind: str) -> r.JobRecord:
        return parse_item(raw, cls.stream_for(kind))

    def check_key(self) -> str:
        data = self._data(self.call("GET", "/api/v1/account/balances", deadline=KEY_CHECK_DEADLINE).json())
        return describe_balances(data) or "Key accepted"

    def classify(self, error: ProviderError) -> ProviderError:
        if error.code.lower() in OUT_OF_CREDITS_CODES and not isinstance(error, OutOfCredits):
            return OutOfCredits(error.message, status=error.status, code=error.code)
        return error

    def balance(self) -> Balance | None:
        data = self._data(self.call("GET", "/api/v1/account/balances").json())
        found = balances(data)
        # API calls spend `api_credits`; an account without them shows its `credits`.
        amount = decimal(found.get("api_credits", found.get("credits")))
        return Balance(amount, CREDITS) if amount is not None else None

    def history_page(self, stream: str, index: int) -> r.Page:
        body = self.call("GET", PATHS[stream], params={"page": index + 1, "limit": self.page_size}).json()
        items = self._data(body).get("items")
        if not isinstance(items, list):
            raise ProviderError("API Mall sent a history page without a list of items.")
        records, skipped = r.parse_records(items, lambda item: parse_item(item, stream), self.name)
        return r.Page(records=records, last=len(items) < self.page_size, skipped=skipped)

    def _data(self, body: Any) -> dict:
        if not isinstance(body, dict) or body.get("success") is not True:
            error = ProviderError(f"API Mall answered without success: {_error_text(body)}", code=_error_code(body))
            raise self.classify(error)
        return body["data"] if isinstance(body.get("data"), dict) else {}


def parse_item(item: dict, stream: str) -> r.JobRecord:
    status, raw_status = r.status(item.get("status"), STATUSES)
    created = r.timestamp(item.get("created_at"))
    if created is None:
        raise r.BadRecord("no creation time")
    title = r.first_line(item.get("title"), item.get("prompt"))
    outputs = []
    if stream == "audio":
        kind = "audio"
        if audio := r.url(item.get("audio_url")):
            outputs.append(r.Output("audio", audio, title=title, duration=r.number(item.get("duration"))))
        if cover := r.url(item.get("image_url")):
            outputs.append(r.Output("image", cover, title="Cover", position=1))
    else:
        kind = "image"
        urls = [
            item.get("image_url"),
            *(item.get("image_urls") or [] if isinstance(item.get("image_urls"), list) else []),
        ]
        for position, image in enumerate(dict.fromkeys(filter(None, map(r.url, urls)))):
            outputs.append(r.Output("image", image, title=title, position=position))
    return r.JobRecord(
        external_id=r.external_id(item.get("task_id")),
        kind=kind,
        status=status,
        provider_status=raw_status,
        created=created,
        completed=r.timestamp(item.get("completed_at")),
        title=title,
        prompt=r.text(item.get("prompt")),
        model=r.text(item.get("model"), 100),
        credits_used=r.credits(item.get("credits_used")),
        credits_refunded=r.credits(item.get("credits_refunded")),
        error=r.text(item.get("error_message") or item.get("error") or item.get("fail_reason"), 2000),
        error_code=r.text(item.get("error_code"), 60),
        outputs=outputs,
        details={"source": source} if (source := r.text(item.get("source"), 60)) else {},
        raw=item,
    )


def balances(data: dict) -> dict[str, float | int]:
    """`account/balances` data: `credits` (the account's) and `api_credits` (for API calls)."""
    found = {name: as_number(data.get(name)) for name in ("credits", "api_credits")}
    return {name: value for name, value in found.items() if value is not None}


def describe_balances(data: dict) -> str:
    found = balances(data)
    parts = [format_credits(found["credits"])] if "credits" in found else []
    if "api_credits" in found:
        parts.append(format_credits(found["api_credits"], "API credits"))
    return " · ".join(parts)


def _error_code(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code") or "")[:60]
    return ""


def _error_text(body: Any) -> str:
    return r.human_error(body) or "unexpected answer"
