"""Summaries of the filtered visible history: counts per status and provider beside the
filter options, and the dashboard strip (jobs and credits per provider, jobs per day).

Two GROUP BYs over the filtered visible jobs, computed on full page loads only (never for a
page of rows or a row's poll) and kept a short while per person and query: at 100,000 jobs
the counts take ~0.1 s on SQLite, and people reload and go back and forth between filters.
"""

import hashlib
import html
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from providers.models import Credential
from providers.registry import CHOICES

from .filters import JobFilter, day_end, day_start, period_start
from .models import Job
from .sorting import list_url

CACHE_SECONDS = 30
DEFAULT_DAYS = 30
MAX_BARS = 60
# The chart's drawing box (the SVG scales to its container).
CHART_WIDTH, CHART_HEIGHT = 600, 120
PROVIDER_NAMES = dict(CHOICES)


def cache_key(user, what: str, filters: JobFilter) -> str:
    """Per person, filters and time zone (not per order: the sort changes no count)."""
    # Per time zone too: the same person's days move when their browser's zone does.
    query = "&".join(f"{k}={v}" for k, v in sorted(filters.valid_data().items()) if k != "sort")
    query += f"&tz={timezone.get_current_timezone_name()}"
    digest = hashlib.blake2b(query.encode(), digest_size=12).hexdigest()
    return f"history:{what}:{user.pk}:{digest}"


def cached(user, what: str, filters: JobFilter, compute):
    """`compute()`, kept CACHE_SECONDS (cache_key()); found among what read_ahead() read
    when it was there."""
    key = cache_key(user, what, filters)
    if key in filters.summaries_read:
        return filters.summaries_read[key]
    return cache.get_or_set(key, compute, CACHE_SECONDS)


def read_ahead(user, filters: JobFilter, today: date | None = None) -> None:
    """The page's summaries (the facet counts, the failed count's breakdown and the strip)
    read from the cache at once: one round trip instead of three (cached() takes them from
    here, and computes only what was missing)."""
    start, end, _ = period(filters, today or timezone.localdate())
    whats = ["facets", "errors", f"dashboard-drawn:{start}:{end}"]
    filters.summaries_read = cache.get_many([cache_key(user, what, filters) for what in whats])


# --- counts beside the filter options ---------------------------------------------------------


def facet_counts(filters: JobFilter, user) -> dict[str, Counter]:
    """Jobs per status and per provider. Each facet is counted with every other filter
    applied but not its own (choosing "failed" still shows how many succeeded), all from one
    GROUP BY (provider, status)."""

    def compute():
        chosen = filters.valid_data()
        others = {k: v for k, v in chosen.items() if k not in ("provider", "status")}
        base = JobFilter(others, queryset=Job.objects.visible_to(user), request=filters.request).qs
        # Counted per key (whose provider its jobs copy) and status: with no other filter than
        # these two, the index on (credential, status, …) answers alone, without reading rows.
        per_key = list(base.values_list("credential_id", "status").annotate(n=Count("id")).order_by())
        keys = Credential.objects.filter(pk__in={key for key, _, _ in per_key})
        provider_of = dict(keys.values_list("pk", "provider"))
        statuses, providers = Counter(), Counter()
        for key, status, n in per_key:
            provider = provider_of.get(key)  # None: the key was deleted meanwhile
            if provider is None:
                continue
            if chosen.get("provider", provider) == provider:
                statuses[status] += n
            if chosen.get("status", status) == status:
                providers[provider] += n
        return {"status": statuses, "provider": providers}

    return cached(user, "facets", filters, compute)


FACETS = {"status": Job.Status.choices, "provider": CHOICES}


def facet_options(counts: dict[str, Counter], params: dict[str, str]) -> dict[str, list[dict]]:
    """The status and provider options with their counts, "All" first."""
    options = {}
    for name, choices in FACETS.items():
        numbers = counts[name]
        chosen = params.get(name, "")
        options[name] = [
            {"value": value, "label": label, "count": numbers[value] if value else sum(numbers.values())}
            | {"checked": value == chosen}
            for value, label in [("", "All"), *choices]
        ]
    return options


# --- the dashboard strip ------------------------------------------------------------------------


@dataclass
class Bar:
    start: date
    end: date
    total: int
    segments: list[dict] = field(default_factory=list)  # {provider, name, jobs, x, y, width, height}
    # The list filtered to the bar's days (Dashboard.linked), and where the bar's slot lies.
    url: str = ""
    x: float = 0
    slot: float = 0
    # The bar's label escaped, and its drawing: the label as its title, then its rects.
    label_html: str = ""
    drawing: str = ""

    @property
    def label(self) -> str:
        days = _day(self.start) if self.start == self.end else f"{_day(self.start)}–{_day(self.end)}"
        parts = ", ".join(f"{s['name']} {s['jobs']:,}" for s in self.segments)
        return f"{days}: {self.total:,} job{'s' if self.total != 1 else ''}" + (f" ({parts})" if parts else "")

    @property
    def svg(self) -> SafeString:
        """The bar's group in the chart, around its drawing (made with the strip's layout:
        _layout). A link to the bar's days when it has one, reachable by keyboard (an SVG
        link with an href is focusable); its full-height slot is the target, so an empty day
        is clickable too."""
        if not self.url:
            return mark_safe(f"<g>{self.drawing}</g>")  # noqa: S308 (escaped in _layout)
        return mark_safe(  # noqa: S308 (escaped here and in _layout)
            f'<a class="chart-bar" href="{html.escape(self.url)}" aria-label="Show {self.label_html}">'
            f'<rect class="chart-hit" x="{self.x}" y="0" width="{self.slot}" height="{CHART_HEIGHT}"></rect>'
            f"{self.drawing}</a>"
        )


@dataclass
class Dashboard:
    start: date
    end: date
    default_period: bool
    providers: list[dict]  # {provider, name, jobs, credits (None: unknown)}
    bars: list[Bar]
    busiest: Bar | None
    peak: int
    bucket_days: int
    # The time zone whose days these are: the viewer's, UTC when unknown.
    zone: str

    @property
    def jobs(self) -> int:
        return sum(p["jobs"] for p in self.providers)

    @property
    def credits(self) -> Decimal | None:
        """None when no job of the period says what it cost (Munsit never does)."""
        priced = [p["credits"] for p in self.providers if p["credits"] is not None]
        return sum(priced, Decimal(0)) if priced else None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def linked(self, params: dict[str, str]) -> "Dashboard":
        """Each bar made a link to the list filtered to its days, the other filters kept (a
        date preset gives way to the days), with the other parameters in `params` (what the
        list's links keep: a layout, the saved view opened)."""
        kept = {name: value for name, value in params.items() if name not in ("cursor", "period")}
        for bar in self.bars:
            days = {"created_after": f"{bar.start:%Y-%m-%d}", "created_before": f"{bar.end:%Y-%m-%d}"}
            bar.url = list_url({**kept, **days})
        return self


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"


def period(filters: JobFilter, today: date) -> tuple[date, date, bool]:
    """The dashboard's days: the date filters, else the last 30 days (the viewer's days,
    inclusive). The filters keep their days within FIRST_DAY…LAST_DAY, so the arithmetic here
    stays within what a date holds."""
    filters.is_valid()  # cleans the form: invalid dates are left out
    cleaned = getattr(filters.form, "cleaned_data", {})
    after, before = cleaned.get("created_after"), cleaned.get("created_before")
    if cleaned.get("period"):
        # A preset starts the period (the later of it and the "From" day).
        first = timezone.localdate(period_start(cleaned["period"]))
        after = max(after, first) if after else first
    if not after and not before:
        return today - timedelta(days=DEFAULT_DAYS - 1), today, True
    end = before or max(today, after)
    start = after or end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end, False


