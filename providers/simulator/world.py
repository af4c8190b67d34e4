"""The simulated world: accounts, their jobs, the clock, faults, rate limits, the request log.

Accounts come from keys: `sim-<slug>-<name>` is a valid key for provider <slug>, and the
name may carry `-n<count>` (`sim-audiopod-bench-n100000`) to size the account; 150 jobs by
default (API Mall splits them between its audio and image histories).

Jobs are never stored. A stream of jobs (one history of one account) is numbered by
`serial`, 0 the oldest; job `serial` is computed on demand from a hash of (key, stream,
serial), so a 100,000-job account costs nothing until a page of it is read, and every read
gives the same job. Only what changes is stored: the creation times of jobs added after the
start, and per-job overrides (AudioPod renames, deletions, retries).

Time: the initial jobs were created over the 180 days before the simulator started. The
newest few of every stream, and ~2% at random, are unfinished at the start and finish
15-240 s after it (divided by `speed`). New jobs appear every `new_every` seconds of the
clock (one per account and tick; API Mall alternates audio and images) and on
`add_jobs()`; each finishes 15-240 s (divided by `speed`) after it was created. Every
job fails with 7% probability (a retried AudioPod job then succeeds).

In-process API: `account(key)`, `page()`, `scan()`, `find()`/`job(key, id)`,
`add_jobs(key, n)`, `task_ids(key)`, `update()`/`delete()`/`retry()`; `clock`, `speed`,
`new_every` and `rate_limits` (settable while serving), `faults`, `limits`, `log`.
"""

import bisect
import hashlib
import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, SystemClock
from .control import Faults, RequestLog, SlidingWindow

PROVIDERS = ("apimall", "apikley", "audiopod", "munsit")
STREAMS: dict[str, tuple[str, ...]] = {
    "apimall": ("audio", "images"),
    "apikley": ("music",),
    "audiopod": ("music",),
    "munsit": ("denoise",),
}
DEFAULT_JOBS = 150
MAX_JOBS = 10_000_000

HISTORY_SPAN = 180 * 86_400  # initial jobs spread back this far from the start
UNFINISHED_HEAD = 3  # newest jobs of each stream still running at the start
STUCK_RATE = 0.02  # older jobs also still running at the start
FAILED_RATE = 0.07
FINISH_DELAY = (15.0, 240.0)  # seconds (÷ speed) until an unfinished job finishes

_KEY_RE = re.compile(r"sim-(apimall|apikley|audiopod|munsit)-([A-Za-z0-9][A-Za-z0-9_.-]{0,99})")
_COUNT_RE = re.compile(r"(?:^|-)n(\d{1,8})(?=-|$)")

# Generation time of jobs that were already finished at the start, per stream.
_GEN_SECONDS = {"audio": (25, 180), "images": (4, 60), "music": (30, 240), "denoise": (5, 90)}


@dataclass(frozen=True)
class KeyInfo:
    provider: str
    name: str
    jobs: int
    denied: bool  # API Mall: 403 "API access not approved"
    broke: bool  # Apikley: code 402, no credits


def parse_key(key: str | None) -> KeyInfo | None:
    """What a simulator key means, or None when it is not one."""
    match = _KEY_RE.fullmatch(key or "")
    if not match:
        return None
    provider, name = match.groups()
    count = _COUNT_RE.search(name)
    return KeyInfo(
        provider=provider,
        name=name,
        jobs=min(int(count.group(1)), MAX_JOBS) if count else DEFAULT_JOBS,
        denied=provider == "apimall" and name.startswith("denied"),
        broke=provider == "apikley" and "broke" in name,
    )


@dataclass
class Stream:
    """One history of one account: `initial` generated jobs plus `added` later ones."""

    name: str
    initial: int
    added: list[float] = field(default_factory=list)  # creation times, oldest first
    overrides: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Deleted serials, sorted; replaced (never mutated) so readers need no lock.
    deleted: tuple[int, ...] = ()

    @property
    def total(self) -> int:
        """Jobs ever created, deleted ones included (serials run 0 … total-1)."""
        return self.initial + len(self.added)

    @property
    def visible(self) -> int:
        return self.total - len(self.deleted)

    def is_deleted(self, serial: int) -> bool:
        i = bisect.bisect_left(self.deleted, serial)
        return i < len(self.deleted) and self.deleted[i] == serial


