"""The simulator calling back: signed webhooks for the jobs of registered accounts, as the
real providers send them, with retries.

- `POST /_sim/webhooks` `{"key": "sim-…", "url": "http://127.0.0.1:8000/hooks/…/", "secret": "…"}`
  registers where an Apikley or AudioPod account's events go (201); the URL must be on a
  loopback address (the simulator never calls out). `GET /_sim/webhooks` lists registrations
  (no secrets) with delivery counts; `DELETE /_sim/webhooks` removes them all.
- Apikley: each task's stages `text`, `first`, `complete` or `error` go to the URL as kie.ai
  sends them (`{"code", "msg", "data": {"callbackType", "task_id", "data": [tracks]}}`, snake_case
  track fields); with a secret, signed with X-Webhook-Timestamp and X-Webhook-Signature =
  base64(HMAC-SHA256(taskId + "." + timestamp, secret)).
- AudioPod: `job.completed`, `job.failed`, `job.cancelled` as `{"event_type", "event_id",
  "job_id", "job_type", "status"}`, signed with X-AudioPod-Signature: sha256=HMAC over
  "{timestamp}.{body}", X-AudioPod-Timestamp and X-AudioPod-Event-Id.
- Retries: a delivery that fails (no connection, a non-2xx answer) is tried again after 1, 2, 4
  and 8 seconds, re-signed each time (AudioPod keeps the event id), then dropped.

A thread looks at the registered accounts' jobs twice a second (world time: a FakeClock in
tests moves them on) and sends each stage once. Only jobs unfinished when the account was
registered, and jobs added since, are watched.
"""

import base64
import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from . import apikley, audiopod
from .protocol import Reply, Request, Route, json_reply
from .world import Account, Job, World, external_id

TICK = 0.5  # seconds between looks at the watched jobs
BACKOFF = (1.0, 2.0, 4.0, 8.0)  # seconds before each retry
TIMEOUT = 5.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
APIKLEY_STAGES = {"TEXT_SUCCESS": "text", "FIRST_SUCCESS": "first", "SUCCESS": "complete"}
AUDIOPOD_EVENTS = {"COMPLETED": "job.completed", "FAILED": "job.failed", "ERROR": "job.failed"}
AUDIOPOD_EVENTS |= {"CANCELLED": "job.cancelled", "CANCELED": "job.cancelled"}


@dataclass
class Registration:
    account: Account
    url: str
    secret: str
    # Watched jobs: (stream, serial) → the last stage sent for it ("" before any).
    watched: dict[tuple[str, int], str] = field(default_factory=dict)
    # How many jobs of each stream existed when last looked at (new ones are watched too).
    seen_totals: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    failed: int = 0
    retried: int = 0

    def counts(self) -> dict[str, int]:
        return {"watched": len(self.watched), "sent": self.sent, "retried": self.retried, "failed": self.failed}


@dataclass
class Delivery:
    registration: Registration
    body: bytes
    sign: Callable[[bytes], dict[str, str]]
    attempt: int = 0
    due: float = 0.0


class Dispatcher:
    def __init__(self, world: World, base_url: str):
        self.world = world
        self.base_url = base_url
        self.registrations: dict[str, Registration] = {}
        self.queue: list[Delivery] = []
        self.lock = threading.Lock()
        self.session = requests.Session()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    # --- registrations ------------------------------------------------------------------------

    def register(self, key: str, url: str, secret: str) -> Registration:
        account = self.world.account(key)
        if account is None or account.provider not in ("apikley", "audiopod"):
            raise ValueError("key must be a simulator key of apikley or audiopod")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
            raise ValueError("url must be http(s) on a loopback address")
        registration = Registration(account, url, secret)
        now = self.world.now()
        for name, stream in account.streams.items():
            registration.seen_totals[name] = stream.total
            for job in self.world.scan(account, name):
                if not job.done(now):
                    registration.watched[(name, job.serial)] = ""
        with self.lock:
            self.registrations[key] = registration
        self.start()
        return registration

    def clear(self) -> None:
        with self.lock:
            self.registrations.clear()
            self.queue.clear()

    # --- the loop -----------------------------------------------------------------------------

    def start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self.run, name="simulator-webhooks", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        while not self.stopped.wait(TICK):
            with contextlib.suppress(Exception):  # a bad tick must not end the deliveries
                self.tick()

    def tick(self, clock: Callable[[], float] = time.monotonic) -> int:
        """Queue what happened since the last look and send what is due; returns how many
        deliveries were attempted."""
        with self.lock:
            registrations = list(self.registrations.values())
        for registration in registrations:
            self.look(registration, clock())
        now = clock()
        with self.lock:
            due = [d for d in self.queue if d.due <= now]
            self.queue = [d for d in self.queue if d.due > now]
        for delivery in due:
            self.send(delivery, clock)
        return len(due)

    def look(self, registration: Registration, at: float) -> None:
        # Asking for the account adds the jobs its clock ticks made meanwhile (no one else may
        # be asking: Apikley has no list, and a key with webhooks is polled less).
        account, now = self.world.account(registration.account.key), self.world.now()
        if account is None:
            return
        for name, stream in account.streams.items():
            for serial in range(registration.seen_totals.get(name, 0), stream.total):
                registration.watched[(name, serial)] = ""
            registration.seen_totals[name] = stream.total
        for (name, serial), sent in list(registration.watched.items()):
            stream = account.streams[name]
            if stream.is_deleted(serial):
                del registration.watched[(name, serial)]
                continue
            job = self.world._job(account, stream, serial)  # by serial: the world's own lookup
            event = (apikley_event if account.provider == "apikley" else audiopod_event)(
                job, now, self.base_url, registration.secret
            )
            if event is None or event[0] == sent:
                continue
            stage, body, sign, final = event
            registration.watched[(name, serial)] = stage
            if final:
                del registration.watched[(name, serial)]
            with self.lock:
                self.queue.append(Delivery(registration, body, sign, due=at))

    def send(self, delivery: Delivery, clock: Callable[[], float]) -> None:
        registration = delivery.registration
        headers = {"Content-Type": "application/json", **delivery.sign(delivery.body)}
        try:
            ok = self.session.post(registration.url, data=delivery.body, headers=headers, timeout=TIMEOUT).ok
        except requests.RequestException:
            ok = False
        if ok:
            registration.sent += 1
            return
        if delivery.attempt >= len(BACKOFF):
            registration.failed += 1
            return
        registration.retried += 1
        delivery.due = clock() + BACKOFF[delivery.attempt]
        delivery.attempt += 1
        with self.lock:
            self.queue.append(delivery)


