"""Small presentation helpers for the history's Jinja2 templates: what to play and show for a
job, durations, credits, pretty JSON and the icons (history.views.detail_context, the row
cache, config.jinja's filters and globals)."""

import functools
import json
import re
from decimal import Decimal
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string

from archive import display
from providers.records import DETAILS, json_object

LRC_LINE = re.compile(r"^\[(\d{1,3}):(\d{2})(?:[.:]\d{1,3})?\](.*)$")


def _playable(item: dict) -> str:
    return item.get("url") or item.get("stream_url") or ""


def media(job) -> dict:
    """What a row or page shows of a job: tracks to play, images, and for denoise the
    original (before) beside the result (after). Outputs are dicts stored by history.sync."""
    # Archived copies (archive app) stand in for the provider's URLs, which expire.
    outputs = [o for o in display.apply(job, "output", job.outputs) if _playable(o)]
    inputs = [o for o in display.apply(job, "input", job.inputs) if _playable(o)]
    images = [o for o in outputs if o.get("kind") == "image"]
    playable = [dict(o, src=_playable(o)) for o in outputs if o.get("kind") in ("audio", "video")]
    return {
        "tracks": playable,
        "images": images,
        "cover": images[0] if images else None,
        "before": [dict(o, src=_playable(o)) for o in inputs if o.get("kind") in ("audio", "video")],
        "count": len(playable) + len(images),
        "archive": display.summary(outputs + inputs),
    }


def duration(seconds) -> str:
    """3:07, or 1:02:03 past an hour; empty when unknown."""
    if seconds in (None, "") or isinstance(seconds, bool):
        return ""
    try:
        total = round(float(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(max(total, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def timeline(job) -> list[dict]:
    """What happened to the job, oldest first: a job imported while it ran was imported before
    it completed, one imported later after. Equal times keep this order."""
    events = [{"label": "Created", "when": job.created, "took": ""}]
    if job.completed:
        label = {"failed": "Failed", "canceled": "Canceled"}.get(job.status, "Completed")
        events.append({"label": label, "when": job.completed, "took": took(job)})
    events.append({"label": "Imported", "when": job.imported, "took": ""})
    events.append({"label": "Last refreshed", "when": job.seen, "took": ""})
    return sorted(events, key=lambda event: event["when"])


def took(job) -> str:
    """How long the provider took: "1 min 12 s"."""
    if not job.completed or job.completed < job.created:
        return ""
    seconds = round((job.completed - job.created).total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def credits(value) -> str:
    """12, 12.5 or 1,250 — never 12.0000."""
    if value is None:
        return ""
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value.normalize():,f}"


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def parameters(job) -> list[tuple[str, str]]:
    """Apikley's generation parameters (`param`, a JSON string in the raw task) as pairs."""
    raw = job.raw if isinstance(job.raw, dict) else {}
    params = json_object(raw.get("param"))
    pairs = []
    for name, value in params.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        pairs.append((name, shown))
    return pairs


def lyrics(job) -> list[tuple[str, str]]:
    """AudioPod's timed lyrics (`lrc_content`) as (time, line) pairs; untimed lines keep "".
    (Jobs stored before `details` existed have them in the raw record only.)"""
    details = job.details if isinstance(job.details, dict) else {}
    raw = job.raw if isinstance(job.raw, dict) else {}
    text = details.get("lyrics") or raw.get("lrc_content")
    if not isinstance(text, str):
        return []
    lines = []
    for line in text.splitlines():
        if match := LRC_LINE.match(line.strip()):
            minutes, seconds, words = match.groups()
            lines.append((f"{int(minutes)}:{seconds}", words.strip()))
        elif line.strip():
            lines.append(("", line.strip()))
    return lines


def downloads(output: dict) -> list[tuple[str, str]]:
    """Every format of an output to download: (label, URL), Genboard's archived copy first,
    then the renditions the provider named (AudioPod's mp3, wav, flac), then the output's own
    URL if it is another."""
    links: dict[str, str] = {}
    if archived := output.get("archived_url"):
        links[f"{archived}?download=1"] = output.get("archived_ext") or "File"
    formats = output.get("downloads") if isinstance(output.get("downloads"), dict) else {}
    for name, url in formats.items():
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            links.setdefault(url, str(name).upper()[:10])
    if (url := output.get("url")) and url not in links and url != archived:
        extension = PurePosixPath(urlsplit(url).path).suffix.lstrip(".")
        links[url] = extension.upper() if extension.isalnum() and len(extension) <= 5 else "File"
    return [(label, url) for url, label in links.items()]


def facts(job) -> list[tuple[str, str, str]]:
    """What else the provider's record says, as (label, value, link) for the job page's
    details list, in DETAILS order; a link when the value is a file to fetch."""
    details = job.details if isinstance(job.details, dict) else {}
    found = []
    for name, label in DETAILS.items():
        value = details.get(name)
        # The engine is shown beside the model.
        if not label or name == "engine" or value in (None, ""):
            continue
        if name == "progress":
            if job.finished:
                continue
            value = f"{value}%"
        elif name == "input_size":
            value = filesizeformat(value)
        elif name == "quality_score":
            value = f"{value:g}" if isinstance(value, float) else str(value)
        elif name == "score_midi":
            found.append((label, "MIDI file", value if str(value).startswith(("https://", "http://")) else ""))
            continue
        found.append((label, str(value), ""))
    return found


def tag_list(value) -> list[str]:
    """Suno's style tags ("dark synthwave, female vocals") one by one."""
    return [tag.strip() for tag in str(value or "").split(",") if tag.strip()][:24]


def icon(name: str) -> str:
    """history/icon.html for `name`, rendered once per process: a row draws two or three
    glyphs, and an include per glyph was a good part of a row's rendering time."""
    return _icon(str(name))


@functools.cache
def _icon(name: str) -> str:
    return render_to_string("history/icon.html", {"name": name})
