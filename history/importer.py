"""Jobs that enter by id: Apikley has no history list, so its tasks are imported by id."""

from django.utils import timezone

from providers.models import Credential

from .models import Job, SyncRun, Tombstone
from .tasks import enqueue_sync


def import_task_ids(credential: Credential, ids: list[str]) -> tuple[int, int]:
    """Store a pending job for each id not yet in the key's history and queue a sync that
    fetches their details. Returns (how many were new, how many were already there)."""
    # The owner asks for these ids by name: any they had removed come back.
    Tombstone.objects.filter(credential=credential, external_id__in=ids).delete()
    known = set(Job.objects.filter(credential=credential, external_id__in=ids).values_list("external_id", flat=True))
    now = timezone.now()
    fresh = [
        Job(
            credential=credential,
            provider=credential.provider,
            kind=Job.Kind.MUSIC,
            external_id=task_id,
            status=Job.Status.PENDING,
            created=now,
            imported=now,
            seen=now,
            next_poll=now,
            polling_since=now,
        )
        for task_id in ids
        if task_id not in known
    ]
    # ignore_conflicts: the same ids imported twice at once still make one row each.
    Job.objects.bulk_create(fresh, ignore_conflicts=True)
    if fresh:
        enqueue_sync(credential, SyncRun.Trigger.IMPORT)
    return len(fresh), len(known)
