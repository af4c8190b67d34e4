"""Plain dataclasses that adapters turn provider JSON into, and the liberal parsing helpers
they share. Nothing past an adapter sees a provider's dicts, except the stored `raw` copy.

Parsing is liberal: unknown fields are ignored, missing optional fields tolerated, naive
times taken as UTC. A record that cannot be made sense of raises BadRecord and is skipped
(and counted) by `parse_records`, never aborting its page.
"""

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

logger = logging.getLogger(__name__)

# Normalized statuses (history.models.Job.Status values).
PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, UNKNOWN = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "canceled",
    "unknown",
)
FINAL = (SUCCEEDED, FAILED, CANCELED)
# Output kinds that have a length.
PLAYABLE = ("audio", "video")


class BadRecord(ValueError):
    """One provider record that cannot be stored."""


@dataclass
class Output:
    kind: str  # audio, image or video
    url: str = ""
    stream_url: str = ""
    title: str = ""
    duration: float | None = None
    position: int = 0
    # Other formats of the same output, e.g. {"wav": url, "flac": url}.
    downloads: dict[str, str] = field(default_factory=dict)
    # The provider's own id of this output (a Suno track's audioId, which extend/WAV/stems take).
    ref: str = ""
    # A track's style tags and lyrics (Suno keeps them per track).
    tags: str = ""
    lyrics: str = ""

    def as_json(self) -> dict[str, Any]:
        """What Job.outputs stores: kind, url and position always, the rest when known.
        (Written out rather than dataclasses.asdict: this runs for every output imported.)"""
        data: dict[str, Any] = {"kind": self.kind, "url": self.url, "position": self.position}
        if self.stream_url:
            data["stream_url"] = self.stream_url
        if self.title:
            data["title"] = self.title
        if self.duration is not None:
            data["duration"] = self.duration
        if self.downloads:
            data["downloads"] = dict(self.downloads)
        for name in ("ref", "tags", "lyrics"):
            if value := getattr(self, name):
                data[name] = value
        return data


@dataclass
class JobRecord:
    external_id: str
    kind: str
    status: str
    provider_status: str
    created: datetime | None
    title: str = ""
    prompt: str = ""
    model: str = ""
    completed: datetime | None = None
    credits_used: Decimal | None = None
    credits_refunded: Decimal | None = None
    error: str = ""
    error_code: str = ""
    outputs: list[Output] = field(default_factory=list)
    inputs: list[Output] = field(default_factory=list)
    # What else the record says that a person looks for, by name (see DETAILS).
    details: dict[str, Any] = field(default_factory=dict)
    # The provider's id of what this job continues: Suno's parentMusicId (a track id), or the
    # external id of the job it was made from (AudioPod score-first's source_job_id).
    parent_ref: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def unfinished(self) -> bool:
        return self.status not in FINAL

    @property
    def duration(self) -> float | None:
        """The length of the first output when it is audio or video (history's Job.duration)."""
        first = self.outputs[0] if self.outputs else None
        return first.duration if first is not None and first.kind in PLAYABLE else None

    @property
    def search_text(self) -> str:
        """Text the history search finds besides title, prompt and id: the outputs' style
        tags, lyrics and ids, and timed lyrics, each once."""
        parts = [value for o in self.outputs for value in (o.tags, o.lyrics, o.ref) if value]
        parts.append(text(self.details.get("lyrics")))
        return "\n".join(dict.fromkeys(part for part in parts if part))


# The keys of JobRecord.details that adapters fill and the job page shows.
DETAILS = {
    "engine": "Engine",  # Suno's engine codename (modelName, chirp-crow) beside the chosen model
    "operation": "Operation",  # Suno's operationType: generate, extend, upload-cover…
    "source": "Upstream",  # API Mall's upstream provider (suno, gempix2…)
    "task": "Task",  # AudioPod's task (text2music…)
    "workflow": "Workflow",  # AudioPod score-first: plan, revise, edit
    "note": "Note",  # AudioPod score-first: what a revision changed
    "score_midi": "Score (MIDI)",  # AudioPod score-first: the score as a MIDI file
    "progress": "Progress",  # percent, while running
    "quality_score": "Quality score",
    "input_size": "Input size",  # bytes
    "input_format": "Input format",
    "lyrics": "",  # timed lyrics (LRC), shown as their own section
}