@dataclass
class Account:
    key: str
    info: KeyInfo
    seed: bytes
    streams: dict[str, Stream]
    ticks_seen: int = 0
    additions: int = 0  # how many jobs were added: API Mall alternates streams by it

    @property
    def provider(self) -> str:
        return self.info.provider

    def seed_int(self, salt: str, modulo: int) -> int:
        return int.from_bytes(hashlib.blake2b(self.seed + salt.encode(), digest_size=8).digest()) % modulo


@dataclass(frozen=True, slots=True)
class Job:
    """One job as it stands; renderers turn it into each provider's wire format."""

    account: Account
    stream: str
    serial: int
    token: bytes  # 16 bytes from the job's hash: ids and small random choices
    created: float
    begin: float  # when processing (the progress bar) started
    finish_at: float
    failed: bool
    unfinished_at_start: bool
    retried_at: float | None = None
    overrides: dict[str, Any] | None = None

    def rng(self) -> random.Random:
        """The job's own random source for its content (titles, prompts, sizes…)."""
        return random.Random(self.token)

    def done(self, now: float) -> bool:
        return now >= self.finish_at

    def progress(self, now: float) -> float:
        """0 → 1 from `begin` to `finish_at`."""
        if now >= self.finish_at:
            return 1.0
        span = self.finish_at - self.begin
        return 0.0 if span <= 0 else min(max((now - self.begin) / span, 0.0), 0.999)

    def override(self, name: str, default: Any = None) -> Any:
        return default if self.overrides is None else self.overrides.get(name, default)


def _token(account: Account, stream: str, serial: int) -> bytes:
    """A job's 16 hash bytes: everything about it derives from these."""
    return hashlib.blake2b(account.seed + stream.encode() + serial.to_bytes(5), digest_size=16).digest()


def job_token(account: Account, stream: str, serial: int) -> bytes:
    """Another job's hash bytes, without making the job (Apikley's parentMusicId)."""
    return _token(account, stream, serial)


def _unit(token: bytes, i: int) -> float:
    """The i-th (0-3) independent uniform [0, 1) number in a job's token."""
    return int.from_bytes(token[4 * i : 4 * i + 4]) / 2**32


