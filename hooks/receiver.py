"""Receiving webhook calls: find the key by its address, keep to its rate, cap the body,
check the signature with the provider's reader, store the event, queue its processing.

The request does nothing slow: one indexed lookup, a cache counter, a signature check and one
INSERT; the provider is asked about the job later, by a worker (hooks.process).
"""

import threading
import time
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from providers import apikley, audiopod, crypto, webhooks

from .models import Event, Hook

# provider slug → reader(body, headers, secret, now, tolerance) -> webhooks.Callback
READERS: dict[str, Callable[[bytes, Mapping[str, str], str | None, float, int], webhooks.Callback]] = {
    "apikley": apikley.read_callback,
    "audiopod": audiopod.read_webhook,
}


def max_body() -> int:
    return settings.WEBHOOK_MAX_BODY_BYTES


def per_minute() -> int:
    return settings.WEBHOOK_RATE_LIMIT


def tolerance() -> int:
    return settings.WEBHOOK_TOLERANCE_SECONDS


class TooLarge(Exception):
    pass


def read_body(stream, content_length: str | None) -> bytes:
    """The raw body, refused beyond the cap before it is read (a stated length) or as soon
    as the cap is passed (a chunked or lying sender)."""
    cap = max_body()
    try:
        stated = int(content_length or 0)
    except ValueError:
        stated = 0
    if stated > cap:
        raise TooLarge
    body = stream.read(cap + 1)
    if len(body) > cap:
        raise TooLarge
    return body


class Window:
    """Calls per key in the current minute, counted in this process (a fixed window).

    Used when there is no Redis: the embedded default's cache is the database, and counting
    there would add writes to every call. Each web process then allows the limit on its own.
    """

    def __init__(self):
        self.minute = -1
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def hit(self, key: str, minute: int) -> int:
        with self.lock:
            if minute != self.minute:
                self.minute, self.counts = minute, {}
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]


_window = Window()


def over_limit(hook: Hook, now: float | None = None) -> int:
    """0 while the key is within its calls per minute; else the seconds until the window ends.

    With Redis, a fixed one-minute window counted in the shared cache (one atomic INCR, so the
    limit holds across processes and machines). Written out rather than taken from
    django-ratelimit: the key is known only after the token lookup, and this is the whole of it.
    """
    now = time.time() if now is None else now
    minute = int(now // 60)
    if settings.REDIS_URL:
        key = f"hooks:rate:{hook.token}:{minute}"
        cache.add(key, 0, timeout=120)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=120)
            count = 1
    else:
        count = _window.hit(hook.token, minute)
    return 0 if count <= per_minute() else max(1, 60 * (minute + 1) - int(now))


def check(hook: Hook, body: bytes, headers: Mapping[str, str], now: float | None = None) -> webhooks.Callback:
    """The provider's reader's verdict on one call (raises webhooks.Rejected)."""
    try:
        secret = hook.secret.reveal() if hook.secret is not None else None
    except crypto.SecretUnavailable as e:
        raise webhooks.Rejected("The saved webhook secret can no longer be decrypted: save it again.") from e
    read = READERS[hook.credential.provider]
    return read(body, headers, secret, time.time() if now is None else now, tolerance())


def count_rejection(hook: Hook, reason: str) -> None:
    Hook.objects.filter(pk=hook.pk).update(
        rejected=F("rejected") + 1, last_rejected=timezone.now(), last_rejection=reason[:200]
    )


def store(hook: Hook, callback: webhooks.Callback) -> Event | None:
    """Store an accepted event and queue its processing once it is committed; None for a
    duplicate (same event id on the same key), which is dropped."""
    try:
        with transaction.atomic():
            event = Event.objects.create(
                hook=hook,
                event_id=callback.event_id[:200],
                kind=callback.kind[:60],
                external_id=callback.external_id[:200],
                signed=callback.signed,
                body=callback.body,
            )
            if "orm" in settings.Q_CLUSTER:
                # The database is the queue: the task row commits with the event, in one write.
                queue(event.pk)
            else:
                transaction.on_commit(lambda: queue(event.pk))
    except IntegrityError:
        return None
    return event


def queue(event_pk: int) -> None:
    # The event id only: the worker reads the rest from the database.
    async_task("hooks.process.process_event", event_pk, task_name=f"hook-event-{event_pk}", group="hooks")