@dataclass
class Page:
    records: list[JobRecord]
    # True when the provider has nothing older than this page.
    last: bool
    # Records skipped as malformed.
    skipped: int = 0


def parse_records(items: Any, parse: Callable[[dict], JobRecord], provider: str) -> tuple[list[JobRecord], int]:
    """Parse a page's items one by one; a bad one is logged, counted and skipped."""
    if not isinstance(items, list):
        raise BadRecord("expected a list of records")
    records, skipped = [], 0
    for item in items:
        try:
            if not isinstance(item, dict):
                raise BadRecord("record is not an object")
            records.append(parse(item))
        except (BadRecord, ValueError, TypeError, KeyError, AttributeError) as e:
            skipped += 1
            logger.warning("Skipped a malformed %s record: %s", provider, e)
    return records, skipped


def text(value: Any, limit: int = 0) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    result = str(value).strip()
    return result[:limit] if limit else result


def url(value: Any) -> str:
    """A http(s) URL or "" (never javascript:, data: or garbage into an href or src)."""
    value = text(value)
    return value if value.startswith(("https://", "http://")) and len(value) <= 2000 else ""


def external_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRecord(f"missing or invalid id: {value!r}"[:120])
    value = str(value).strip()
    if not value or len(value) > 200:
        raise BadRecord("missing or over-long id")
    return value


def number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if result == result and abs(result) != float("inf") else None  # not NaN or inf


def credits(value: Any) -> Decimal | None:
    result = number(value)
    if result is None or abs(result) >= 10**10:
        return None
    try:
        return Decimal(str(result)).quantize(Decimal("0.0001"))
    except InvalidOperation:
        return None


def timestamp(value: Any) -> datetime | None:
    """ISO 8601 (with Z, an offset, or naive = UTC; 'T' or a space) or epoch seconds/ms."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def status(value: Any, mapping: dict[str, str]) -> tuple[str, str]:
    """(normalized status, the provider's own string); unknown strings map to UNKNOWN.
    Matched without regard to case: AudioPod's docs and webhooks spell COMPLETED `completed`."""
    raw = text(value, 60)
    return mapping.get(raw.casefold(), UNKNOWN), raw


def statuses(mapping: dict[str, str]) -> dict[str, str]:
    """A status table keyed the way `status` looks it up."""
    return {name.casefold(): value for name, value in mapping.items()}


def human_error(body: Any) -> str:
    """The human sentence in a provider's error body, never a bare code word: `message`
    (AudioPod's `{"error":"insufficient_api_balance","message":…}`, API Mall's nested
    error), `msg` (Apikley), `errorMessage` (Munsit), FastAPI's `detail` as a string, an
    object with `code` and `message`, or a list of validation errors."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    candidates = [
        body.get("message"),
        error.get("message") if isinstance(error, dict) else None,
        body.get("errorMessage"),
        body.get("msg"),
        body.get("detail"),
        # A sentence in `error` (not a code word such as insufficient_api_balance).
        error if isinstance(error, str) and " " in error.strip() else None,
    ]
    for candidate in candidates:
        if isinstance(candidate, dict):  # FastAPI detail {code, message}
            candidate = candidate.get("message") or candidate.get("msg") or candidate.get("code")
        if isinstance(candidate, list) and candidate:  # FastAPI validation errors
            first = candidate[0]
            candidate = first.get("msg") if isinstance(first, dict) else first
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:300]
    # Only a code word: better than nothing, and said to be one.
    code = error.get("code") if isinstance(error, dict) else error
    return f"error “{code.strip()[:280]}”" if isinstance(code, str) and code.strip() else ""


def json_object(value: Any) -> dict[str, Any]:
    """A dict, or a JSON string holding one (Apikley's `param`); {} for anything else."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def first_line(*candidates: Any, limit: int = 300) -> str:
    """The first non-empty candidate, on one line, cut to `limit` characters."""
    for candidate in candidates:
        value = " ".join(text(candidate).split())
        if value:
            return value[: limit - 1] + "…" if len(value) > limit else value
    return ""


def dicts(values: Iterable[Any]) -> list[dict]:
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []
