"""Every provider fault the simulator can play, against `manage.py sync`, with figures.

Used by tests/reliability/test_faults.py (short timeouts; asserts the zeros, prints the
rest) and by bench/faults_bench.py (the real timeouts; prints the slowest pass per fault).

For each fault: every key is made due, the fault is switched on for all four providers at
once, and sync passes run. Counted per fault:

- crashes: a pass that raised instead of reporting the provider's failure;
- rows lost: jobs stored before the fault that are gone after it, or whose finished status
  moved back;
- calls after a 401: requests made with a key after the provider refused it;
- calls before Retry-After: requests with a key that the provider had told to wait, before
  the wait was over (the simulator's clock is frozen: no wait is over);
- the slowest pass, in seconds.
"""

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from history.importer import import_task_ids
from history.models import Job
from providers.models import Credential
from providers.simulator import SimulatorServer

PROVIDERS = ("apimall", "apikley", "audiopod", "munsit")
BASE_URL_SETTINGS = ("APIMALL_BASE_URL", "APIKLEY_BASE_URL", "AUDIOPOD_BASE_URL", "MUNSIT_BASE_URL")
FINAL = {"succeeded", "failed", "canceled"}  # canceled where the model has it
REFUSED = "http://127.0.0.1:9"  # nothing listens on the discard port


@dataclass(frozen=True)
class Fault:
    name: str
    # Simulator fault fields, for all four providers; empty for the two faults played otherwise.
    fields: dict[str, Any] = field(default_factory=dict)
    special: str = ""  # "refused": nothing listens; "revoked": one key per provider is refused


def faults(hang: float, drip: float, slow: float) -> list[Fault]:
    """The fourteen faults: `hang` is a latency past the read timeout, `drip` the seconds
    between 16-byte pieces (slow enough that no page arrives within the deadline), `slow` a
    latency within the timeouts."""
    return [
        Fault("hanging (no answer within the read timeout)", {"latency": hang}),
        Fault("dripping (an answer trickling in)", {"drip": drip}),
        Fault(f"slow (answers after {slow:g} s)", {"latency": slow}),
        Fault("500 on every request", {"error_rate": 1.0}),
        Fault("502 proxy page", {"error_rate": 1.0, "error_status": 502}),
        Fault("503 proxy page", {"error_rate": 1.0, "error_status": 503}),
        Fault("504 proxy page", {"error_rate": 1.0, "error_status": 504}),
        Fault("500 on 30% of requests", {"error_rate": 0.3}),
        Fault("every answer cut in half", {"truncate_rate": 1.0}),
        Fault("30% of answers cut in half", {"truncate_rate": 0.3}),
        Fault("429 with Retry-After 30", {"rate_limited": True, "retry_after": 30}),
        Fault("Apikley maintenance (code 455)", {"maintenance": True}),
        Fault("connection refused", special="refused"),
        Fault("key revoked (401)", special="revoked"),
    ]


@dataclass
class Figures:
    fault: str
    passes: list[float] = field(default_factory=list)
    crashes: int = 0
    rows_lost: int = 0
    calls_after_401: int = 0
    calls_before_retry_after: int = 0
    requests: int = 0  # made to the simulator under the fault

    @property
    def slowest(self) -> float:
        return max(self.passes, default=0.0)


def make_keys(owner, world, per_provider: int, jobs: int) -> list[Credential]:
    """`per_provider` keys of each provider with `jobs` jobs each; Apikley's tasks imported."""
    keys = []
    for provider in PROVIDERS:
        for n in range(per_provider):
            secret = f"sim-{provider}-rel{n}-n{jobs}"
            credential = Credential(owner=owner, provider=provider, label=f"{provider} {n}")
            credential.set_secret(secret)
            credential.save()
            if provider == "apikley":
                import_task_ids(credential, world.task_ids(secret))
            keys.append(credential)
    return keys


def make_everything_due() -> None:
    """As at the start of a later run: every key due, no provider remembered as down."""
    cache.clear()
    now = timezone.now()
    Credential.objects.update(next_sync=None, paused_until=None, failures=0, sync_error="", enqueued=None)
    Job.objects.filter(next_poll__isnull=False).update(next_poll=now)


def snapshot() -> dict[int, str]:
    return dict(Job.objects.values_list("pk", "status"))


def lost(before: dict[int, str]) -> int:
    after = snapshot()
    return sum(1 for pk, status in before.items() if pk not in after or (status in FINAL and after[pk] != status))


def run_pass(figures: Figures) -> None:
    started = time.monotonic()
    try:
        call_command("sync", stdout=io.StringIO(), stderr=io.StringIO())
    except Exception:  # a crash is what is counted here
        figures.crashes += 1
    figures.passes.append(time.monotonic() - started)


@contextmanager
def pointed_at(url: str, names: tuple[str, ...] = BASE_URL_SETTINGS) -> Iterator[None]:
    saved = {name: getattr(settings, name) for name in names}
    for name in names:
        setattr(settings, name, url)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


def is_429(entry) -> bool:
    return entry.status == 429 or entry.code == 429


def calls_before_retry_after(log) -> int:
    """Calls with a key after a 429 carrying Retry-After told it to wait. (Apikley's 429
    comes in a 200 without Retry-After and limits one task, not the key: not counted.)"""
    told_to_wait: set[str | None] = set()
    early = 0
    for entry in log.entries():
        if entry.provider == "apikley":
            continue
        if entry.key in told_to_wait:
            early += 1
        if is_429(entry):
            told_to_wait.add(entry.key)
    return early


def calls_after_401(log, revoked: set[str]) -> int:
    refused: set[str] = set()
    late = 0
    for entry in log.entries():
        if entry.key in refused:
            late += 1
        if entry.key in revoked and (entry.status == 401 or entry.code == 401):
            refused.add(entry.key)
    return late


def play(fault: Fault, simulator: SimulatorServer, keys: list[Credential], target: str = "all") -> Figures:
    """Play one fault on every provider (`target` "all") or one: a pass under it and a pass
    after it (the simulator's clock does not move, so every Retry-After is still running
    during the second)."""
    targets = PROVIDERS if target == "all" else (target,)
    world = simulator.world
    figures = Figures(fault.name)
    make_everything_due()
    Credential.objects.filter(pk__in=[k.pk for k in keys]).update(status=Credential.Status.OK)
    before = snapshot()
    world.log.clear()
    world.faults.reset()
    revoked: dict[int, str] = {}
    if fault.special == "revoked":
        first = {key.provider: key for key in reversed(keys) if key.provider in targets}  # the first of each
        for credential in first.values():
            revoked[credential.pk] = credential.secret.reveal()
            credential.set_secret(f"revoked-{credential.provider}-0000")
            credential.status = Credential.Status.OK
            credential.save()
    elif fault.fields:
        world.faults.set(target, **fault.fields)
    if fault.special == "refused":
        with pointed_at(REFUSED, tuple(f"{p.upper()}_BASE_URL" for p in targets)):
            run_pass(figures)
    else:
        run_pass(figures)
    figures.requests = len(world.log.entries())
    world.faults.reset()
    run_pass(figures)
    figures.rows_lost = lost(before)
    figures.calls_after_401 = calls_after_401(world.log, {f"revoked-{p}-0000" for p in PROVIDERS})
    figures.calls_before_retry_after = calls_before_retry_after(world.log)
    for credential in keys:
        if credential.pk in revoked:
            credential.set_secret(revoked[credential.pk])
            credential.save()
    return figures


def report(results: list[Figures]) -> str:
    lines = [
        f"provider faults tried: {len(results)}",
        f"crashes: {sum(r.crashes for r in results)}",
        f"rows lost: {sum(r.rows_lost for r in results)}",
        f"calls after a 401: {sum(r.calls_after_401 for r in results)}",
        f"calls before Retry-After: {sum(r.calls_before_retry_after for r in results)}",
        "slowest sync pass per fault (s), and requests made under it:",
    ]
    lines += [f"  {r.slowest:7.2f} s {r.requests:5d}  {r.fault}" for r in results]
    return "\n".join(lines)
