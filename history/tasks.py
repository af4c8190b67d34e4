"""django-q2 entry points. Tasks get ids, never secrets, as arguments, and hand back plain
summaries: django-q2 pickles a task's return value into its Task row, where a model
instance (a Credential with its ciphertext) would outlive key rotation and reach the admin."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_q.tasks import async_task

from providers.models import Credential

from .models import Job, SyncRun
from .sync import sync_credential

# A key queued this long ago without its task starting is queued again.
REQUEUE_AFTER = timedelta(minutes=15)
DISPATCH_LIMIT = 1000


def due_credentials(now=None):
    """Keys with work to do now: usable, not paused, not leased or queued, and either due
    for a history read or holding unfinished jobs due for a poll."""
    now = now or timezone.now()
    due_jobs = Job.objects.filter(credential=OuterRef("pk"), next_poll__lte=now)
    return (
        Credential.objects.exclude(status__in=[Credential.Status.REJECTED, Credential.Status.REENTER])
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(enqueued__isnull=True) | Q(enqueued__lt=now - REQUEUE_AFTER))
        .filter(Q(next_sync__isnull=True) | Q(next_sync__lte=now) | Exists(due_jobs))
    )


def dispatch() -> int:
    """Run every minute by the schedule (history/migrations): one sync task per due key."""
    now = timezone.now()
    ids = list(due_credentials(now).order_by("next_sync").values_list("pk", flat=True)[:DISPATCH_LIMIT])
    Credential.objects.filter(pk__in=ids).update(enqueued=now)
    for pk in ids:
        async_task("history.tasks.sync_key", pk, task_name=f"sync-key-{pk}", group="sync")
    return len(ids)


def enqueue_sync(credential: Credential, trigger: str = SyncRun.Trigger.MANUAL) -> SyncRun:
    """Queue a sync of one key now ("Sync now", task import); the run shows its progress."""
    recent = timezone.now() - REQUEUE_AFTER
    active = credential.sync_runs.filter(state__in=[SyncRun.State.QUEUED, SyncRun.State.RUNNING], created__gt=recent)
    active = active.order_by("-created").first()
    if active is not None:
        return active
    run = SyncRun.objects.create(credential=credential, trigger=trigger)
    Credential.objects.filter(pk=credential.pk).update(enqueued=timezone.now())
    async_task("history.tasks.sync_key", credential.pk, run_id=run.pk, trigger=trigger, group="sync")
    return run


def sync_key(credential_id: int, run_id: int | None = None, trigger: str = SyncRun.Trigger.SCHEDULE) -> dict:
    """The worker's sync task: sync_credential(), reported as counts and a state only."""
    outcome = sync_credential(credential_id, run_id=run_id, trigger=trigger)
    if outcome is None:
        return {"credential": credential_id, "state": "gone"}
    run = SyncRun.objects.filter(pk=outcome.run.pk).values("pk", "state", "pages", "requests", "new", "updated").first()
    if run is None:  # pruned meanwhile (only the latest runs of a key are kept)
        return {"credential": credential_id, "state": outcome.run.state, "failed": bool(outcome.error)}
    return {"credential": credential_id, "run": run.pop("pk"), **run, "failed": bool(outcome.error)}
