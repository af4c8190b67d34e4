"""The lease on a key: one worker at a time syncs it, and a dead worker's lease lapses fast.

A lease is short (lease(), 30 s) and a thread renews it every 10 s while the run lives, so
the lease outlives any single provider call (up to a minute with retries) without being
long: when a worker is killed, its renewals stop and its keys are free again within 30 s.
A renewal that finds the lease gone (another worker took the key after a stall longer than
the lease) tells the run to stop before it writes more.
"""

import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from providers.models import Credential

logger = logging.getLogger(__name__)


def lease() -> timedelta:
    """How long a key stays claimed without a renewal (30 s; tests shorten it)."""
    return timedelta(seconds=getattr(settings, "GENBOARD_LEASE_SECONDS", 30))


def renew_every() -> float:
    """Three renewals per lease: two may fail (a slow database) before it lapses."""
    return lease().total_seconds() / 3


class LeaseLost(Exception):
    """Another worker took over the key (our lease expired): stop without writing more."""


def claim(credential_id: int, token: uuid.UUID) -> bool:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return Credential.objects.filter(free, pk=credential_id).update(lease_until=now + lease(), lease_token=token) == 1


def renew(credential_id: int, token: uuid.UUID) -> bool:
    until = timezone.now() + lease()
    return Credential.objects.filter(pk=credential_id, lease_token=token).update(lease_until=until) == 1


def release(credential_id: int, token: uuid.UUID) -> None:
    Credential.objects.filter(pk=credential_id, lease_token=token).update(lease_until=None, lease_token=None)


class LeaseKeeper:
    """Renews a held lease from a daemon thread until stopped; `lost` says it was taken."""

    def __init__(self, credential_id: int, token: uuid.UUID, every: float | None = None):
        self.credential_id, self.token, self.every = credential_id, token, every or renew_every()
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{credential_id}", daemon=True)

    def __enter__(self) -> "LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        # Not joined for long: a renewal blocked on the database finishes on its own, and
        # then finds the lease released (a no-op).
        self._thread.join(timeout=1)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    renewed = renew(self.credential_id, self.token)
                except DatabaseError:
                    # A blip: the lease still has two renewals' worth of time.
                    logger.warning("Could not renew the lease of key %s; trying again.", self.credential_id)
                    close_old_connections()
                    continue
                if not renewed:
                    self.lost = True
                    return
        finally:
            # This thread's own database connection.
            close_old_connections()
            connection.close()
