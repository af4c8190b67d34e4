"""What a test or operator controls and observes: faults, rate limits, the request log."""

import math
import random
import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

PROVIDERS = ("apimall", "apikley", "audiopod", "munsit")


@dataclass
class Fault:
    """Misbehaviour switched on for one provider's API endpoints (never for /_sim/ ones)."""

    latency: float = 0.0  # seconds of real time slept before answering
    drip: float = 0.0  # seconds of real time between the 16-byte pieces an answer is sent in
    error_rate: float = 0.0  # share of requests answered with `error_status`
    error_status: int = 500  # 500: the provider's own error body; 502/503/504: a proxy's HTML page
    truncate_rate: float = 0.0  # share of answers cut in half (Content-Length matches the cut body)
    rate_limited: bool = False  # every request gets the provider's 429 (Apikley: code 429 in a 200)
    retry_after: int = 30  # seconds, sent with the forced 429 where the provider sends Retry-After
    maintenance: bool = False  # Apikley only: HTTP 200 with code 455

    def validate(self) -> None:
        if self.latency < 0 or self.retry_after < 0 or self.drip < 0:
            raise ValueError("latency, drip and retry_after cannot be negative")
        for name in ("error_rate", "truncate_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if not 500 <= self.error_status <= 599:
            raise ValueError("error_status must be a 5xx status")


_FAULT_TYPES = {f.name: f.type for f in fields(Fault)}


class Faults:
    """Per-provider faults. `world.faults["apimall"].latency = 0.2` or
    `world.faults.set("all", error_rate=0.1)`."""

    def __init__(self, seed: int = 0):
        self._faults = {p: Fault() for p in PROVIDERS}
        # Seeded so that a run with error_rate 0.1 fails the same requests every time.
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __getitem__(self, provider: str) -> Fault:
        return self._faults[provider]

    def set(self, provider: str, **changes: Any) -> None:
        """Change fields of one provider's fault, or of every provider's with "all"/"*"."""
        targets = PROVIDERS if provider in ("all", "*") else (provider,)
        for target in targets:
            if target not in self._faults:
                raise ValueError(f"unknown provider {target!r}")
            fault = Fault(**{**asdict(self._faults[target]), **_coerce(changes)})
            fault.validate()
            self._faults[target] = fault

    def update(self, data: Any) -> None:
        """Apply a JSON document {"<provider>|all": {field: value}}; all-or-nothing."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object keyed by provider")
        staged = Faults()
        staged._faults = dict(self._faults)
        for provider, changes in data.items():
            if not isinstance(changes, dict):
                raise ValueError(f"{provider}: expected an object of fault fields")
            staged.set(provider, **changes)
        self._faults = staged._faults

    def reset(self) -> None:
        self._faults = {p: Fault() for p in PROVIDERS}

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {p: asdict(f) for p, f in self._faults.items()}

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate


def _coerce(changes: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in changes.items():
        kind = _FAULT_TYPES.get(name)
        if kind is None:
            raise ValueError(f"unknown fault field {name!r} (known: {', '.join(_FAULT_TYPES)})")
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")
        else:
            value = int(value) if kind is int else float(value)
        out[name] = value
    return out


class SlidingWindow:
    """At most `limit` requests per `period` seconds per bucket key, like the moving-window
    limiters (slowapi, nginx) the providers run. Reads the world clock, so a test can exhaust
    a window and then advance time past it."""

    def __init__(self, limit: int, period: float):
        self.limit = limit
        self.period = period
        self._hits: dict[Any, deque[float]] = {}
        self._prune_above = 10_000
        self._lock = threading.Lock()

    def hit(self, key: Any, now: float) -> int | None:
        """Count a request; None when allowed, else the whole seconds to wait (Retry-After)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) > self._prune_above:
                    self._prune(now)
                    # Amortised: when most windows are still live, wait until there are twice as many.
                    self._prune_above = max(10_000, 2 * len(self._hits))
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.period:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.period - now))
            hits.append(now)
            return None

    def _prune(self, now: float) -> None:
        # Per-task windows (Apikley) would otherwise grow with every task ever polled.
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.period]:
            del self._hits[key]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    at: float  # world clock
    provider: str  # "apimall" … or "sim" for /_sim/ endpoints
    endpoint: str  # method and route template, e.g. "GET /api/v1/music/jobs/{id}/status"
    key: str | None  # the API key sent, as sent
    target: str | None  # the task/job id a per-job endpoint was asked about
    status: int  # HTTP status sent (Apikley errors are 200: see `code`)
    code: int | None = None  # Apikley's body `code`


class RequestLog:
    """Every request the simulator answered, for assertions such as "no calls after the key
    was rejected" or "one status call per unfinished job"."""

    def __init__(self, maxlen: int = 50_000):
        self._entries: deque[LoggedRequest] = deque(maxlen=maxlen)
        self._counts: Counter[tuple[str, str, str | None]] = Counter()
        self._lock = threading.Lock()

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            self._counts[entry.provider, entry.endpoint, entry.key] += 1

    def count(
        self,
        provider: str | None = None,
        endpoint: str | None = None,
        key: str | None = None,
        target: str | None = None,
    ) -> int:
        """Requests matching every filter given. Without `target` this is exact however many
        requests were made; with it, it counts the retained entries."""
        if target is not None:
            return len(self.entries(provider, endpoint, key, target))
        with self._lock:
            return sum(
                n
                for (p, e, k), n in self._counts.items()
                if (provider is None or p == provider)
                and (endpoint is None or e == endpoint)
                and (key is None or k == key)
            )

    def entries(
        self,
        provider: str | None = None,
        endpoint: str | None = None,
        key: str | None = None,
        target: str | None = None,
    ) -> list[LoggedRequest]:
        with self._lock:
            snapshot: Iterable[LoggedRequest] = list(self._entries)
        return [
            e
            for e in snapshot
            if (provider is None or e.provider == provider)
            and (endpoint is None or e.endpoint == endpoint)
            and (key is None or e.key == key)
            and (target is None or e.target == target)
        ]

    def summary(self) -> list[dict[str, Any]]:
        """Counters as JSON rows. Simulator keys are shown whole; anything else sent as a key
        (a real key pointed here by mistake) only by its last four characters."""
        with self._lock:
            items = sorted(self._counts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
        return [
            {"provider": p, "endpoint": e, "key": k if k is None or k.startswith("sim-") else "…" + k[-4:], "count": n}
            for (p, e, k), n in items
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