def dashboard(filters: JobFilter, user, today: date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    start, end, default_period = period(filters, today)

    def compute():
        jobs = filters.qs.filter(created__gte=day_start(start), created__lt=day_end(end))
        per_day = (
            jobs.annotate(day=TruncDate("created", tzinfo=timezone.get_current_timezone()))
            .values_list("day", "provider")
            .annotate(jobs=Count("id"), credits=Sum("credits_used"))
            .order_by()
        )
        return build(start, end, default_period, list(per_day))

    # The drawn strip is cached, not just the counts: laying out and drawing a year's bars
    # cost more than reading the counts back. (Named anew whenever its shape changes: entries
    # of another shape, cached before, must not be read as this one.)
    return cached(user, f"dashboard-drawn:{start}:{end}", filters, compute)


def build(start: date, end: date, default_period: bool, rows: list[tuple]) -> Dashboard:
    """The strip from (day, provider, jobs, credits) counts."""
    totals: dict[str, dict] = {}
    by_day: dict[date, Counter] = defaultdict(Counter)
    for day, provider, n, credits in rows:
        entry = totals.setdefault(provider, {"jobs": 0, "credits": None})
        entry["jobs"] += n
        if credits is not None:
            entry["credits"] = (entry["credits"] or 0) + credits
        by_day[day][provider] += n
    providers = [
        {"provider": slug, "name": name, **totals[slug]} for slug, name in PROVIDER_NAMES.items() if slug in totals
    ]
    bars, bucket_days = _bars(start, end, by_day)
    peak = max((bar.total for bar in bars), default=0)
    _layout(bars, peak)
    busiest = max(bars, key=lambda bar: bar.total) if peak else None
    zone = timezone.get_current_timezone_name()
    return Dashboard(start, end, default_period, providers, bars, busiest, peak, bucket_days, zone)


def _bars(start: date, end: date, by_day: dict[date, Counter]) -> tuple[list[Bar], int]:
    """One bar per day, or per few days when the period is long (at most MAX_BARS)."""
    days = (end - start).days + 1
    size = max(1, math.ceil(days / MAX_BARS))
    # Counted from the days that have jobs, not by walking every day: a period may span
    # thousands of years (the filters allow up to LAST_DAY).
    per_bar: dict[int, Counter] = defaultdict(Counter)
    for day, counts in by_day.items():
        if start <= day <= end:
            per_bar[(day - start).days // size].update(counts)
    bars = []
    for first in range(0, days, size):
        bar_start = start + timedelta(days=first)
        bar_end = min(bar_start + timedelta(days=size - 1), end)
        counts = per_bar[first // size]
        segments = [
            {"provider": slug, "name": name, "jobs": counts[slug]}
            for slug, name in PROVIDER_NAMES.items()
            if counts[slug]
        ]
        bars.append(Bar(bar_start, bar_end, sum(counts.values()), segments))
    return bars, size


def _layout(bars: list[Bar], peak: int) -> None:
    """Stacked bars in the chart's box: providers bottom-up in a fixed order."""
    if not bars:
        return
    slot = CHART_WIDTH / len(bars)
    width = round(max(slot * 0.72, 1), 2)
    for i, bar in enumerate(bars):
        bar.x, bar.slot = round(i * slot, 2), round(slot, 2)
        x = round(i * slot + (slot - width) / 2, 2)
        top = CHART_HEIGHT
        for segment in bar.segments:
            height = CHART_HEIGHT * segment["jobs"] / peak
            top -= height
            segment.update(x=x, y=round(top, 2), width=width, height=round(max(height, 0.5), 2))
        _draw(bar)


def _draw(bar: Bar) -> None:
    """The bar's markup, made once with the strip's layout and cached with it: a year's chart
    has a few hundred numbers, which the template localized one by one (and an SVG coordinate
    must never get a locale's decimal comma), and drawing the bars on every page cost a
    millisecond of the full page's 16 (bench/page_cpu.py). Joined by hand rather than with
    format_html(), which escapes every number on its way in: the numbers are the chart's own
    floats, the provider a registry name, and the label is escaped here."""
    bar.label_html = html.escape(bar.label)
    rects = "".join(
        f'<rect class="p-{html.escape(s["provider"])}" x="{s["x"]}" y="{s["y"]}" '
        f'width="{s["width"]}" height="{s["height"]}"></rect>'
        for s in bar.segments
    )
    bar.drawing = f"<title>{bar.label_html}</title>{rects}"