# --- what each provider sends -------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def apikley_event(job: Job, now: float, base_url: str, secret: str):
    """(stage, body, signer, final) for the task's current stage, or None before its first."""
    record = apikley.render(job, now, base_url)
    status = str(record.get("status") or "")
    task_id = str(external_id(job))
    if status in APIKLEY_STAGES:
        stage, code, msg = APIKLEY_STAGES[status], 200, "success"
    elif status == "CALLBACK_EXCEPTION":
        stage, code, msg = "complete", 200, "All generated successfully."
    elif status.endswith(("FAILED", "ERROR")):
        stage, code, msg = "error", int(record.get("errorCode") or 501), str(record.get("errorMessage") or "failed")
    else:
        return None
    tracks = (record.get("response") or {}).get("sunoData") or []
    data = [{_snake(k): v for k, v in track.items()} for track in tracks] if stage != "error" else []
    body = json.dumps(
        {"code": code, "msg": msg, "data": {"callbackType": stage, "task_id": task_id, "data": data}}
    ).encode()

    def sign(_body: bytes) -> dict[str, str]:
        if not secret:
            return {}
        stamp = str(int(time.time()))
        digest = hmac.new(secret.encode(), f"{task_id}.{stamp}".encode(), hashlib.sha256).digest()
        return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": base64.b64encode(digest).decode()}

    return stage, body, sign, stage in ("complete", "error")


def audiopod_event(job: Job, now: float, base_url: str, secret: str):
    record = audiopod.render(job, now, base_url)
    event_type = AUDIOPOD_EVENTS.get(str(record.get("status") or "").upper())
    if event_type is None:
        return None
    # Stable per job and outcome: a retry (or a second look) carries the same id.
    event_id = str(uuid.UUID(bytes=hashlib.blake2b(job.token + event_type.encode(), digest_size=16).digest()))
    payload: dict[str, Any] = {
        "event_type": event_type,
        "event_id": event_id,
        "job_id": record.get("id"),
        "job_type": "music_generation",
        "status": event_type.removeprefix("job."),
    }
    if event_type == "job.failed":
        payload["error_message"] = payload["failure_reason"] = record.get("error_message")
    body = json.dumps(payload).encode()

    def sign(raw: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        digest = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        return {
            "X-AudioPod-Signature": f"sha256={digest}",
            "X-AudioPod-Timestamp": stamp,
            "X-AudioPod-Event": event_type,
            "X-AudioPod-Event-Id": event_id,
        }

    return event_type, body, sign, True


# --- the control endpoints ------------------------------------------------------------------------

_dispatchers: "weakref.WeakKeyDictionary[World, Dispatcher]" = weakref.WeakKeyDictionary()
_dispatchers_lock = threading.Lock()


def dispatcher(world: World, base_url: str) -> Dispatcher:
    with _dispatchers_lock:
        found = _dispatchers.get(world)
        if found is None:
            found = _dispatchers[world] = Dispatcher(world, base_url)
        return found


def stop(world: World) -> None:
    with _dispatchers_lock:
        found = _dispatchers.pop(world, None)
    if found is not None:
        found.stop()


def register(request: Request) -> Reply:
    try:
        body = request.json()
        if not isinstance(body, dict):
            raise ValueError('expected {"key": "sim-…", "url": "http://127.0.0.1:…", "secret": "…"}')
        registration = dispatcher(request.world, request.base_url).register(
            str(body.get("key") or ""), str(body.get("url") or ""), str(body.get("secret") or "")
        )
    except ValueError as e:
        return json_reply({"error": str(e)}, 400)
    return json_reply({"key": registration.account.key, "url": registration.url, **registration.counts()}, 201)


def listing(request: Request) -> Reply:
    found = dispatcher(request.world, request.base_url)
    with found.lock:
        items = [{"key": key, "url": r.url, **r.counts()} for key, r in found.registrations.items()]
    return json_reply({"webhooks": items})


def clear(request: Request) -> Reply:
    dispatcher(request.world, request.base_url).clear()
    return json_reply({"webhooks": []})


SIM_ROUTES = [
    Route("sim", "POST", "/_sim/webhooks", register),
    Route("sim", "GET", "/_sim/webhooks", listing),
    Route("sim", "DELETE", "/_sim/webhooks", clear),
]