class World:
    def __init__(
        self,
        clock: Clock | None = None,
        *,
        speed: float = 1.0,
        new_every: float = 120.0,
        rate_limits: bool = True,
    ):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.clock: Clock = clock or SystemClock()
        self.started = self.clock.now()
        self.speed = speed
        self.rate_limits = rate_limits
        self.faults = Faults()
        self.log = RequestLog()
        # Per-key windows ("generous, realistic"); Apikley's 3/s per task and AudioPod's
        # 10/min retries are the documented ones.
        self.limits = {
            "apimall": SlidingWindow(60, 10),
            "apikley_task": SlidingWindow(3, 1),
            "audiopod": SlidingWindow(300, 60),
            "audiopod_retry": SlidingWindow(10, 60),
            "munsit": SlidingWindow(60, 10),
        }
        self.sse_interval = 0.5  # real seconds between Munsit progress events
        # DELETE /_sim/media: every media URL answers 404, as after a provider deleted its files.
        self.media_gone = False
        self._accounts: dict[str, Account] = {}
        self._ticks: list[float] = []  # times new jobs appeared, world-wide
        self._new_every = 0.0
        self._next_tick: float | None = None
        self._lock = threading.RLock()
        self.new_every = new_every

    # --- time ---------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    @property
    def new_every(self) -> float:
        return self._new_every

    @new_every.setter
    def new_every(self, seconds: float) -> None:
        """Change how often new jobs appear, from now on (0 stops them)."""
        if seconds < 0:
            raise ValueError("new_every cannot be negative")
        with self._lock:
            now = self.now()
            self._advance_ticks(now)
            self._new_every = float(seconds)
            self._next_tick = now + seconds if seconds else None

    def _advance_ticks(self, now: float) -> None:
        while self._next_tick is not None and self._next_tick <= now:
            self._ticks.append(self._next_tick)
            self._next_tick += self._new_every

    def throttle(self, limit: str, key: Any) -> int | None:
        """Count a request against a rate limit: None if allowed, else Retry-After seconds."""
        if not self.rate_limits:
            return None
        return self.limits[limit].hit(key, self.now())

    # --- accounts -----------------------------------------------------------------------

    def account(self, key: str | None, provider: str | None = None) -> Account | None:
        """The account of a valid key (for `provider`, if given), with its history brought
        up to the present; None for a key the simulator does not accept."""
        info = parse_key(key)
        if info is None or (provider is not None and info.provider != provider):
            return None
        assert key is not None
        with self._lock:
            account = self._accounts.get(key)
            if account is None:
                names = STREAMS[info.provider]
                # API Mall: audio gets the odd one.
                sizes = [info.jobs - info.jobs // 2, info.jobs // 2] if len(names) == 2 else [info.jobs]
                account = self._accounts[key] = Account(
                    key=key,
                    info=info,
                    seed=hashlib.sha256(key.encode()).digest()[:16],
                    streams={name: Stream(name, size) for name, size in zip(names, sizes, strict=True)},
                )
            self._catch_up(account)
            return account

    def _catch_up(self, account: Account) -> None:
        self._advance_ticks(self.now())
        for when in self._ticks[account.ticks_seen :]:
            self._append(account, None, when)
        account.ticks_seen = len(self._ticks)

    def _append(self, account: Account, stream: str | None, when: float) -> Job:
        names = list(account.streams)
        target = account.streams[stream or names[account.additions % len(names)]]
        account.additions += 1
        # Keep creation times in serial order even when several jobs are added at once.
        target.added.append(max(when, target.added[-1]) if target.added else when)
        return self._job(account, target, target.total - 1)

    def add_jobs(self, key: str, count: int, stream: str | None = None) -> list[Any]:
        """Create `count` new (unfinished) jobs now; returns their external ids, newest first.
        API Mall alternates audio and images unless `stream` ("audio"/"images") is given."""
        account = self._require(key)
        if stream is not None and stream not in account.streams:
            raise ValueError(f"{account.provider} has no stream {stream!r}")
        with self._lock:
            now = self.now()
            jobs = [self._append(account, stream, now) for _ in range(count)]
        return [external_id(job) for job in reversed(jobs)]

    def _require(self, key: str) -> Account:
        account = self.account(key)
        if account is None:
            raise ValueError("not a simulator key (expected sim-<provider>-<name>)")
        return account

    # --- jobs -----------------------------------------------------------------------------

    def stream(self, key: str, stream: str | None = None) -> Stream:
        account = self._require(key)
        return account.streams[stream or next(iter(account.streams))]

    def _job(self, account: Account, stream: Stream, serial: int) -> Job:
        token = _token(account, stream.name, serial)
        start, speed = self.started, self.speed
        u_age, u_delay, u_stuck, u_fail = (_unit(token, i) for i in range(4))
        delay = (FINISH_DELAY[0] + (FINISH_DELAY[1] - FINISH_DELAY[0]) * u_delay) / speed
        unfinished = True
        if serial >= stream.initial:
            created = begin = stream.added[serial - stream.initial]
            finish_at = created + delay
        else:
            rank = stream.initial - 1 - serial  # 0 = newest
            if rank < UNFINISHED_HEAD:
                # Submitted in the last few minutes before the start.
                created = begin = start - (45 + 90 * rank + 40 * u_age)
                finish_at = start + delay
            else:
                # One slot per job, so creation order is serial order.
                slots = max(stream.initial - UNFINISHED_HEAD, 1)
                created = start - 600 - (HISTORY_SPAN - 600) * (rank - UNFINISHED_HEAD + u_age) / slots
                if u_stuck < STUCK_RATE:
                    begin, finish_at = start - 10, start + delay  # stuck in a queue until now
                else:
                    low, high = _GEN_SECONDS[stream.name]
                    begin, finish_at = created, created + low + (high - low) * u_delay
                    unfinished = False
        overrides = stream.overrides.get(serial)
        retried_at = overrides.get("retried_at") if overrides else None
        failed = u_fail < FAILED_RATE
        if retried_at is not None:
            # A retried job runs again from the retry and, in this world, succeeds.
            begin, finish_at, failed = retried_at, retried_at + delay, False
        return Job(
            account=account,
            stream=stream.name,
            serial=serial,
            token=token,
            created=created,
            begin=begin,
            finish_at=finish_at,
            failed=failed,
            unfinished_at_start=unfinished,
            retried_at=retried_at,
            overrides=overrides,
        )

    def page(
        self, account: Account, stream: str, offset: int, limit: int | None, *, newest_first: bool = True
    ) -> list[Job]:
        """Up to `limit` (None: all) visible jobs from position `offset`; O(limit) however
        large the account, deleted jobs skipped."""
        st = account.streams[stream]
        deleted, total = st.deleted, st.total
        visible = total - len(deleted)
        if offset >= visible:
            return []
        count = visible - offset if limit is None else min(limit, visible - offset)
        serial = _serial_at(offset, deleted, total, newest_first)
        step = -1 if newest_first else 1
        jobs = []
        while len(jobs) < count:
            if not (deleted and st.is_deleted(serial)):
                jobs.append(self._job(account, st, serial))
            serial += step
        return jobs

    def scan(self, account: Account, stream: str) -> Iterator[Job]:
        """Every visible job, newest first (for filters that must look at all of them)."""
        st = account.streams[stream]
        for serial in range(st.total - 1, -1, -1):
            if not (st.deleted and st.is_deleted(serial)):
                yield self._job(account, st, serial)

    def find(self, account: Account, ext_id: Any) -> Job | None:
        """A visible job of the account by its external id (Apikley task id, AudioPod int
        id, Munsit UUID); None when it is not one of the account's."""
        stream_name = next(iter(account.streams))
        st = account.streams[stream_name]
        serial = decode_id(account, stream_name, ext_id)
        if serial is None or not 0 <= serial < st.total or st.is_deleted(serial):
            return None
        return self._job(account, st, serial)

    def job(self, key: str, ext_id: Any) -> Job | None:
        return self.find(self._require(key), ext_id)

    def task_ids(self, key: str) -> list[str]:
        """Every Apikley task id of the account, newest first (there is no list endpoint)."""
        account = self._require(key)
        if account.provider != "apikley":
            raise ValueError("task ids are an Apikley notion")
        st = account.streams["music"]
        return [_hex_id(account, "music", serial) for serial in range(st.total - 1, -1, -1)]

    # --- AudioPod's edits -------------------------------------------------------------------

    def update(self, job: Job, **changes: Any) -> Job:
        """Record edits of a job (display_name, thumbnail_url, retried_at); returns it anew."""
        st = job.account.streams[job.stream]
        with self._lock:
            st.overrides[job.serial] = {**st.overrides.get(job.serial, {}), **changes}
        return self._job(job.account, st, job.serial)

    def delete(self, job: Job) -> None:
        st = job.account.streams[job.stream]
        with self._lock:
            if not st.is_deleted(job.serial):
                st.deleted = tuple(sorted((*st.deleted, job.serial)))

    def retry(self, job: Job) -> Job:
        return self.update(job, retried_at=self.now())


def _serial_at(position: int, deleted: tuple[int, ...], total: int, newest_first: bool) -> int:
    """The serial of the visible job at `position`, counting from the newest (or oldest).

    A fixed point: guess as if nothing were deleted, then shift by the deleted serials
    passed on the way; each round only moves one way, and deletions are few.
    """
    if not deleted:
        return total - 1 - position if newest_first else position
    serial = total - 1 - position if newest_first else position
    while True:
        if newest_first:
            skipped = len(deleted) - bisect.bisect_left(deleted, serial)  # deleted at or above
            guess = total - 1 - position - skipped
        else:
            skipped = bisect.bisect_right(deleted, serial)  # deleted at or below
            guess = position + skipped
        if guess == serial:
            return serial
        serial = guess


# --- external ids ------------------------------------------------------------------------
# Ids look random but carry the serial, scrambled by a per-account bijection, in bytes
# 10-13, and are checked against the job's hash: a lookup by id is O(1), and ids of other
# accounts, or made-up ones, are "not found".

_AUDIOPOD_STRIDE = 3  # AudioPod ids are auto-increment with gaps: other users' jobs
_M32 = 2**32 - 1
_MIX = (0x45D9F3B, 0x119DE1F3)  # odd multipliers: invertible modulo 2**32
_UNMIX = tuple(pow(c, -1, 2**32) for c in reversed(_MIX))


def _scramble(serial: int, mask: int) -> int:
    """A bijection on 32 bits so consecutive serials give unrelated-looking ids."""
    x = serial ^ (serial >> 16)
    for c in _MIX:
        x = (x * c) & _M32
        x ^= x >> 16
    return x ^ mask


def _unscramble(value: int, mask: int) -> int:
    x = value ^ mask
    for c in _UNMIX:
        x ^= x >> 16
        x = (x * c) & _M32
    return x ^ (x >> 16)


def _id_bytes(account: Account, stream: str, serial: int) -> bytes:
    digest = hashlib.blake2b(account.seed + b"id" + stream.encode() + serial.to_bytes(5), digest_size=16).digest()
    return digest[:10] + _scramble(serial, account.seed_int("mask", 2**32)).to_bytes(4) + digest[14:]


def _hex_id(account: Account, stream: str, serial: int) -> str:
    return _id_bytes(account, stream, serial).hex()


def _uuid(account: Account, stream: str, serial: int) -> str:
    raw = bytearray(_id_bytes(account, stream, serial))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _audiopod_base(account: Account) -> int:
    return 20_000 + account.seed_int("audiopod", 50_000)


def external_id(job: Job) -> Any:
    """The provider's id of a job: str, or int for AudioPod."""
    account = job.account
    provider = account.provider
    if provider == "audiopod":
        return _audiopod_base(account) + job.serial * _AUDIOPOD_STRIDE + job.token[15] % _AUDIOPOD_STRIDE
    if provider == "apikley":
        return _hex_id(account, job.stream, job.serial)
    if provider == "munsit":
        return _uuid(account, job.stream, job.serial)
    return ("aud_" if job.stream == "audio" else "img_") + ulid(job.created, job.token)


def decode_id(account: Account, stream: str, ext_id: Any) -> int | None:
    """The serial an external id stands for, or None when it is not this account's."""
    provider = account.provider
    if provider == "audiopod":
        if not isinstance(ext_id, int):
            return None
        serial = (ext_id - _audiopod_base(account)) // _AUDIOPOD_STRIDE
        return serial if 0 <= serial < 2**32 and _audiopod_id_ok(account, stream, serial, ext_id) else None
    if provider not in ("apikley", "munsit") or not isinstance(ext_id, str):
        return None
    text = ext_id.replace("-", "") if provider == "munsit" else ext_id
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    if len(raw) != 16:
        return None
    serial = _unscramble(int.from_bytes(raw[10:14]), account.seed_int("mask", 2**32))
    expected = _uuid(account, stream, serial) if provider == "munsit" else _hex_id(account, stream, serial)
    return serial if expected == ext_id.lower() else None


def _audiopod_id_ok(account: Account, stream: str, serial: int, ext_id: int) -> bool:
    token = _token(account, stream, serial)
    return ext_id == _audiopod_base(account) + serial * _AUDIOPOD_STRIDE + token[15] % _AUDIOPOD_STRIDE


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(created: float, token: bytes) -> str:
    """A ULID (time-ordered, 26 chars) from the creation time and the job's hash."""
    value = (int(created * 1000) << 80) | int.from_bytes(token[6:16])
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
