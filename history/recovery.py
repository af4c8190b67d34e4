"""Picking up after a worker that died mid-run (kill -9, OOM, a lost machine).

A live run renews its key's lease every few seconds (history/lease.py) and releases it when
it ends, so a lease that has lapsed while still holding a token belongs to a run that will
never finish: its run is closed as "interrupted" (not left "running" forever) and the key is
freed for the next worker, which resumes the backfill from the cursor the dead run kept
saving. Rows are written a page per transaction, so the dead run left no half-written page.
"""

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from providers.models import Credential

from .models import SyncRun

INTERRUPTED_MESSAGE = "Interrupted: the worker stopped mid-run. The next run goes on from where this one stopped."


def recover(now: datetime | None = None) -> list[int]:
    """Close the runs of dead workers and free their keys; returns the freed keys' ids."""
    now = now or timezone.now()
    lapsed = Q(credential__lease_until__isnull=True) | Q(credential__lease_until__lt=now)
    # A run is "running" only while its worker holds the key's lease (set before the run
    # starts, released after it ends), so a running run without a live lease is orphaned.
    SyncRun.objects.filter(lapsed, state=SyncRun.State.RUNNING).update(
        state=SyncRun.State.INTERRUPTED, finished=now, message=INTERRUPTED_MESSAGE
    )
    dead = Credential.objects.filter(lease_token__isnull=False, lease_until__lt=now)
    ids = list(dead.values_list("pk", flat=True))
    if ids:
        # Conditional on the lease still being lapsed: a worker may have claimed one meanwhile.
        Credential.objects.filter(pk__in=ids, lease_until__lt=now).update(
            lease_until=None, lease_token=None, enqueued=None
        )
    return ids
